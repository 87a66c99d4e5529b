"""Factories for intake records. Tests ask for what matters to them and let these fill the rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from clinic.models import Patient
from intake.models import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    Intake,
    Onset,
    TreatmentOutcome,
    Units,
)
from intake.questionnaire import QUESTION_STEPS, SCREENING, SYMPTOMS, TREATMENTS


class ConsentDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentDocument
        django_get_or_create = ("kind",)

    kind = ConsentDocument.Kind.DRY_NEEDLING
    title = factory.LazyAttribute(lambda o: ConsentDocument.Kind(o.kind).label)


class ConsentVersionFactory(factory.django.DjangoModelFactory):
    """A published version (pass published_at=None for a draft wording)."""

    class Meta:
        model = ConsentVersion

    document = factory.SubFactory(ConsentDocumentFactory)
    number = 1
    body = "Dry needling may cause soreness, bruising, bleeding, fainting or infection.\n\nYou may stop at any time."
    published_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


def publish_consents() -> list[ConsentVersion]:
    """Both consent documents, each with version 1 in force."""
    return [
        ConsentVersionFactory(document=ConsentDocumentFactory(kind=kind))
        for kind in ConsentDocument.Kind
    ]


def complete_answers(patient: Patient, **overrides) -> dict:
    """Answers to every question, as the model stores them: a patient with no screening flag."""
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
        "long_hours_standing": True,
        "tight_calves": True,
        "unsupportive_footwear": False,
        **{t.field: TreatmentOutcome.NOT_TRIED for t in TREATMENTS},
        **{q.field: False for q in SCREENING},
    }
    return answers | overrides


class IntakeFactory(factory.django.DjangoModelFactory):
    """An empty draft of `patient` (see `draft_with_answers` and `submitted_intake`)."""

    class Meta:
        model = Intake

    patient = factory.SubFactory("tests.factories.PatientFactory")
    started_by = factory.LazyAttribute(lambda o: o.patient.user)


def draft_with_answers(patient: Patient, **overrides) -> Intake:
    """A draft with every step answered and done, ready to be signed and submitted."""
    return IntakeFactory(
        patient=patient,
        steps_done=[step.slug for step in QUESTION_STEPS],
        **complete_answers(patient, **overrides),
    )


def submitted_intake(patient: Patient, *, at: dt.datetime | None = None, **overrides) -> Intake:
    at = at or timezone.now() - dt.timedelta(days=2)
    return IntakeFactory(
        patient=patient,
        status=Intake.Status.SUBMITTED,
        submitted_at=at,
        submitted_by=patient.user,
        created_at=at - dt.timedelta(hours=1),
        steps_done=[step.slug for step in QUESTION_STEPS],
        **complete_answers(patient, **overrides),
    )


def sign(patient: Patient, versions: list[ConsentVersion]) -> None:
    for version in versions:
        ConsentSignature.objects.create(
            patient=patient,
            version=version,
            signed_name=patient.full_name,
            method=ConsentSignature.Method.ONLINE,
        )


def as_post_data(answers: dict) -> dict:
    """Model values as a browser would post them."""
    data = {}
    for name, value in answers.items():
        if value is None:
            continue
        if hasattr(value, "pk"):
            value = value.pk
        data[name] = str(value)
    return data


def step_data(patient: Patient, slug: str, *, revision: int, action: str = "next", **overrides):
    """The POST of one step with complete answers (plus `overrides`; None removes a field)."""
    step = next(s for s in QUESTION_STEPS if s.slug == slug)
    answers = complete_answers(patient)
    values = {name: answers.get(name) for name in step.fields} | overrides
    return as_post_data(values) | {"revision": str(revision), "action": action}
