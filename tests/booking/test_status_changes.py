"""Appointment statuses change only along the allowed transitions, each change recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services
from booking.models import Appointment, AppointmentEvent, Status
from tests.booking.factories import an_appointment
from tests.database import rule_set_aside

pytestmark = pytest.mark.django_db


@pytest.fixture
def any_status_to_start_from():
    """The services' own refusals, tested alone: PostgreSQL's copy of the table (booking 0020,
    test_appointment_status_changes_as_allowed.py) set aside for the test's transaction, so
    that a row can be put in any status to start from."""
    with rule_set_aside("booking_appointment", "appointment_status_changes_as_allowed"):
        yield


@pytest.fixture
def appointment(clinic, patient):
    start = timezone.now() + dt.timedelta(hours=1)
    return an_appointment(clinic, patient, start, status=Status.REQUESTED)


def test_the_service_allows_exactly_the_changes_the_clinic_works_by(
    appointment, front_desk, intake, any_status_to_start_from
):
    """Every status to every other, through the services, at a time when the clock rules
    (confirmed before the start, no-show after it, check-in on the day) do not stand in
    the way."""
    intake.ready(appointment.patient)
    during = appointment.starts_at + dt.timedelta(minutes=10)
    before = appointment.starts_at - dt.timedelta(minutes=10)
    allowed = set()
    for start_status in Status:
        for to in Status:
            Appointment.objects.filter(pk=appointment.pk).update(
                status=start_status,
                cancelled_by="clinic" if start_status == Status.CANCELLED else "",
            )
            appointment.refresh_from_db()
            try:
                if to == Status.CANCELLED:
                    services.cancel_appointment(
                        appointment, by="clinic", actor=front_desk, reason="Closed", now=during
                    )
                else:
                    at = before if to == Status.CONFIRMED else during
                    services.change_status(appointment, to=to, actor=front_desk, now=at)
            except services.TransitionRefused:
                continue
            allowed.add((start_status.value, to.value))
    assert allowed == {
        ("requested", "confirmed"),  # the front desk confirms a request
        ("requested", "cancelled"),
        ("confirmed", "checked_in"),  # the patient arrives
        ("confirmed", "cancelled"),
        ("confirmed", "no_show"),
        ("checked_in", "completed"),  # the practitioner finishes the visit
    }


def test_a_visit_goes_from_request_to_completion_with_its_history(
    appointment, front_desk, practitioner, intake
):
    intake.ready(appointment.patient)
    services.change_status(appointment, to=Status.CONFIRMED, actor=front_desk)
    services.change_status(appointment, to=Status.CHECKED_IN, actor=front_desk)
    done = services.change_status(
        appointment, to=Status.COMPLETED, actor=practitioner.user, reason="Seen"
    )
    assert done.status == Status.COMPLETED and done.version == 4
    history = [
        (e.from_status, e.to_status, e.actor) for e in appointment.events.order_by("at", "id")
    ]
    assert history == [
        ("requested", "confirmed", front_desk),
        ("confirmed", "checked_in", front_desk),
        ("checked_in", "completed", practitioner.user),
    ]


@pytest.mark.parametrize(
    ("start_status", "to"),
    [
        (Status.REQUESTED, Status.COMPLETED),
        (Status.REQUESTED, Status.CHECKED_IN),
        (Status.CONFIRMED, Status.REQUESTED),
        (Status.CANCELLED, Status.CONFIRMED),
        (Status.COMPLETED, Status.NO_SHOW),
    ],
)
def test_other_changes_are_refused(
    appointment, front_desk, start_status, to, any_status_to_start_from
):
    appointment.status = start_status
    appointment.cancelled_by = "clinic" if start_status == Status.CANCELLED else ""
    appointment.save()
    with pytest.raises(services.TransitionRefused):
        services.change_status(appointment, to=to, actor=front_desk)
    appointment.refresh_from_db()
    assert appointment.status == start_status
    assert not AppointmentEvent.objects.filter(appointment=appointment).exists()


def test_a_future_appointment_cannot_be_a_no_show(appointment, front_desk):
    services.change_status(appointment, to=Status.CONFIRMED, actor=front_desk)
    with pytest.raises(services.TransitionRefused, match="once the appointment has started"):
        services.change_status(appointment, to=Status.NO_SHOW, actor=front_desk)
    later = appointment.starts_at + dt.timedelta(minutes=20)
    assert (
        services.change_status(appointment, to=Status.NO_SHOW, actor=front_desk, now=later).status
        == "no_show"
    )


def test_a_change_made_on_an_old_view_of_the_appointment_is_refused(appointment, front_desk):
    seen_version = appointment.version
    services.change_status(appointment, to=Status.CONFIRMED, actor=front_desk)
    with pytest.raises(services.StaleAppointment, match="changed this appointment a moment ago"):
        services.cancel_appointment(
            appointment, by="clinic", actor=front_desk, reason="x", expected_version=seen_version
        )


@pytest.mark.parametrize(("status", "late"), [(Status.CONFIRMED, True), (Status.REQUESTED, False)])
def test_a_cancellation_records_who_why_and_whether_it_was_late(
    clinic, patient, front_desk, status, late
):
    """An hour before: inside the 24-hour notice, late for a confirmed appointment; a request
    the clinic never confirmed is withdrawn, never cancelled late."""
    appointment = an_appointment(
        clinic, patient, timezone.now() + dt.timedelta(hours=1), status=status
    )
    cancelled = services.cancel_appointment(
        appointment, by="patient", actor=front_desk, reason="Unwell"
    )
    assert (cancelled.cancelled_by, cancelled.cancellation_reason, cancelled.late_cancellation) == (
        "patient",
        "Unwell",
        late,
    )
    event = cancelled.events.get()
    assert (event.to_status, event.reason, event.late) == ("cancelled", "Unwell", late)


def test_a_cancellation_needs_a_reason(appointment, front_desk):
    with pytest.raises(services.TransitionRefused, match="Say why"):
        services.cancel_appointment(appointment, by="clinic", actor=front_desk, reason="  ")
