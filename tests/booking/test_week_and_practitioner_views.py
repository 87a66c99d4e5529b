"""The week of a location, a practitioner's day and week across their locations, and the
printable list of a day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.availability import aware
from booking.desk import grid
from booking.models import Appointment, Status
from clinic.models import OpeningHours, Role, WorkingHours
from tests.booking.conftest import location_day_html, next_weekday, practitioner_day_html
from tests.booking.factories import (
    AppointmentFactory,
    RoomFactory,
    a_course_record,
    an_appointment,
    busy_day,
)
from tests.factories import LocationFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _book(location, practitioner, room, service, start, minutes=60, **fields):
    """An appointment at `location` (of a new patient unless `fields` name one), blocking 5
    minutes more: the factory's own rule."""
    return AppointmentFactory(
        location=location,
        practitioner=practitioner,
        room=room,
        service=service,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        **fields,
    )


def test_the_week_shows_each_practitioners_days(login, front_desk, clinic, intake):
    tuesday = next_weekday(clinic.location, 1, 10)
    appointment = _book(
        clinic.location, clinic.practitioner, clinic.rooms[0], clinic.assessment, tuesday
    )
    monday = grid.week_start(tuesday.astimezone(clinic.location.zone).date())
    html = (
        login(front_desk)
        .get(
            reverse("booking:location_week", args=[clinic.location.slug]),
            {"from": (monday + dt.timedelta(days=3)).isoformat()},  # any day of the week will do
        )
        .content.decode()
    )
    assert f"week of {monday:%A} {monday.day} {monday:%B %Y}" in html
    assert appointment.patient.full_name in html and "10:00 AM" in html
    # Tuesday 9–17 minus the appointment and its buffer: 6 h 55 left; Monday all 8 hours.
    assert "Free 6 h 55" in html and "Free 8 h 00" in html
    assert "Off" in html  # Saturday and Sunday


def _week_opened(client, location) -> str:
    html = client.get(reverse("booking:location_week", args=[location.slug])).content.decode()
    return html.split(" · week of ", 1)[1].split("<", 1)[0]


# Saturday 12 June 2027, 10:00 in Toronto.
SATURDAY = dt.datetime(2027, 6, 12, 14, tzinfo=dt.UTC)


def test_with_no_week_chosen_the_week_opens_on_the_current_working_week(
    login, front_desk, clinic, time_machine
):
    time_machine.move_to(SATURDAY - dt.timedelta(days=3))  # Wednesday
    client = login(front_desk)
    assert _week_opened(client, clinic.location) == "Monday 7 June 2027"


@pytest.mark.time_machine(SATURDAY, tick=True)
def test_on_saturday_the_week_opens_on_the_next_working_week(login, front_desk, clinic):
    OpeningHours.objects.filter(location=clinic.location, weekday=5).delete()  # Mon–Fri
    client = login(front_desk)
    assert _week_opened(client, clinic.location) == "Monday 14 June 2027"
    # A week chosen is the week shown, and the way back to it is one click.
    html = client.get(
        reverse("booking:location_week", args=[clinic.location.slug]), {"from": "2027-06-12"}
    ).content.decode()
    assert "week of Monday 7 June 2027" in html
    day = client.get(reverse("booking:location_day", args=[clinic.location.slug])).content
    week_button = f'href="{reverse("booking:location_week", args=[clinic.location.slug])}"'
    assert week_button in day.decode()  # today's day: the Week button chooses no week


@pytest.mark.time_machine(SATURDAY, tick=True)
def test_a_location_open_on_saturday_still_shows_this_week_then(login, front_desk, clinic):
    assert _week_opened(login(front_desk), clinic.location) == "Monday 7 June 2027"


@pytest.mark.time_machine(SATURDAY + dt.timedelta(days=1), tick=True)
def test_on_sunday_after_the_last_working_day_it_opens_on_the_next_week(login, front_desk, clinic):
    assert _week_opened(login(front_desk), clinic.location) == "Monday 14 June 2027"


def test_the_week_of_a_busy_location_takes_a_fixed_number_of_queries(
    login, location, intake, django_assert_max_num_queries
):
    client = login(UserFactory(role=Role.MANAGER))
    quiet = LocationFactory(slug="quiet")
    day = location.today() + dt.timedelta(days=2)
    busy_day(quiet, day, practitioners=1, appointments_each=1)
    busy_day(location, day, practitioners=30, appointments_each=5)
    week = {"from": day.isoformat()}
    client.get(reverse("booking:location_week", args=[quiet.slug]), week)
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("booking:location_week", args=[quiet.slug]), week)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(reverse("booking:location_week", args=[location.slug]), week)
    assert html.content.decode().count("week-appt status-confirmed") == 150


def test_the_printable_list_has_every_appointment_of_the_day(login, front_desk, clinic, intake):
    start = next_weekday(clinic.location, 1, 9)
    kept = _book(clinic.location, clinic.practitioner, clinic.rooms[0], clinic.assessment, start)
    cancelled = _book(
        clinic.location,
        clinic.practitioner,
        clinic.rooms[1],
        clinic.assessment,
        start + dt.timedelta(hours=2),
        status=Status.CANCELLED,
        cancelled_by="patient",
        late_cancellation=True,
    )
    desk = login(front_desk)
    html = location_day_html(desk, clinic.location, start, page="booking:location_day_list")
    assert html.index(kept.patient.full_name) < html.index(cancelled.patient.full_name)
    assert kept.patient.phone in html and "Patient, late" in html
    assert "Intake missing" in html and "First visit" in html
    assert "sched-free" not in html  # a list, not the grid


@pytest.fixture
def two_locations(clinic, other_location):
    """`clinic.practitioner` also works Thursdays at `other_location`."""
    practitioner = clinic.practitioner
    practitioner.user.locations.add(other_location)
    WorkingHours.objects.filter(practitioner=practitioner, weekday=3).delete()
    for weekday in range(5):
        OpeningHours.objects.create(
            location=other_location, weekday=weekday, opens_at=dt.time(8), closes_at=dt.time(18)
        )
    WorkingHours.objects.create(
        practitioner=practitioner,
        location=other_location,
        weekday=3,
        starts_at=dt.time(9),
        ends_at=dt.time(17),
    )
    room = RoomFactory(location=other_location, name="Rockville room")
    return practitioner, other_location, room


def test_a_practitioners_week_spans_their_locations(login, manager, clinic, two_locations, intake):
    practitioner, rockville, room = two_locations
    tuesday = next_weekday(clinic.location, 1, 10)
    # The Thursday of the same week, whatever day it is today.
    thursday = aware(
        tuesday.astimezone(clinic.location.zone).date() + dt.timedelta(days=2),
        dt.time(13),
        rockville.zone,
    )
    _book(clinic.location, practitioner, clinic.rooms[0], clinic.assessment, tuesday)
    _book(rockville, practitioner, room, clinic.assessment, thursday)
    html = (
        login(manager)
        .get(
            reverse("booking:practitioner_week", args=[practitioner.pk]),
            {"from": tuesday.astimezone(clinic.location.zone).date().isoformat()},
        )
        .content.decode()
    )
    assert "Leaside 9:00 AM–5:00 PM" in html and "Rockville 9:00 AM–5:00 PM" in html
    assert "10:00 AM–11:00 AM" in html and "1:00 PM–2:00 PM" in html


def test_the_front_desk_sees_a_practitioner_elsewhere_only_as_away(
    login, front_desk, clinic, two_locations, intake
):
    practitioner, rockville, room = two_locations
    thursday = next_weekday(rockville, 3, 13)
    other = _book(rockville, practitioner, room, clinic.assessment, thursday)
    html = practitioner_day_html(login(front_desk), practitioner, rockville, thursday)
    assert "At Rockville" in html
    assert other.patient.full_name not in html


def test_a_practitioners_own_day_links_to_the_chart_and_the_note_to_write(
    login, clinic, patient, intake
):
    practitioner = clinic.practitioner
    course = a_course_record(patient, practitioner)
    start = next_weekday(clinic.location, 1, 10)
    session = _book(
        clinic.location,
        practitioner,
        clinic.rooms[0],
        clinic.needling,
        start,
        minutes=30,
        patient=patient,
        course=course,
        session_number=2,
    )
    client = login(practitioner.user)
    assert client.get(reverse("booking:my_schedule")).url == reverse(
        "booking:practitioner_day", args=[practitioner.pk]
    )
    html = practitioner_day_html(client, practitioner, clinic.location, start)
    assert "My day" in html and "DN 2/6" in html
    assert reverse("intake:patient_chart", args=[patient.pk]) in html
    note = reverse("intake:session_note_start", args=[patient.pk])
    assert f"{note}?appointment={session.pk}&amp;session=2" in html


def test_the_front_desk_gets_no_clinical_links(login, front_desk, clinic, patient, intake):
    start = next_weekday(clinic.location, 1, 10)
    _book(
        clinic.location,
        clinic.practitioner,
        clinic.rooms[0],
        clinic.assessment,
        start,
        patient=patient,
    )
    html = practitioner_day_html(login(front_desk), clinic.practitioner, clinic.location, start)
    assert "Assessment note" not in html and ">Chart<" not in html


def test_a_practitioners_week_takes_a_fixed_number_of_queries(
    login, manager, clinic, two_locations, intake, django_assert_max_num_queries
):
    practitioner, rockville, room = two_locations
    client = login(manager)
    url = reverse("booking:practitioner_week", args=[practitioner.pk])

    # Weeks counted from this week's Monday, whatever day and hour it is now.
    this_monday = grid.week_start(clinic.location.today())

    def week_from(weeks_ahead: int) -> dict:
        return {"from": (this_monday + dt.timedelta(weeks=weeks_ahead)).isoformat()}

    def at_ten(weeks_ahead: int, weekday: int, location) -> dt.datetime:
        day = this_monday + dt.timedelta(weeks=weeks_ahead, days=weekday)
        return aware(day, dt.time(10), location.zone)

    # The measure: a week with a single appointment (an empty week skips the badge queries).
    _book(
        clinic.location,
        practitioner,
        clinic.rooms[0],
        clinic.assessment,
        at_ten(5, 2, clinic.location),
    )
    client.get(url, week_from(5))
    with CaptureQueriesContext(connection) as one:
        client.get(url, week_from(5))
    for week in range(1, 4):
        for day in range(5):
            where = rockville if day == 3 else clinic.location
            _book(
                where,
                practitioner,
                room if day == 3 else clinic.rooms[0],
                clinic.assessment,
                at_ten(week, day, where),
            )
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(url, week_from(1)).content.decode()
    monday = this_monday + dt.timedelta(weeks=1)
    that_week = Appointment.objects.filter(
        practitioner=practitioner,
        starts_at__gte=grid.day_bounds(monday, clinic.location.zone)[0],
        starts_at__lt=grid.day_bounds(monday + dt.timedelta(days=6), clinic.location.zone)[1],
    )
    assert that_week.count() == 5
    assert all(f"/appointments/{a.pk}/" in html for a in that_week)


def test_the_front_desk_home_shows_today_and_the_requests(login, front_desk, clinic, intake):
    an_appointment(
        clinic, PatientFactory(), next_weekday(clinic.location, 1, 10), status=Status.REQUESTED
    )
    html = login(front_desk).get(reverse("clinic:front_desk_home")).content.decode()
    assert "Leaside: today's schedule" in html and "1 request to confirm" in html
    assert reverse("booking:location_day", args=[clinic.location.slug]) in html
