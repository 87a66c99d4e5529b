"""Each email in the location's voice: its name, address and phone, the times in the
location's own zone with the abbreviation (right across a daylight-saving change), and what
that message must say; subject, plain text and HTML, with the invite where one belongs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import dateformat, timezone

from booking import notifications, services
from booking.models import Notification, Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_placed_hold
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture(autouse=True)
def _site(settings, clinic):
    settings.SITE_URL = "https://booking.example.org"
    settings.CLINIC_NAME = "Stride Clinics"
    settings.DEFAULT_FROM_EMAIL = "Stride Clinics <appointments@example.org>"
    location = clinic.location
    location.street_address = "1590 Bayview Avenue"
    location.postal_code = "M4G 3B5"
    location.phone = "416-555-0134"
    location.email = "leaside@example.org"
    location.save()


def _send(kind: str, *, now: dt.datetime | None = None):
    """Send every due message and return the one of `kind`."""
    row = Notification.objects.filter(kind=kind).latest("id")
    notifications.send_due(worker="test", now=max(now or timezone.now(), row.send_after))
    matches = [
        m
        for m in mail.outbox
        if m.extra_headers["Message-ID"].startswith(f"<notification-{row.pk}.")
    ]
    assert len(matches) == 1, [m.subject for m in mail.outbox]
    message = matches[0]
    html = next(content for content, mimetype in message.alternatives if mimetype == "text/html")
    return message, message.body, html


def _local(appointment, fmt="D j M Y, g:i A T") -> str:
    return dateformat.format(appointment.starts_at.astimezone(appointment.location.zone), fmt)


def _calendar_methods(message) -> list[str]:
    return [
        part.get_param("method")
        for part in message.attachments
        if not isinstance(part, tuple) and part.get_content_type() == "text/calendar"
    ]


def _in_the_locations_voice(message, text, html):
    assert message.from_email == "Stride Clinics Leaside <appointments@example.org>"
    assert message.reply_to == ["leaside@example.org"]
    for body in (text, html):
        assert "1590 Bayview Avenue" in body and "416-555-0134" in body
        assert "Stride Clinics Leaside" in body


def test_the_confirmation_gives_time_place_practitioner_links_and_an_invite(book, patient):
    appointment = book(patient)
    message, text, html = _send(Kind.CONFIRMED)
    when = _local(appointment)
    assert message.subject == f"Confirmed: Initial assessment, {when} at Leaside"
    assert message.to == [patient.email]
    _in_the_locations_voice(message, text, html)
    for body in (text, html):
        assert when in body
        assert appointment.practitioner.name in body
        assert f"https://booking.example.org/appointments/{appointment.pk}/link/" in body
        assert "https://booking.example.org/intake/me/" in body  # the intake questionnaire
    assert "Hello Jordan" in text and "Hello Jordan" in html
    assert _calendar_methods(message) == ["REQUEST"]


def test_times_are_the_locations_own_across_a_daylight_saving_change(clinic, patient, book):
    zone = clinic.location.zone
    change = _next_clock_change(zone, clinic.location.today())
    day = change + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    starts_at = dt.datetime.combine(day, dt.time(10), zone)
    booked_at = max(
        timezone.now(), dt.datetime.combine(change - dt.timedelta(days=4), dt.time(12), zone)
    )
    appointment = book(patient, starts_at, now=booked_at)
    then, later = (
        dateformat.format(moment.astimezone(zone), "T") for moment in (booked_at, starts_at)
    )
    assert then != later  # booked in EST for an EDT appointment, or the other way round
    message, text, html = _send(Kind.CONFIRMED, now=booked_at)
    expected = dateformat.format(starts_at, "D j M Y") + f", 10:00 AM {later}"
    assert expected in message.subject and expected in text and expected in html
    assert appointment.starts_at == starts_at


def _next_clock_change(zone, after: dt.date) -> dt.date:
    day = after
    while True:
        noon = dt.datetime.combine(day, dt.time(12), zone)
        next_noon = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(12), zone)
        if noon.utcoffset() != next_noon.utcoffset():
            return day + dt.timedelta(days=1)
        day += dt.timedelta(days=1)


def test_a_request_received_says_the_front_desk_will_confirm(clinic, patient):
    hold = a_placed_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    appointment = services.request_appointment(hold=hold, actor=patient.user)
    message, text, html = _send(Kind.REQUEST_RECEIVED)
    assert message.subject == f"Request received: Initial assessment, {_local(appointment)}"
    assert "while the front desk confirms it" in text and "while the front desk confirms it" in html
    _in_the_locations_voice(message, text, html)
    assert _calendar_methods(message) == []  # no invite until the time is confirmed


def test_a_reminder_repeats_the_appointment_and_its_manage_link(book, patient):
    appointment = book(patient)
    reminder = appointment.notifications.get(kind=Kind.REMINDER, reminder_hours=24)
    notifications.send_due(worker="test", now=timezone.now())
    mail.outbox.clear()
    message, text, html = _send(Kind.REMINDER, now=reminder.send_after)
    assert message.subject == f"Reminder: Initial assessment, {_local(appointment)}"
    assert "turn them off" in text
    assert f"/appointments/{appointment.pk}/link/" in html
    _in_the_locations_voice(message, text, html)


def test_a_move_says_from_when_to_when_and_updates_the_invite(book, patient, front_desk):
    appointment = book(patient)
    was = _local(appointment)
    services.reschedule_appointment(
        appointment, starts_at=appointment.starts_at + dt.timedelta(days=1), actor=front_desk
    )
    appointment.refresh_from_db()
    message, text, html = _send(Kind.RESCHEDULED)
    now = _local(appointment)
    assert message.subject == f"Moved: your initial assessment is now {now}"
    assert f"Was:   {was} at Leaside" in text
    assert was in html and now in html
    assert _calendar_methods(message) == ["REQUEST"]


def test_a_cancellation_by_the_clinic_gives_the_reason_and_removes_the_event(
    book, patient, front_desk
):
    appointment = book(patient)
    services.cancel_appointment(
        appointment, by="clinic", actor=front_desk, reason="The practitioner is unwell"
    )
    message, text, html = _send(Kind.CANCELLED)
    assert message.subject == f"Cancelled: Initial assessment, {_local(appointment)}"
    for body in (text, html):
        assert "had to" in body and "The practitioner is unwell" in body
    assert _calendar_methods(message) == ["CANCEL"]


def test_a_late_cancellation_by_the_patient_says_so(book, patient):
    appointment = book(patient)
    services.cancel_appointment(
        appointment,
        by="patient",
        actor=patient.user,
        reason="Unwell",
        now=appointment.starts_at - dt.timedelta(hours=3),
    )
    message, text, html = _send(Kind.CANCELLED)
    assert "As you asked" in text and "late cancellation" in text
    assert "Unwell" not in text  # the patient's own reason is not read back to them


def test_a_declined_request_gives_the_reason_and_a_way_to_rebook(book, patient, front_desk):
    appointment = book(patient, status=Status.REQUESTED)
    services.decline_request(appointment, actor=front_desk, reason="Priya is away that week")
    message, text, html = _send(Kind.DECLINED)
    assert message.subject == f"We could not book your request for {_local(appointment)}"
    for body in (text, html):
        assert "Priya is away that week" in body and "416-555-0134" in body
    assert _calendar_methods(message) == []


def test_another_time_proposed_asks_the_patient_to_accept_it(book, clinic, patient, front_desk):
    appointment = book(patient, status=Status.REQUESTED)
    proposed = next_weekday(clinic.location, 3, 15)
    services.propose_time(
        appointment,
        starts_at=proposed,
        actor=front_desk,
        message="Tuesday is full; would Thursday afternoon suit?",
    )
    message, text, html = _send(Kind.RESCHEDULED)
    assert message.subject.startswith("Another time proposed for your initial assessment")
    detail = reverse("booking:appointment_detail", args=[appointment.pk])
    for body in (text, html):
        assert "proposes another time" in body
        assert "Tuesday is full; would Thursday afternoon suit?" in body
        assert detail in body
        assert "has moved" not in body
    assert _calendar_methods(message) == []  # no invite until the patient accepts


def test_a_waitlist_offer_gives_the_time_and_the_deadline(clinic, patient, freed_for):
    waiting = PatientFactory(first_name="Casey")
    appointment, offer = freed_for(waiting, patient)
    message, text, html = _send(Kind.WAITLIST_OFFER)
    deadline = dateformat.format(
        offer.expires_at.astimezone(clinic.location.zone), "D j M Y, g:i A T"
    )
    assert message.to == [waiting.email]
    assert message.subject.startswith(f"An earlier time for you: {_local(appointment)}")
    for body in (text, html):
        assert deadline in body and "Hello Casey" in body
        assert "https://booking.example.org/appointments/" in body


def test_a_booked_course_lists_every_session_with_an_invite_each(patient, book_course):
    course = book_course(patient, sessions=5)
    message, text, html = _send(Kind.COURSE_BOOKED)
    assert message.subject == "Your 5 dry-needling sessions are booked"
    for session in course.appointments.all():
        line = f"Session {session.session_number} of 5: {_local(session)}"
        assert line in text
        assert _local(session) in html
        assert f"/appointments/{session.pk}/link/" in text
    assert _calendar_methods(message) == ["REQUEST"] * 5


def test_the_intake_nudge_links_to_the_questionnaire_or_asks_a_phone_patient_to_come_early(
    book, patient, clinic, monkeypatch
):
    monkeypatch.setattr("booking.gates.intake_submitted", lambda ids: dict.fromkeys(ids, False))
    book(patient)
    message, text, html = _send(Kind.INTAKE_MISSING)
    assert message.subject.startswith("Please fill in your health questionnaire before ")
    assert "Fill it in here: https://booking.example.org/intake/me/" in text
    phone_patient = PatientFactory(
        user=None, email="robert@example.org", first_name="Robert", last_name="Côté"
    )
    book(phone_patient, next_weekday(clinic.location, 2, 10))
    message, text, html = _send(Kind.INTAKE_MISSING)
    assert "arrive 15 minutes early" in text and "/me/" not in text


def test_after_care_explains_what_to_expect_and_whom_to_call(
    clinic, patient, front_desk, book_course, monkeypatch, intake
):
    intake.ready(patient)  # check-in needs the current consent
    session = book_course(patient, 4).appointments.get(session_number=1)
    at = session.starts_at + dt.timedelta(minutes=5)
    services.change_status(session, to=Status.CHECKED_IN, actor=front_desk, now=at)
    services.change_status(session, to=Status.COMPLETED, actor=front_desk, now=at)
    message, text, html = _send(Kind.AFTER_CARE, now=at)
    for body in (text, html):
        assert "soreness" in body and "ice" in body and "416-555-0134" in body
    # A session of a course: its 24-48 h check-in is open, and the email links to it.
    assert "tell us how you are doing" in text and "/check-in/after_care/" in text
    row = Notification.objects.get(kind=Kind.AFTER_CARE)
    # No check-in line when outcomes offers none (the survey closed, say).
    monkeypatch.setattr("booking.intake_links.aftercare_survey_path", lambda appointment: None)
    _, text, html = notifications.render_parts(row, now=at)[:3]
    assert "tell us how you are doing" not in text
    # The link is the one outcomes gives for the session.
    monkeypatch.setattr(
        "booking.intake_links.aftercare_survey_path",
        lambda appointment: f"/check-in/{appointment.pk}/",
    )
    _, text, html = notifications.render_parts(row, now=at)[:3]
    assert f"https://booking.example.org/check-in/{session.pk}/" in text


def test_html_is_escaped_and_plain_text_is_not(book, clinic):
    clinic.location.name = "Bayview & Eglinton"
    clinic.location.save()
    patient = PatientFactory(first_name="Zoë <Ann>")
    book(patient)
    message, text, html = _send(Kind.CONFIRMED)
    assert "Hello Zoë <Ann>" in text
    assert "Hello Zoë &lt;Ann&gt;" in html
    assert message.subject.endswith("at Bayview & Eglinton")
    assert "Stride Clinics Bayview &amp; Eglinton" in html


def test_a_request_the_patient_cancels_carries_no_calendar_file(book, patient):
    appointment = book(patient, status=Status.REQUESTED)
    services.patient_cancel(appointment, actor=patient.user, reason="Found another clinic")
    message, text, html = _send(Kind.CANCELLED)
    assert _calendar_methods(message) == []
    assert "removes it from your calendar" not in text
