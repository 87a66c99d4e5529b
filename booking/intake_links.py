"""Where intake's pages are, for booking's pages and emails: a patient's chart, the desk's
consent page, note pages, the questionnaire and the after-care survey; and, the other way, where
an appointment's page is for intake's counter consent and where a prescribed course stands for
intake's signed note and chart. Booking's questions to intake (may a
course be booked, is the questionnaire done) are in `booking/gates.py`; this module only builds
addresses. Tests replace a link here."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from clinic.models import Patient


def intake_url(name: str, patient_pk: int, **query) -> str:
    """The URL of intake's page `name` for a patient (`counter_consent`, `patient_chart`,
    `assessment_start`, `session_note_start`), with query parameters."""
    url = reverse(f"intake:{name}", args=[patient_pk])
    query = {key: value for key, value in query.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url


def intake_form_path(patient: Patient) -> str:
    """Where a patient fills in their questionnaire."""
    return reverse("intake:my_intake")


def aftercare_survey_path(appointment) -> str | None:
    """The password-free path of the 24–48 h after-care survey of a completed needling
    session of a course (None for anything else)."""
    from booking.notifications.links import survey_path
    from intake.clinical.models import SurveyKind

    return survey_path(appointment, SurveyKind.AFTER_CARE)


def appointment_page_for_intake(patient_id: int, appointment_id: int) -> str | None:
    """The page of appointment `appointment_id` if it is one of the patient's (else None), for
    the counter consent to return to the check-in; registered in BookingConfig.ready()."""
    from booking.models import Appointment

    if not Appointment.objects.filter(pk=appointment_id, patient_id=patient_id).exists():
        return None
    return reverse("booking:appointment_detail", args=[appointment_id])


def course_for_intake(patient_id: int, assessment_id: int):
    """Where the course prescribed by the patient's assessment `assessment_id` stands
    (`intake.clinical.selectors.CourseInCalendar`): the page that books the patient's course
    and, once booked, the course's page, its planned sessions and the next one still to come.
    Two queries; registered in BookingConfig.ready()."""
    from booking.models import Course, Status
    from intake.clinical.selectors import CourseInCalendar

    book_url = reverse("booking:course_book", args=[patient_id])
    course = Course.objects.filter(patient_id=patient_id, assessment_id=assessment_id).first()
    if course is None:
        return CourseInCalendar(book_url=book_url)
    upcoming = (
        course.appointments.filter(
            status__in=[Status.REQUESTED, Status.CONFIRMED, Status.CHECKED_IN],
            ends_at__gt=timezone.now(),
        )
        .select_related("location")
        .order_by("starts_at")
        .first()
    )
    return CourseInCalendar(
        book_url=book_url,
        course_url=reverse("booking:course_detail", args=[course.pk]),
        course_id=course.pk,
        sessions_planned=course.sessions_planned,
        next_starts_at=upcoming.starts_at if upcoming else None,
        next_location=upcoming.location if upcoming else None,
    )
