"""Django's door to intake's models, not a place to import them from.

Intake is one Django app (one label, one set of migrations and tables) in two rooms: the
patient's questionnaire and consent (`intake/questionnaire/models/`) and the practitioners'
clinical records (`intake/clinical/models/`). Django looks for an app's models in
`<app>/models.py`, so this module imports every concrete model of both rooms; code imports them
from their room.
"""

from __future__ import annotations

from intake.clinical.models import (
    AfterCareResponse,
    AssessmentAmendment,
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SessionNoteAmendment,
)
from intake.questionnaire.models import ConsentDocument, ConsentSignature, ConsentVersion, Intake

__all__ = [
    # The questionnaire room.
    "ConsentDocument",
    "ConsentVersion",
    "ConsentSignature",
    "Intake",
    # The clinical room.
    "AssessmentNote",
    "AssessmentAmendment",
    "SessionNote",
    "SessionNoteAmendment",
    "OutcomeSurvey",
    "AfterCareResponse",
]
