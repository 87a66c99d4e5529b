"""Calendar invites (RFC 5545), read back with the `icalendar` library: one stable UID per
appointment, a SEQUENCE that grows with every change, METHOD:REQUEST for new and changed
appointments and METHOD:CANCEL for cancelled ones, STATUS:TENTATIVE for a request the clinic
has not confirmed yet, times in the location's zone with its VTIMEZONE. Patients download one
appointment or a whole course."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking import notifications, services
from booking.models import Notification, Status
from booking.notifications import calendars, links
from clinic.models import AccessLog
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://booking.example.org"


def _invites(kind: str) -> list[Calendar]:
    """The calendar attachments of the email of `kind`, parsed back."""
    row = Notification.objects.filter(kind=kind).latest("id")
    notifications.send_due(worker="test", now=max(timezone.now(), row.send_after))
    message = next(
        m
        for m in mail.outbox
        if m.extra_headers["Message-ID"].startswith(f"<notification-{row.pk}.")
    )
    return [
        Calendar.from_ical(part.get_payload(decode=True))
        for part in message.attachments
        if part.get_content_type() == "text/calendar"
    ]


def _event(calendar: Calendar):
    (event,) = calendar.walk("VEVENT")
    return event


def test_a_confirmation_carries_a_request_with_the_appointments_uid_time_and_place(
    book, patient, clinic
):
    clinic.location.street_address = "1590 Bayview Avenue; Unit 2"
    clinic.location.save()
    appointment = book(patient)
    (invite,) = _invites(Kind.CONFIRMED)
    event = _event(invite)
    assert invite["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"appointment-{appointment.pk}@booking.example.org"
    assert event["SEQUENCE"] == appointment.version == 1
    assert event.start == appointment.starts_at
    assert event.start.tzinfo.key == "America/Toronto"
    assert event.end == appointment.ends_at
    assert "1590 Bayview Avenue; Unit 2, Toronto" in str(event["LOCATION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["ATTENDEE"]) == f"mailto:{patient.email}"
    assert [tz["TZID"] for tz in invite.walk("VTIMEZONE")] == ["America/Toronto"]


def test_a_move_updates_the_same_event_with_a_higher_sequence(book, patient, front_desk):
    appointment = book(patient)
    (first,) = _invites(Kind.CONFIRMED)
    later = appointment.starts_at + dt.timedelta(days=1)
    services.reschedule_appointment(appointment, starts_at=later, actor=front_desk)
    (moved,) = _invites(Kind.RESCHEDULED)
    assert moved["METHOD"] == "REQUEST"
    assert _event(moved)["UID"] == _event(first)["UID"]
    assert _event(moved)["SEQUENCE"] > _event(first)["SEQUENCE"]
    assert _event(moved).start == later


def test_a_cancellation_cancels_the_same_event(book, patient, front_desk):
    appointment = book(patient)
    (first,) = _invites(Kind.CONFIRMED)
    services.cancel_appointment(appointment, by="clinic", actor=front_desk, reason="Closed")
    (cancel,) = _invites(Kind.CANCELLED)
    assert cancel["METHOD"] == "CANCEL"
    assert _event(cancel)["UID"] == _event(first)["UID"]
    assert _event(cancel)["SEQUENCE"] > _event(first)["SEQUENCE"]
    assert str(_event(cancel)["STATUS"]) == "CANCELLED"


def _downloaded(client, appointment):
    """The appointment's calendar file from its page, parsed back, and its one event."""
    response = client.get(reverse("booking:appointment_ics", args=[appointment.pk]))
    assert response.status_code == 200
    return _event(Calendar.from_ical(response.content))


def _partstat(event) -> str:
    return str(event["ATTENDEE"].params["PARTSTAT"])


def test_a_request_is_tentative_until_the_clinic_confirms_the_same_event(
    login, book, patient, front_desk
):
    """request → confirm → move → cancel: one UID, a SEQUENCE that grows at every step the
    patient is told about, TENTATIVE only while the clinic has not confirmed."""
    appointment = book(patient, status=Status.REQUESTED)
    requested = _downloaded(login(patient.user), appointment)
    assert str(requested["STATUS"]) == "TENTATIVE"
    assert _partstat(requested) == "TENTATIVE"
    assert not Notification.objects.filter(kind=Kind.CONFIRMED).exists()

    services.confirm_request(appointment, actor=front_desk)
    (confirmed,) = _invites(Kind.CONFIRMED)
    assert confirmed["METHOD"] == "REQUEST"
    assert str(_event(confirmed)["STATUS"]) == "CONFIRMED"
    assert _partstat(_event(confirmed)) == "ACCEPTED"
    assert str(_event(confirmed)["UID"]) == str(requested["UID"])
    assert _event(confirmed)["SEQUENCE"] > requested["SEQUENCE"]
    assert str(_downloaded(login(patient.user), appointment)["STATUS"]) == "CONFIRMED"

    later = appointment.starts_at + dt.timedelta(days=1)
    services.reschedule_appointment(appointment, starts_at=later, actor=front_desk)
    (moved,) = _invites(Kind.RESCHEDULED)
    assert moved["METHOD"] == "REQUEST"
    assert str(_event(moved)["STATUS"]) == "CONFIRMED"
    assert str(_event(moved)["UID"]) == str(requested["UID"])
    assert _event(moved)["SEQUENCE"] > _event(confirmed)["SEQUENCE"]

    services.cancel_appointment(appointment, by="clinic", actor=front_desk, reason="Closed")
    (cancelled,) = _invites(Kind.CANCELLED)
    assert cancelled["METHOD"] == "CANCEL"
    assert str(_event(cancelled)["STATUS"]) == "CANCELLED"
    assert str(_event(cancelled)["UID"]) == str(requested["UID"])
    assert _event(cancelled)["SEQUENCE"] > _event(moved)["SEQUENCE"]


def test_the_emails_link_offers_a_request_as_tentative_too(client, book, patient):
    appointment = book(patient, status=Status.REQUESTED)
    token = links.make_token(appointment)
    response = client.get(reverse("booking:link_ics", args=[appointment.pk, token]))
    event = _event(Calendar.from_ical(response.content))
    assert (str(event["STATUS"]), _partstat(event)) == ("TENTATIVE", "TENTATIVE")


def test_a_time_the_clinic_proposed_waits_for_the_patients_answer(login, book, patient, front_desk):
    appointment = book(patient, status=Status.REQUESTED)
    before = _downloaded(login(patient.user), appointment)
    services.propose_time(
        appointment,
        starts_at=appointment.starts_at + dt.timedelta(days=1),
        actor=front_desk,
        message="The afternoon is free instead",
    )
    proposed = _downloaded(login(patient.user), appointment)
    assert str(proposed["STATUS"]) == "TENTATIVE"
    assert _partstat(proposed) == "NEEDS-ACTION"
    assert proposed["SEQUENCE"] > before["SEQUENCE"]

    appointment.refresh_from_db()
    services.accept_proposed_time(appointment, actor=patient.user)
    (confirmed,) = _invites(Kind.CONFIRMED)
    assert str(_event(confirmed)["STATUS"]) == "CONFIRMED"
    assert _partstat(_event(confirmed)) == "ACCEPTED"
    assert _event(confirmed)["SEQUENCE"] > proposed["SEQUENCE"]


def test_a_course_email_carries_one_request_per_session_each_with_its_own_uid(patient, book_course):
    course = book_course(patient, sessions=4)
    invites = _invites(Kind.COURSE_BOOKED)
    assert [c["METHOD"] for c in invites] == ["REQUEST"] * 4
    sessions = course.appointments.order_by("session_number")
    assert [str(_event(c)["UID"]) for c in invites] == [calendars.event_uid(s) for s in sessions]
    assert "(2 of 4)" in str(_event(invites[1])["SUMMARY"])


def test_a_patient_downloads_one_appointment(login, patient, book):
    appointment = book(patient)
    response = login(patient.user).get(reverse("booking:appointment_ics", args=[appointment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="appointment-')
    calendar = Calendar.from_ical(response.content)
    assert calendar["METHOD"] == "PUBLISH"
    assert _event(calendar)["UID"] == calendars.event_uid(appointment)
    assert AccessLog.objects.filter(patient=patient, record_type="booking.appointment").exists()


def test_a_patient_downloads_their_whole_course(login, patient, book_course):
    course = book_course(patient, sessions=4)
    response = login(patient.user).get(reverse("booking:course_ics", args=[course.pk]))
    assert response.status_code == 200
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert sorted(e.start for e in events) == sorted(
        course.appointments.values_list("starts_at", flat=True)
    )


def test_downloads_refuse_the_wrong_method_and_other_peoples_appointments(
    login, patient, book, front_desk_elsewhere, client
):
    appointment = book(patient)
    other = PatientFactory()
    url = reverse("booking:appointment_ics", args=[appointment.pk])
    assert login(patient.user).post(url).status_code == 405
    assert login(other.user).get(url).status_code == 404
    assert login(front_desk_elsewhere).get(url).status_code == 404


def test_text_is_escaped_and_folded_and_reads_back_intact(book, patient, clinic):
    clinic.location.name = "Leaside, Bayview; and Eglinton — North Toronto Sports Medicine"
    clinic.location.save()
    appointment = book(patient)
    content = calendars.invite(appointment, method=calendars.REQUEST)
    assert all(len(line) <= 75 for line in content.split(b"\r\n"))
    event = _event(Calendar.from_ical(content))
    assert "Leaside, Bayview; and Eglinton — North Toronto Sports Medicine" in str(
        event["LOCATION"]
    )
