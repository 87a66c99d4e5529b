"""The questionnaire room's models: consent (`consent.py`) and the patient's questionnaire
(`intake.py`). Import them from here: `from intake.questionnaire.models import Intake`."""

from __future__ import annotations

from intake.questionnaire.models.consent import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    ConsentVersionQuerySet,
    normalise_name,
    signature_matches,
)
from intake.questionnaire.models.intake import (
    HEIGHT_RANGE_CM,
    MAX_WALKING_MINUTES,
    SCREENING_FIELDS,
    TREATMENT_RESULTS,
    WEIGHT_RANGE_KG,
    Foot,
    FootType,
    Intake,
    IntakeQuerySet,
    Onset,
    TreatmentOutcome,
    Units,
)

__all__ = [
    "ConsentDocument",
    "ConsentVersionQuerySet",
    "ConsentVersion",
    "normalise_name",
    "signature_matches",
    "ConsentSignature",
    "Foot",
    "Onset",
    "FootType",
    "TreatmentOutcome",
    "TREATMENT_RESULTS",
    "Units",
    "HEIGHT_RANGE_CM",
    "WEIGHT_RANGE_KG",
    "MAX_WALKING_MINUTES",
    "SCREENING_FIELDS",
    "IntakeQuerySet",
    "Intake",
]
