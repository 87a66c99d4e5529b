"""A conflict only PostgreSQL sees, at write time, becomes "this time was just taken" with
fresh times to choose from — never a 500.

Two simultaneous bookings can both pass the Python check and race to the insert; there the
exclusion constraints decide, or PostgreSQL reports a deadlock between the two inserts. These
tests make that moment happen deterministically: the pre-check is told to pass, so that the
write really meets the constraint, or the write itself fails the way a deadlock does."""

from __future__ import annotations

import datetime as dt

import psycopg2.errors
import pytest
from django.db import DataError, OperationalError, connection
from django.urls import reverse

from booking import services
from booking.forms import slot_choice_value
from booking.models import Appointment, Course, SlotHold
from booking.services import appointments, courses, slots, waitlist
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking, an_appointment
from tests.factories import PatientFactory, certified_practitioner

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(clinic):
    return next_weekday(clinic.location, 1, 10)


@pytest.fixture
def taken(clinic, start):
    """An appointment at `start` with the clinic's practitioner, in the first room."""
    return an_appointment(clinic, PatientFactory(), start)


@pytest.fixture
def precheck_passes(monkeypatch, clinic):
    """Make the service's Python check (`check_slot`) pass whatever the schedule says, as it
    does for both of two bookings racing for one time."""

    def check_slot(*, location, practitioner, starts_at, minutes, room=None, **_):
        length = dt.timedelta(minutes=minutes)
        return services.CheckedSlot(
            location=location,
            practitioner=practitioner,
            room_id=room.pk if room else clinic.rooms[1].pk,
            starts_at=starts_at,
            ends_at=starts_at + length,
            blocks_until=starts_at + length + dt.timedelta(minutes=location.buffer_minutes),
        )

    # Every workflow module that books calls its own imported `check_slot`; moves and
    # freed slots are checked through `slots` (`check_move`, `check_slot_of`).
    for workflow in (appointments, courses, slots, waitlist):
        monkeypatch.setattr(workflow, "check_slot", check_slot)


def _deadlock(*args, **kwargs):
    """What PostgreSQL reports when two overlapping inserts wait on each other: SQLSTATE
    40P01, raised by the server itself so that psycopg2 and Django wrap it as they would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' "
            "USING ERRCODE = 'deadlock_detected'; END $$"
        )


@pytest.fixture
def writes_deadlock(monkeypatch):
    monkeypatch.setattr(Appointment.objects, "create", _deadlock)


# --- The services --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("same", "constraint", "message"),
    [
        ("practitioner", "appointment_no_overlap_per_practitioner", "just taken"),
        ("room", "appointment_no_overlap_per_room", "just taken"),
        ("patient", "appointment_no_overlap_per_patient", "patient already has an appointment"),
    ],
)
def test_an_overlap_only_the_database_sees_becomes_slot_taken(
    clinic, start, taken, precheck_passes, front_desk, same, constraint, message
):
    colleague = certified_practitioner(locations=[clinic.location])
    with pytest.raises(services.SlotTaken, match=message) as refused:
        services.book_appointment(
            patient=taken.patient if same == "patient" else PatientFactory(),
            location=clinic.location,
            practitioner=clinic.practitioner if same == "practitioner" else colleague,
            service=clinic.assessment,
            starts_at=start + dt.timedelta(minutes=15),
            minutes=60,
            room=clinic.rooms[0] if same == "room" else clinic.rooms[1],
            actor=front_desk,
        )
    # Found by PostgreSQL at the insert, not by the Python check.
    assert refused.value.__cause__.__cause__.diag.constraint_name == constraint
    # The savepoint was rolled back: the transaction carries on, nothing was written.
    assert list(Appointment.objects.values_list("pk", flat=True)) == [taken.pk]


def test_a_move_onto_a_time_only_the_database_sees_taken_becomes_slot_taken(
    clinic, start, taken, precheck_passes, front_desk
):
    mine = an_appointment(
        clinic, PatientFactory(), start + dt.timedelta(days=1), room=clinic.rooms[1]
    )
    with pytest.raises(services.SlotTaken, match="just taken"):
        services.reschedule_appointment(mine, starts_at=start, actor=front_desk)
    mine.refresh_from_db()
    assert mine.starts_at == start + dt.timedelta(days=1) and mine.version == 1


def test_a_deadlock_at_write_time_becomes_slot_taken(clinic, start, writes_deadlock, front_desk):
    with pytest.raises(services.SlotTaken, match="just taken") as refused:
        a_booking(clinic, start, actor=front_desk)
    wrapped = refused.value.__cause__
    assert isinstance(wrapped, OperationalError)
    assert isinstance(wrapped.__cause__, psycopg2.errors.DeadlockDetected)
    assert Appointment.objects.count() == 0  # and the connection is still usable


def test_other_database_errors_are_not_disguised_as_a_taken_slot(
    clinic, start, monkeypatch, front_desk
):
    def broken(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(Appointment.objects, "create", broken)
    with pytest.raises(DataError):
        a_booking(clinic, start, actor=front_desk)


# --- The pages -----------------------------------------------------------------------------


def _hold_then_confirm(client, clinic, start, before_confirming=lambda: None):
    client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]),
        {"slot": slot_choice_value(clinic.practitioner.pk, start)},
    )
    hold = SlotHold.objects.get()
    before_confirming()
    return client.post(reverse("booking:request_confirm", args=[hold.pk]), {"note": ""})


def _free_times_page(client, clinic, start):
    day = start.astimezone(clinic.location.zone).date().isoformat()
    return client.get(
        reverse("booking:request_slots", args=[clinic.location.slug]), {"from": day}
    ).content.decode()


def test_a_request_that_meets_the_constraint_shows_fresh_times(login, patient, clinic, start):
    client = login(patient.user)

    def someone_else_books_it():
        # Written past every Python check, as the other of two racing bookings would be.
        an_appointment(clinic, PatientFactory(), start, room=clinic.rooms[1])

    response = _hold_then_confirm(client, clinic, start, someone_else_books_it)
    assert response.status_code == 302
    assert response.url == reverse("booking:request_slots", args=[clinic.location.slug])
    page = _free_times_page(client, clinic, start)
    assert "This time was just taken" in page
    # Fresh alternatives: that time is gone, others the same day are offered.
    assert slot_choice_value(clinic.practitioner.pk, start) not in page
    later = start + dt.timedelta(hours=2)
    assert slot_choice_value(clinic.practitioner.pk, later) in page
    assert Appointment.objects.filter(patient=patient).count() == 0


def test_a_request_that_deadlocks_shows_fresh_times(login, patient, clinic, start, monkeypatch):
    client = login(patient.user)
    response = _hold_then_confirm(
        client,
        clinic,
        start,
        lambda: monkeypatch.setattr(Appointment.objects, "create", _deadlock),
    )
    assert response.status_code == 302
    assert response.url == reverse("booking:request_slots", args=[clinic.location.slug])
    assert "This time was just taken" in _free_times_page(client, clinic, start)
    assert Appointment.objects.count() == 0


def test_a_course_that_deadlocks_on_one_session_books_nothing_and_shows_the_sessions(
    login, clinic, patient, practitioner, prescribe, start, monkeypatch
):
    prescribe(patient, practitioner)
    times = services.proposed_dates(
        first=start, zone=clinic.location.zone, sessions=6, interval_days=7
    )
    data = {
        "action": "book",
        "session-TOTAL_FORMS": 6,
        "session-INITIAL_FORMS": 6,
        "session-MIN_NUM_FORMS": 4,
        "session-MAX_NUM_FORMS": 6,
    }
    for n, when in enumerate(times):
        local = when.astimezone(clinic.location.zone)
        data |= {
            f"session-{n}-date": local.date().isoformat(),
            f"session-{n}-time": local.strftime("%H:%M"),
            f"session-{n}-location": clinic.location.pk,
            f"session-{n}-practitioner": practitioner.pk,
        }
    create = Appointment.objects.create
    calls = []

    def third_deadlocks(**fields):
        calls.append(fields["session_number"])
        if len(calls) == 3:
            return _deadlock()
        return create(**fields)

    monkeypatch.setattr(Appointment.objects, "create", third_deadlocks)
    response = login(practitioner.user).post(
        reverse("booking:course_book", args=[patient.pk]), data
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was booked" in html and "Session 3" in html and "just taken" in html
    assert Course.objects.count() == 0 and Appointment.objects.count() == 0
    # The sessions are checked again, ready to book once more.
    assert html.count("Free</span>") == 6
