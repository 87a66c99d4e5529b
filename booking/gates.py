"""What booking asks intake before it books: the practitioner's decision is the gate."""

from __future__ import annotations

from booking import intake_status
from clinic.models import Patient


def course_gate(patient: Patient):
    """Intake's `CourseGate` for `patient`: whether a dry-needling course may be booked,
    why not, and the prescription (sessions, minutes, interval) when it may."""
    from intake.selectors import course_gate as intake_course_gate

    return intake_course_gate(patient)


def course_gate_if_known(patient: Patient):
    """Like `course_gate`, but None while intake cannot answer (its side not deployed yet),
    so that pages which only mention courses still work."""
    try:
        return course_gate(patient)
    except ModuleNotFoundError as error:
        if error.name in {"intake", "intake.selectors"}:
            return None
        raise


def intake_submitted(patient_ids) -> dict[int, bool] | None:
    """Whether each patient has a submitted intake questionnaire, or None while the intake app
    does not offer that question yet (asked through booking.intake_status, the one module
    that reads intake's overview)."""
    overviews = intake_status.intake_overview(patient_ids)
    if overviews is None:
        return None
    return {pk: overview.submitted for pk, overview in overviews.items()}


def intake_form_path(patient: Patient) -> str:
    """Where a patient fills in their questionnaire (their home page until intake has one)."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("intake:my_intake")
    except NoReverseMatch:
        return reverse("clinic:patient_home")


def aftercare_checkin_path(appointment) -> str | None:
    """The 24–48 h after-care check-in for a needling session, once outcomes (issue 8)
    offers one; until then the after-care email goes without the link."""
    return None
