"""Everything booking asks intake, in one place: the practitioner's decision (the gate of a
course), each patient's questionnaire, review and consent status. Booking calls these; intake
never imports booking. Tests replace intake's answers here. Where intake's pages are is in
`booking/intake_links.py`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from clinic.models import Patient
from intake.clinical import selectors as clinical
from intake.clinical import services as intake_services
from intake.questionnaire import selectors as intake

COURSE_ALREADY_BOOKED = (
    "A course has already been booked from this assessment; a further course needs a re-assessment."
)


def course_gate(patient: Patient) -> clinical.CourseGate:
    """Whether a dry-needling course may be booked for `patient`, why not, and the
    prescription (sessions, minutes, interval) when it may.

    Intake decides from the latest signed state of the latest assessment; booking adds that
    one assessment prescribes one course — another course needs a new assessment."""
    from booking.models import Course

    gate = clinical.course_gate(patient)
    if (
        gate.allowed
        and Course.objects.filter(assessment_id=gate.prescription.assessment_id).exists()
    ):
        return replace(
            gate,
            allowed=False,
            reason=COURSE_ALREADY_BOOKED,
            prescription=None,
        )
    return gate


def lock_prescription(assessment_id: int) -> None:
    """Hold the assessment that prescribes a course until the transaction ends, so that two
    people booking its course at once take turns (`services.book_course`)."""
    intake_services.lock_assessment(assessment_id)


def needling_gate(patient: Patient) -> clinical.CourseGate:
    """Intake's decision alone, without booking's one-course-per-assessment rule: whether
    dry needling is appropriate for `patient` now (latest signed assessment, no screening
    answer waiting for review). A session of a course already booked is booked again only
    while it says so."""
    return clinical.course_gate(patient)


IntakeOverview = intake.IntakeOverview


def intake_overview(patient_ids: Iterable[int]) -> dict[int, IntakeOverview]:
    """{patient id: overview} for every patient asked about, in a fixed number of queries."""
    return intake.intake_overview(list(patient_ids))


def visit_is_recorded(appointment_id: int) -> bool:
    """Whether a signed clinical note records the visit (so it took place)."""
    return clinical.visit_has_signed_note(appointment_id)


def consent_is_current(patient: Patient) -> bool:
    """Whether `patient` signed the current version of every consent document."""
    return intake.consent_is_current(patient)


def sees_intake_answers(user) -> bool:
    """Whether `user` may read questionnaire answers, screening reasons included (the front
    desk sees only that a questionnaire is done or waits for review)."""
    from intake.access import sees_answers

    return sees_answers(user)


def intake_submitted(patient_ids) -> dict[int, bool]:
    """Whether each patient has a submitted intake questionnaire."""
    overviews = intake_overview(patient_ids)
    return {pk: overview.submitted for pk, overview in overviews.items()}
