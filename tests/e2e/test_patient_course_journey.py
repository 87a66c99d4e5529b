"""Journey 4, on a phone set to Pacific time: a patient with a booked course at Largo (Maryland)
sees the six sessions in Largo's time, downloads the course's calendar file, answers the
pre-session check-in, and cancels — refused inside Largo's notice period (with the phone
number), accepted outside it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services
from booking.availability import aware
from booking.models import Appointment, Course, Status
from clinic.models import Holiday, Location, Practitioner
from clinic.templatetags.clinic_time import at_location
from intake.clinical.models import OutcomeSurvey, SurveyKind
from tests.e2e.conftest import (
    PHONE,
    a_patient_ready_to_assess,
    check_accessibility,
    log_in_as_patient,
    no_browser_errors,
    screenshot,
)
from tests.factories import PASSWORD
from tests.intake.factories import signed_assessment

pytestmark = pytest.mark.django_db(transaction=True)

# Who works at Largo on which weekday in the demo (Sunday: closed).
LARGO_WEEK = {0: "l.kim", 1: "d.okafor", 2: "l.kim", 3: "d.okafor", 4: "l.kim", 5: "l.kim"}
NOTICE_HOURS = 96  # Largo asks for four days' notice in this journey


def _book_a_course_starting_soon(patient, largo: Location) -> Course:
    """Six weekly sessions from the first day Largo is open after today (at most two days
    ahead), at the first morning time free on all six weeks."""
    holidays = set(Holiday.objects.filter(location=largo).values_list("date", flat=True))
    today = timezone.now().astimezone(largo.zone).date()
    day = next(
        today + dt.timedelta(days=n)
        for n in range(1, 9)
        if (today + dt.timedelta(days=n)).weekday() in LARGO_WEEK
        and not {today + dt.timedelta(days=n, weeks=w) for w in range(6)} & holidays
    )
    practitioner = Practitioner.objects.get(user__email=f"{LARGO_WEEK[day.weekday()]}@example.org")
    for wall in (dt.time(11), dt.time(10, 30), dt.time(10), dt.time(9, 30), dt.time(9)):
        choices = [
            services.SessionChoice(
                n + 1, largo, practitioner, aware(day + dt.timedelta(weeks=n), wall, largo.zone)
            )
            for n in range(6)
        ]
        try:
            return services.book_course(patient=patient, choices=choices, actor=practitioner.user)
        except services.BookingError:
            continue
    raise AssertionError(f"No free morning at Largo on {day} for six weeks")


@pytest.fixture
def patient_with_a_course(demo):
    largo = Location.objects.get(name="Largo")
    largo.cancellation_notice_hours = NOTICE_HOURS
    largo.save(update_fields=["cancellation_notice_hours"])
    patient = a_patient_ready_to_assess(
        largo,
        user__first_name="Rosa",
        user__last_name="Diaz",
        user__email="rosa.diaz@example.org",
        phone="301-555-0142",
    )
    signed_assessment(patient, Practitioner.objects.get(user__email="d.okafor@example.org"))
    return _book_a_course_starting_soon(patient, largo)


def test_the_patient_follows_their_course_on_a_phone(patient_with_a_course, open_page):
    course = patient_with_a_course
    sessions = list(course.appointments.select_related("location").order_by("session_number"))
    first, second = sessions[0], sessions[1]
    # The phone is set to Vancouver time; the clinic's times are Largo's.
    page = open_page(PHONE, timezone_id="America/Vancouver")
    log_in_as_patient(page, "rosa.diaz@example.org", PASSWORD)
    page.get_by_role("heading", name="Hello, Rosa").wait_for()

    page.goto("/appointments/")
    page.get_by_role("heading", name="My appointments").wait_for()
    check_accessibility(page)
    for session in sessions:
        when = at_location(session.starts_at, session.location)
        assert when.endswith((" EST", " EDT")), when
        page.get_by_role("link", name=when).wait_for()
        page.get_by_text(f"session {session.session_number} of 6").wait_for()
    screenshot(page, "patient-course-phone")

    # The whole course as one calendar file.
    page.get_by_role("link", name=at_location(first.starts_at, first.location)).click()
    # The appointment's page has loaded (axe on a half-loaded page finds a document without
    # a <head>, which is not what the patient sees).
    page.get_by_role("link", name="All sessions of the course (.ics)").wait_for()
    check_accessibility(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="All sessions of the course (.ics)").click()
    calendar = open(download.value.path(), encoding="utf-8").read()
    assert calendar.startswith("BEGIN:VCALENDAR")
    assert calendar.count("BEGIN:VEVENT") == 6
    assert "TZID=America/New_York" in calendar
    for session in sessions:
        local = session.starts_at.astimezone(first.location.zone)
        assert f"DTSTART;TZID=America/New_York:{local:%Y%m%dT%H%M%S}" in calendar

    # Inside the notice period: no cancelling online, the phone number instead.
    page.get_by_text(f"It is less than {NOTICE_HOURS} hours before your appointment").wait_for()
    assert page.get_by_role("link", name="Cancel").count() == 0
    page.goto(f"/appointments/{first.pk}/cancel/")
    page.get_by_text("It is too late to cancel online").wait_for()
    assert page.get_by_role("link", name=first.location.phone).is_visible()
    check_accessibility(page)

    # The pre-session check-in for the first session, with the keyboard.
    page.goto("/")
    page.get_by_role("button", name="Show navigation").click()  # the phone's menu
    page.get_by_role("link", name="My progress").click()
    page.get_by_role("heading", name="Your progress").wait_for()
    check_accessibility(page)
    page.get_by_role("link", name="Answer now").first.click()
    page.get_by_role("heading", name="session 1").wait_for()
    page.locator("#id_pain_first_steps_6").focus()
    page.keyboard.press("Space")
    page.locator("#id_pain_average_4").check()
    page.locator("input[name=walking_normally][value=False]").check()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Your practitioner will see your answers before your session").wait_for()
    check_accessibility(page)
    answer = OutcomeSurvey.objects.get(patient=course.patient, kind=SurveyKind.BEFORE_SESSION)
    assert (answer.appointment_id, answer.pain_first_steps, answer.pain_average) == (
        first.pk,
        6,
        4,
    )
    assert answer.walking_normally is False

    # Outside the notice period: the second session is cancelled online.
    page.goto(f"/appointments/{second.pk}/")
    page.get_by_role("link", name="Cancel").click()
    page.get_by_role("heading", name="Cancel your appointment").wait_for()
    check_accessibility(page)
    # No reason given: the error summary takes the focus and links to the field.
    page.get_by_role("button", name="Cancel the appointment").press("Enter")
    page.get_by_text("Please give a reason").first.wait_for()
    assert page.evaluate("document.activeElement.id") == "form-errors"
    assert page.locator("#form-errors a").get_attribute("href") == "#id_reason"
    check_accessibility(page)
    reason = page.get_by_label("Why are you cancelling?")
    reason.focus()
    page.keyboard.type("Away for work that week")
    page.keyboard.press("Enter")
    page.get_by_text("Your appointment is cancelled.").wait_for()
    second = Appointment.objects.get(pk=second.pk)
    assert second.status == Status.CANCELLED and not second.late_cancellation
    assert Appointment.objects.get(pk=first.pk).status == Status.CONFIRMED
    no_browser_errors(page)
