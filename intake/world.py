"""Intake's part of the clinic's world (see `clinic.world`): a patient's complete answers to
the questionnaire, for the demo and the tests alike."""

from __future__ import annotations

from decimal import Decimal

from clinic.models import Patient
from intake.questionnaire.models import Onset, TreatmentOutcome, Units
from intake.questionnaire.questions import SCREENING, SYMPTOMS, TREATMENTS


def complete_answers(patient: Patient, **overrides) -> dict:
    """Answers to every question, as the model stores them: twelve weeks of heel pain on the
    right, every symptom, nothing tried yet and no screening flag; `overrides` change some."""
    answers = {
        "phone": patient.phone,
        "email": patient.email,
        "emergency_contact_name": "Sam Miles",
        "emergency_contact_phone": "416-555-0191",
        "preferred_location": patient.locations.first(),
        "affected_foot": "right",
        "weeks_of_pain": 12,
        "onset": Onset.GRADUAL,
        "had_before": False,
        **{q.field: True for q in SYMPTOMS},
        "pain_first_steps": 7,
        "pain_average": 5,
        "pain_worst": 8,
        "walking_minutes": 20,
        "standing_hours": Decimal("6.5"),
        "activity_1": "Walking the dog",
        "activity_1_score": 4,
        "goals": "Walk the dog without pain",
        "measurement_units": Units.METRIC,
        "height_cm": Decimal("170.00"),
        "weight_kg": Decimal("80.00"),
        "foot_type": "flat",
        "high_impact_activity": False,
        "tight_calves": True,
        "unsupportive_footwear": False,
        **{t.field: TreatmentOutcome.NOT_TRIED for t in TREATMENTS},
        **{q.field: False for q in SCREENING},
    }
    return answers | overrides
