"""Who may see which intake records: built on `clinic.access`, so the rules of who sees which
patient are written once. Views fetch records only through these helpers."""

from __future__ import annotations

from django.http import Http404

from clinic.access import visible_patients
from clinic.models import User
from intake.models import Intake


def get_visible_intake(user: User, pk: int) -> Intake:
    """An intake of a patient `user` may see (their own, for a patient); 404 otherwise, so
    that nobody learns whether another patient's record exists."""
    try:
        return Intake.objects.select_related("patient", "preferred_location").get(
            pk=pk, patient__in=visible_patients(user)
        )
    except Intake.DoesNotExist:
        raise Http404("No such questionnaire among yours.") from None
