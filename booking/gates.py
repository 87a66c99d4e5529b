"""What booking asks intake: the practitioner's decision is the gate, and the questionnaire's
state decides some messages. Booking calls these; intake never imports booking."""

from __future__ import annotations

from dataclasses import replace

from django.urls import reverse

from booking import intake_status
from clinic.models import Patient
from intake import selectors as intake


def course_gate(patient: Patient) -> intake.CourseGate:
    """Whether a dry-needling course may be booked for `patient`, why not, and the
    prescription (sessions, minutes, interval) when it may.

    Intake decides from the latest signed state of the latest assessment; booking adds that
    one assessment prescribes one course — another course needs a new assessment."""
    from booking.models import Course

    gate = intake.course_gate(patient)
    if (
        gate.allowed
        and Course.objects.filter(assessment_id=gate.prescription.assessment_id).exists()
    ):
        return replace(
            gate,
            allowed=False,
            reason="The course this assessment prescribed is already booked; a further course "
            "needs a re-assessment.",
            prescription=None,
        )
    return gate


def intake_submitted(patient_ids) -> dict[int, bool]:
    """Whether each patient has a submitted intake questionnaire (asked through
    booking.intake_status, which reads intake's overview for the front desk too)."""
    overviews = intake_status.intake_overview(patient_ids)
    return {pk: overview.submitted for pk, overview in overviews.items()}


def intake_form_path(patient: Patient) -> str:
    """Where a patient fills in their questionnaire."""
    return reverse("intake:my_intake")


def aftercare_checkin_path(appointment) -> str | None:
    """The password-free path of the 24–48 h after-care check-in of a completed needling
    session of a course (None for anything else)."""
    from booking.links import checkin_path
    from intake.models import CheckInKind

    return checkin_path(appointment, CheckInKind.AFTER_CARE)
