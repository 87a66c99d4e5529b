"""PostgreSQL itself refuses overlapping appointments for a practitioner, a room or a patient,
and keeps a practitioner's travel time between locations; racing bookers get one winner."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from booking import services
from booking.models import Appointment, Status
from booking.services import appointments
from booking.services.writing import write
from clinic.models import TravelTime
from tests.booking.conftest import next_weekday
from tests.booking.factories import AppointmentFactory, RoomFactory, a_booking
from tests.booking.races import at_once
from tests.factories import PatientFactory, certified_practitioner

pytestmark = pytest.mark.django_db


def _insert(appointment: Appointment, **changes) -> None:
    """A raw INSERT copying `appointment` with `changes`, bypassing every Python check."""
    row = {
        "location_id": appointment.location_id,
        "practitioner_id": appointment.practitioner_id,
        "room_id": appointment.room_id,
        "patient_id": appointment.patient_id,
        "service_id": appointment.service_id,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "blocks_until": appointment.blocks_until,
        "status": "confirmed",
    } | changes
    columns = (
        ", ".join(row)
        + ", cancelled_by, cancellation_reason, late_cancellation, patient_note, created_at, version"
    )
    values = ", ".join(["%s"] * len(row)) + ", %s, '', false, '', %s, 1"
    cancelled_by = "clinic" if row["status"] == "cancelled" else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO booking_appointment ({columns}) VALUES ({values})",
            [*row.values(), cancelled_by, timezone.now()],
        )


def _half_hour_from(start: dt.datetime) -> dict:
    """The times of a 30-minute appointment starting at `start`, with its 5-minute buffer."""
    return {
        "starts_at": start,
        "ends_at": start + dt.timedelta(minutes=30),
        "blocks_until": start + dt.timedelta(minutes=35),
    }


@pytest.fixture
def booked(clinic):
    return AppointmentFactory(
        location=clinic.location,
        practitioner=clinic.practitioner,
        room=clinic.rooms[0],
        service=clinic.assessment,
    )


def test_the_database_refuses_two_appointments_for_one_practitioner(booked, clinic):
    with pytest.raises(IntegrityError, match="appointment_no_overlap_per_practitioner"):
        _insert(
            booked,
            room_id=clinic.rooms[1].pk,
            patient_id=PatientFactory().pk,
            starts_at=booked.starts_at + dt.timedelta(minutes=30),
            ends_at=booked.ends_at + dt.timedelta(minutes=30),
            blocks_until=booked.blocks_until + dt.timedelta(minutes=30),
        )


def test_the_database_refuses_two_appointments_in_one_room(booked, clinic):
    other = certified_practitioner(locations=[clinic.location])
    with pytest.raises(IntegrityError, match="appointment_no_overlap_per_room"):
        _insert(booked, practitioner_id=other.pk, patient_id=PatientFactory().pk)


def test_the_database_refuses_two_appointments_for_one_patient(booked, clinic):
    other = certified_practitioner(locations=[clinic.location])
    with pytest.raises(IntegrityError, match="appointment_no_overlap_per_patient"):
        _insert(booked, practitioner_id=other.pk, room_id=clinic.rooms[1].pk)


def test_the_buffer_belongs_to_the_practitioner_and_room(booked):
    # Starting inside the previous appointment's 5-minute buffer is refused...
    with pytest.raises(IntegrityError, match="no_overlap_per_practitioner"):
        _insert(booked, patient_id=PatientFactory().pk, **_half_hour_from(booked.ends_at))
    # ...and back to back after the buffer is fine.
    _insert(booked, patient_id=PatientFactory().pk, **_half_hour_from(booked.blocks_until))


def test_cancelled_appointments_free_their_time(booked):
    Appointment.objects.filter(pk=booked.pk).update(status=Status.CANCELLED, cancelled_by="clinic")
    _insert(booked, patient_id=PatientFactory().pk)
    assert Appointment.objects.filter(status="confirmed").count() == 1


def test_the_database_refuses_an_end_before_the_start(booked):
    with pytest.raises(IntegrityError, match="appointment_starts_before_it_ends"):
        _insert(
            booked,
            patient_id=PatientFactory().pk,
            starts_at=booked.ends_at,
            ends_at=booked.starts_at,
            blocks_until=booked.ends_at,
        )


def test_the_database_keeps_travel_time_between_locations(booked, clinic, other_location):
    clinic.practitioner.user.locations.add(other_location)
    room = RoomFactory(location=other_location)
    TravelTime.objects.create(from_location=clinic.location, to_location=other_location, minutes=40)
    elsewhere = {
        "location_id": other_location.pk,
        "room_id": room.pk,
        "patient_id": PatientFactory().pk,
    }
    # 30 minutes after the first appointment's buffer: not enough to travel 40 minutes.
    start = booked.blocks_until + dt.timedelta(minutes=30)
    with pytest.raises(IntegrityError, match="appointment_travel_time_between_locations"):
        _insert(booked, **elsewhere, **_half_hour_from(start))
    later = booked.blocks_until + dt.timedelta(minutes=40)
    _insert(booked, **elsewhere, **_half_hour_from(later))


def test_the_service_turns_a_database_conflict_into_slot_taken(
    clinic, django_user_model, monkeypatch
):
    """The Python check passed a moment before another booking was written (a race): the
    exclusion constraint, not the check, finds the conflict, and the booker reads "taken"."""
    start = next_weekday(clinic.location, 1, 10)
    first, second = PatientFactory(), PatientFactory()
    staff = django_user_model.objects.create_user("desk@example.org", "x", role="front_desk")
    slot = dict(
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.assessment,
        starts_at=start,
        minutes=60,
    )
    # What the check said for the second booker while the time was still free.
    stale = services.check_slot(**slot, patient=second, for_patient=False, room=None, now=None)
    services.book_appointment(patient=first, actor=staff, **slot)
    monkeypatch.setattr(appointments, "check_slot", lambda **kwargs: stale)
    with pytest.raises(services.SlotTaken, match="just taken") as refused:
        services.book_appointment(patient=second, actor=staff, **slot)
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert "appointment_no_overlap" in str(refused.value.__cause__)
    assert list(Appointment.objects.values_list("patient", flat=True)) == [first.pk]


@pytest.mark.django_db(transaction=True)
def test_many_bookers_racing_for_one_slot_get_exactly_one_winner(
    location, practitioner, django_user_model
):
    from tests.booking.factories import a_clinic

    clinic = a_clinic(location=location, practitioner=practitioner, rooms=3)
    start = next_weekday(location, 2, 11)
    staff = django_user_model.objects.create_user("desk@example.org", "x", role="front_desk")
    patients = [PatientFactory() for _ in range(8)]

    def booking(patient):
        return lambda: a_booking(clinic, start, patient=patient, actor=staff)

    outcomes = at_once(
        [booking(p) for p in patients], won="booked", lost=(services.BookingError, "taken")
    )
    assert outcomes == ["booked"] + ["taken"] * 7
    assert Appointment.objects.filter(starts_at=start).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_inserts_that_bypass_the_service_still_get_one_winner(location, practitioner):
    """Without the service's row lock, PostgreSQL's exclusion constraint alone decides; a
    deadlock between the two inserts is reported as the slot being taken."""
    from tests.booking.factories import a_clinic

    clinic = a_clinic(location=location, practitioner=practitioner, rooms=8)
    start = next_weekday(location, 3, 10)
    patients = [PatientFactory() for _ in range(6)]

    def insert(n, patient):
        return lambda: write(
            lambda: Appointment.objects.create(
                location=location,
                practitioner=practitioner,
                room=clinic.rooms[n],
                patient=patient,
                service=clinic.assessment,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                blocks_until=start + dt.timedelta(minutes=65),
                status=Status.CONFIRMED,
            )
        )

    outcomes = at_once(
        [insert(n, p) for n, p in enumerate(patients)],
        won="booked",
        lost=(services.SlotTaken, "taken"),
    )
    assert outcomes == ["booked"] + ["taken"] * 5
