"""Journey 3, at a desk: Daniel Okafor (Rockville Mon/Wed/Fri, Largo Tue/Thu) assesses a new
patient, judges dry needling appropriate (6 weekly sessions), signs, and books the course —
moving the one session that clashes with another patient to Largo on the Tuesday."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services
from booking.availability import aware
from booking.models import Appointment, Course, Status
from clinic.demo import DEMO_PASSWORD
from clinic.models import Holiday, Location, Patient, Practitioner, Service, ServiceKind
from intake.clinical.models import AssessmentNote
from tests.e2e.conftest import (
    a_patient_ready_to_assess,
    check_accessibility,
    no_browser_errors,
    screenshot,
    start_an_assessment_note,
)

pytestmark = pytest.mark.django_db(transaction=True)

MONDAY, TUESDAY = 0, 1
AT = dt.time(15, 30)


def _first_monday(rockville: Location, largo: Location) -> dt.date:
    """A Monday at least a week ahead from which six Mondays (and the Tuesday after the
    third) are ordinary working days at both locations."""
    day = timezone.localdate() + dt.timedelta(days=7)
    day += dt.timedelta(days=(MONDAY - day.weekday()) % 7)
    holidays = set(Holiday.objects.filter(location__in=[rockville, largo]).values_list("date"))
    while any(((day + dt.timedelta(weeks=n)),) in holidays for n in range(7)):
        day += dt.timedelta(weeks=1)
    return day


@pytest.fixture
def new_patient(demo):
    """Sam Ortiz registered at Rockville, with a submitted questionnaire (no safety flags)
    and the current consents signed."""
    return a_patient_ready_to_assess(
        Location.objects.get(name="Rockville"),
        user__first_name="Sam",
        user__last_name="Ortiz",
        user__email="sam.ortiz@example.org",
    )


def test_the_practitioner_assesses_signs_and_books_the_course_across_two_locations(
    new_patient, staff_page
):
    rockville, largo = Location.objects.get(name="Rockville"), Location.objects.get(name="Largo")
    okafor = Practitioner.objects.get(user__email="d.okafor@example.org")
    first = _first_monday(rockville, largo)
    third = first + dt.timedelta(weeks=2)
    # Another patient's re-assessment already has Daniel at 3:30 PM on the third Monday.
    services.book_appointment(
        patient=Patient.objects.get(last_name="Côté"),
        location=rockville,
        practitioner=okafor,
        service=Service.objects.get(kind=ServiceKind.REASSESSMENT),
        starts_at=aware(third, AT, rockville.zone),
        minutes=30,
        actor=okafor.user,
    )

    page = staff_page("d.okafor@example.org")
    page.goto(f"/intake/patients/{new_patient.pk}/")
    page.get_by_role("heading", name="Sam Ortiz").wait_for()
    check_accessibility(page)
    start_an_assessment_note(page)
    page.locator("input[name=diagnosis][value=plantar_fasciitis]").check()
    page.locator("input[name=diagnosis_side][value=right]").check()
    page.locator("input[name=needling_appropriate][value=True]").check()
    page.get_by_label("Reason for the decision").fill("Trigger points in both calf muscles.")
    page.get_by_label("6 sessions").check()
    page.get_by_label("30 minutes").check()
    assert page.get_by_label("Weekly").is_checked()  # the default frequency
    page.get_by_text("Draft saved at").wait_for()
    page.get_by_role("button", name="Save and sign…").click()
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_label("Your password").press("Enter")  # the keyboard signs too
    page.get_by_text("Signed and locked").wait_for()
    assert AssessmentNote.objects.get(patient=new_patient).is_signed

    # The practitioner's home offers the next step.
    page.goto("/practitioner/")
    check_accessibility(page)
    page.get_by_role("link", name="Book the course for Sam Ortiz").click()
    page.get_by_role("heading", name="Book a dry-needling course for Sam Ortiz").wait_for()
    page.get_by_text("6 sessions of 30 minutes").wait_for()
    page.get_by_label("Date").fill(first.isoformat())
    page.get_by_label("Time").fill(AT.strftime("%H:%M"))
    page.get_by_label("Location").select_option(label="Rockville")
    page.get_by_label("Practitioner").select_option(label=okafor.name)
    page.get_by_role("button", name="Propose the sessions").click()

    # The third Monday clashes; nothing can be booked until it moves.
    page.get_by_text("Move the sessions marked in yellow").wait_for()
    check_accessibility(page)
    assert page.locator("tr.table-warning").count() == 1
    assert page.get_by_role("button", name="Book all 6 sessions").count() == 0
    screenshot(page, "course-conflict")
    page.get_by_label("Session 3 location").select_option(label="Largo")
    page.get_by_label("Session 3 date").fill((third + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Check again").click()
    page.get_by_role("button", name="Book all 6 sessions").wait_for()
    assert page.locator("tr.table-success").count() == 6
    check_accessibility(page)
    # Booking with the keyboard alone.
    page.get_by_role("button", name="Book all 6 sessions").focus()
    page.keyboard.press("Enter")
    page.get_by_text("All 6 sessions are booked.").wait_for()
    check_accessibility(page)
    screenshot(page, "course-booked")

    course = Course.objects.get(patient=new_patient)
    sessions = list(course.appointments.order_by("session_number"))
    assert [a.status for a in sessions] == [Status.CONFIRMED] * 6
    assert [a.location.name for a in sessions] == ["Rockville"] * 2 + ["Largo"] + ["Rockville"] * 3
    assert [a.local_starts_at.weekday() for a in sessions] == [MONDAY] * 2 + [TUESDAY] + [
        MONDAY
    ] * 3
    assert {a.local_starts_at.time() for a in sessions} == {AT}
    # The clash is still there, untouched.
    assert Appointment.objects.filter(patient__last_name="Côté", practitioner=okafor).exists()
    no_browser_errors(page)
