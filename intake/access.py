"""Who may see which intake records: built on `clinic.access`, so the rules of who sees which
patient are written once. Views fetch records only through these helpers."""

from __future__ import annotations

from clinic.access import get_or_404, role_required, visible_patients
from clinic.models import Role, User
from intake.questionnaire.models import Intake

# Who reads a questionnaire's answers: the patient, and the clinicians who decide on their
# care (and their manager). The front desk needs only to know whether a questionnaire is
# missing, started, submitted or waiting for review (minimum necessary): never its answers,
# nor the screening reasons, except what they type themselves while filling it in by phone.
ANSWER_READERS = frozenset({Role.PATIENT, Role.PRACTITIONER, Role.MANAGER})
answer_readers_required = role_required(*ANSWER_READERS)


def sees_answers(user: User) -> bool:
    return user.role in ANSWER_READERS


def get_visible_intake(user: User, pk: int) -> Intake:
    """An intake of a patient `user` may see (their own, for a patient); 404 otherwise, so
    that nobody learns whether another patient's record exists."""
    intakes = Intake.objects.select_related("patient", "preferred_location").filter(
        patient__in=visible_patients(user)
    )
    return get_or_404(intakes, "No such questionnaire among yours.", pk=pk)
