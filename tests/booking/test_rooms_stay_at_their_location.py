"""A visit, or a time held for a patient, is in a room of its own location, and a room with
either never moves to another location: the admin says so on the field, and PostgreSQL refuses
it from anywhere else (booking migration 0021)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from booking import world as booking_world
from booking.admin import RoomForm
from booking.models import Room
from booking.services import book_appointment
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_slot_hold
from tests.booking.races import first_holds_its_lock
from tests.database import refused_by, write_sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def room_elsewhere(other_location):
    return booking_world.rooms(other_location, 1)[0]


def _move_in_the_admin(client, room, location):
    return client.post(
        reverse("admin:booking_room_change", args=[room.pk]),
        {"location": location.pk, "name": room.name, "is_active": "on"},
    )


def test_the_admin_keeps_a_room_with_visits_where_they_were_booked(
    login, manager, clinic, book, patient, other_location
):
    room = book(patient).room
    response = _move_in_the_admin(login(manager), room, other_location)
    assert response.status_code == 200
    page = response.content.decode()
    assert "has appointments or held times at" in page and "Add a room at" in page
    room.refresh_from_db()
    assert room.location == clinic.location


def test_the_admin_keeps_a_room_where_a_time_is_held(
    login, manager, clinic, patient, other_location
):
    hold = a_slot_hold(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = _move_in_the_admin(login(manager), hold.room, other_location)
    assert response.status_code == 200
    assert "has appointments or held times at" in response.content.decode()
    hold.room.refresh_from_db()
    assert hold.room.location == clinic.location


def test_a_room_nobody_was_booked_in_moves(login, manager, clinic, other_location):
    room = clinic.rooms[1]
    response = _move_in_the_admin(login(manager), room, other_location)
    assert response.status_code == 302
    room.refresh_from_db()
    assert room.location == other_location


def test_the_database_refuses_to_move_a_room_with_visits(clinic, book, patient, other_location):
    room = book(patient).room
    with refused_by("appointment_room_is_at_its_location"):
        Room.objects.filter(pk=room.pk).update(location=other_location)


def test_the_database_refuses_a_visit_in_a_room_of_another_location(
    clinic, book, patient, room_elsewhere
):
    appointment = book(patient)
    with refused_by("appointment_room_is_at_its_location"):
        write_sql(
            "UPDATE booking_appointment SET room_id = %s WHERE id = %s",
            room_elsewhere.pk,
            appointment.pk,
        )


def test_the_database_refuses_a_time_held_in_a_room_of_another_location(
    clinic, patient, room_elsewhere
):
    with refused_by("slot_hold_room_is_at_its_location"):
        a_slot_hold(clinic, patient, next_weekday(clinic.location, 1, 10), room=room_elsewhere)


def test_moving_a_visit_to_another_location_takes_a_room_there(
    clinic, book, patient, room_elsewhere
):
    # Location and room change together in one statement, as a move across locations does.
    appointment = book(patient)
    write_sql(
        "UPDATE booking_appointment SET room_id = %s, location_id = %s WHERE id = %s",
        room_elsewhere.pk,
        room_elsewhere.location_id,
        appointment.pk,
    )
    appointment.refresh_from_db()
    assert appointment.room == room_elsewhere


class _Refused(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_visit_booked_while_the_room_is_moved_keeps_it_and_the_admin_says_so(
    clinic, patient, front_desk, other_location
):
    """At the same instant: the desk books the empty second room, a manager moves it to
    another location in the admin. The move waits for the booking, then sees it: a message on
    the field, not a 500, and the visit stays in a room of its own location."""
    room = clinic.rooms[1]

    def book():
        book_appointment(
            patient=patient,
            location=clinic.location,
            practitioner=clinic.practitioner,
            service=clinic.assessment,
            starts_at=next_weekday(clinic.location, 1, 10),
            minutes=60,
            actor=front_desk,
            room=room,
        )

    def move():
        with transaction.atomic():  # as the admin's change view is
            form = RoomForm(
                {"location": other_location.pk, "name": room.name, "is_active": "on"},
                instance=Room.objects.get(pk=room.pk),
            )
            if not form.is_valid():
                raise _Refused(form.errors["location"][0])
            form.save()

    booked, moved, waited = first_holds_its_lock(book, move, won="done", lost=(_Refused, "refused"))
    assert (booked, waited) == ("done", True), (booked, moved)
    assert moved.startswith("refused: Room 2 has appointments or held times"), moved
    room.refresh_from_db()
    assert room.location == clinic.location
