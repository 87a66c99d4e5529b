"""Working the day view in place: a free box opens the booking in a panel on the same page
(find the patient, confirm, done, the grid drawn again), and an appointment dragged to another
time, practitioner or room is checked with the move form's rules before anything changes — a
refusal says why, an allowed drop asks for confirmation and moves it as the form would, the
patient told. The same URLs work as pages without JavaScript."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from booking.forms import slot_choice_value
from booking.models import Appointment, AppointmentEvent, Notification, Status
from clinic.context_processors import PANEL_TARGET
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_clinic, an_appointment
from tests.factories import PatientFactory, UserFactory, certified_practitioner

pytestmark = pytest.mark.django_db

# What htmx sends when the schedule's panel asks for a page.
IN_PANEL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": PANEL_TARGET}


def _drop(client, appointment, day, minute, **column):
    return client.get(
        reverse("booking:desk_move_drop", args=[appointment.pk]),
        {"date": day.isoformat(), "minute": minute, **column},
        **IN_PANEL,
    )


def _changed(response) -> str:
    """The message of the `deskChanged` event a finished booking or move sends to the page."""
    assert response.status_code == 204
    return json.loads(response["HX-Trigger"])["deskChanged"]["message"]


def test_a_page_asked_for_by_the_panel_comes_without_the_sites_frame(login, front_desk, clinic):
    url = reverse("booking:find_patient", args=[clinic.location.slug])
    client = login(front_desk)
    alone = client.get(url, **IN_PANEL).content.decode()
    assert alone.lstrip().startswith('<div id="panel-content"')
    assert "<html" not in alone and "desk-toolbar" not in alone  # no toolbar
    assert f'action="{url}"' in alone  # its form posts back into the panel
    whole = client.get(url).content.decode()
    assert "<html" in whole and "desk-toolbar" in whole
    # Another htmx request (the grid drawn again) gets the whole page to pick from.
    other = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="schedule-area")
    assert "<html" in other.content.decode()


def test_a_booking_confirmed_in_the_panel_tells_the_page_instead_of_redirecting(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 11)
    book = reverse("booking:book_for_patient", args=[clinic.location.slug, patient.pk])
    response = login(front_desk).post(
        book,
        {
            "service": "assessment",
            "minutes": "60",
            "slot": slot_choice_value(clinic.practitioner.pk, start),
        },
        **IN_PANEL,
    )
    assert _changed(response).startswith(f"Booked: {patient.full_name}, Initial assessment")
    assert Appointment.objects.get(patient=patient).starts_at == start
    # As a page, the same form goes back to the day with the message there.
    later = next_weekday(clinic.location, 2, 11)
    page = login(front_desk).post(
        book,
        {
            "service": "assessment",
            "minutes": "60",
            "slot": slot_choice_value(clinic.practitioner.pk, later),
        },
    )
    assert page.status_code == 302 and "date=" in page["Location"]


def test_a_booking_refused_in_the_panel_says_why_in_the_panel(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 11)
    an_appointment(clinic, PatientFactory(), start)  # taken a moment ago
    response = login(front_desk).post(
        reverse("booking:book_for_patient", args=[clinic.location.slug, patient.pk]),
        {
            "service": "assessment",
            "minutes": "60",
            "slot": slot_choice_value(clinic.practitioner.pk, start),
        },
        **IN_PANEL,
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="panel-content"')
    assert "Nothing was booked" in html
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_drop_onto_free_time_asks_before_moving_then_moves_and_tells_the_patient(
    login, front_desk, clinic, patient, intake
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    day = appointment.local_starts_at.date()
    client = login(front_desk)
    ask = _drop(client, appointment, day, 14 * 60, room=clinic.rooms[1].pk).content.decode()
    assert "Move Alex" in ask or f"Move {patient.full_name}" in ask
    target = appointment.starts_at.replace(hour=appointment.starts_at.hour + 4)
    value = slot_choice_value(clinic.practitioner.pk, target)
    assert f'name="slot" value="{value}"' in ask and "Room 2" in ask
    appointment.refresh_from_db()
    assert not appointment.events.exists()  # nothing moved by asking
    before = Notification.objects.filter(appointment=appointment, kind="rescheduled").count()
    moved = client.post(
        reverse("booking:desk_move", args=[appointment.pk]),
        {
            "version": appointment.version,
            "location": clinic.location.slug,
            "slot": value,
            "room": clinic.rooms[1].pk,
            "next": f"/schedule/locations/{clinic.location.slug}/",
        },
        **IN_PANEL,
    )
    assert _changed(moved).startswith("Moved to ")
    appointment.refresh_from_db()
    assert (appointment.starts_at, appointment.room) == (target, clinic.rooms[1])
    assert appointment.events.get().kind == AppointmentEvent.Kind.MOVED
    after = Notification.objects.filter(appointment=appointment, kind="rescheduled").count()
    assert after == before + 1


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("busy", "The practitioner is busy then"),
        ("evening", "The practitioner is not working at this location at that time."),
        ("past", "This time is in the past."),
    ],
)
def test_a_drop_that_breaks_a_rule_is_refused_with_the_reason(
    login, front_desk, clinic, patient, intake, where, reason
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    day = appointment.local_starts_at.date()
    minute = 14 * 60
    if where == "busy":
        an_appointment(
            clinic, PatientFactory(), next_weekday(clinic.location, 1, 14), room=clinic.rooms[1]
        )
    elif where == "evening":
        minute = 19 * 60
    else:
        day = clinic.location.today() - dt.timedelta(days=1)
    html = _drop(login(front_desk), appointment, day, minute).content.decode()
    assert "Not moved" in html and reason in html
    assert 'name="slot"' not in html  # nothing to confirm
    appointment.refresh_from_db()
    assert appointment.local_starts_at.hour == 10 and not appointment.events.exists()


@pytest.mark.parametrize("minute", ["-5", "1440", "noon"])
def test_a_drop_at_a_minute_off_the_clock_is_refused_with_a_message(
    login, front_desk, clinic, patient, intake, minute
):
    """A hand-made drop address with a minute before midnight or after the day's last is
    refused like an unreadable one, not a 500."""
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = _drop(login(front_desk), appointment, appointment.local_starts_at.date(), minute)
    assert response.status_code == 200
    assert "That time could not be read" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.local_starts_at.hour == 10 and not appointment.events.exists()


@pytest.mark.parametrize(
    ("whose", "reason"),
    [
        ("a colleague with no hours here", "not working at this location at that time."),
        ("another location's", "That practitioner does not work here."),
    ],
)
def test_a_drop_onto_another_practitioner_checks_that_practitioner(
    login, front_desk, clinic, patient, intake, whose, reason
):
    """A drop stays at the appointment's location, and the column's practitioner must be free
    to see the patient then."""
    if whose == "another location's":
        other = a_clinic(slug="elsewhere", name="Elsewhere").practitioner
    else:
        other = certified_practitioner(locations=[clinic.location])
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    day = appointment.local_starts_at.date()
    html = _drop(login(front_desk), appointment, day, 14 * 60, practitioner=other.pk)
    assert reason in html.content.decode()


def test_a_checked_in_appointment_cannot_be_dropped_elsewhere(
    login, front_desk, clinic, patient, intake
):
    appointment = an_appointment(
        clinic, patient, next_weekday(clinic.location, 1, 10), status=Status.CHECKED_IN
    )
    html = _drop(
        login(front_desk), appointment, appointment.local_starts_at.date(), 14 * 60
    ).content.decode()
    assert "A checked in appointment cannot be moved." in html


def test_an_appointment_of_a_location_not_yours_cannot_be_dropped(
    login, clinic, patient, other_location
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    stranger = UserFactory(role="front_desk")
    stranger.locations.add(other_location)
    response = _drop(login(stranger), appointment, appointment.local_starts_at.date(), 840)
    assert response.status_code == 404


def test_the_day_view_lets_movable_appointments_be_dragged_onto_its_columns(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 10)
    movable = an_appointment(clinic, patient, start)
    done = an_appointment(
        clinic, PatientFactory(), start + dt.timedelta(hours=3), status=Status.CHECKED_IN
    )
    client = login(front_desk)
    url = reverse("booking:location_day", args=[clinic.location.slug])
    html = client.get(url, {"date": start.date().isoformat()}).content.decode()
    assert f'data-move="{reverse("booking:desk_move_drop", args=[movable.pk])}"' in html
    assert reverse("booking:desk_move_drop", args=[done.pk]) not in html
    assert f'data-drop="practitioner={clinic.practitioner.pk}"' in html
    by_room = client.get(url, {"date": start.date().isoformat(), "by": "rooms"}).content.decode()
    assert f'data-drop="room={clinic.rooms[1].pk}"' in by_room
    past = client.get(url, {"date": (clinic.location.today() - dt.timedelta(days=1)).isoformat()})
    assert "data-move=" not in past.content.decode()
