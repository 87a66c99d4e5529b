"""The front desk's day view of a location: practitioners (or rooms) as columns, time down the
side in the location's own time zone, every appointment with what the desk needs to know,
free time that leads to booking it, and a location choice that sticks."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.availability import aware
from booking.desk import free_time, grid, schedule, timing
from booking.models import Appointment, Course, Status
from clinic.models import Holiday, Role
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_clinic,
    an_appointment,
    busy_day,
    needling_service,
    prescribing_assessment,
)
from tests.database import rule_set_aside
from tests.factories import LocationFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _day_page(client, location, day, **query):
    return client.get(
        reverse("booking:location_day", args=[location.slug]),
        {"date": day.isoformat(), **query},
    )


def test_each_practitioner_is_a_column_with_the_days_appointments(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 10)
    an_appointment(clinic, patient, start)
    html = _day_page(login(front_desk), clinic.location, start.date()).content.decode()
    assert clinic.practitioner.name in html
    assert "9:00 AM–5:00 PM" in html  # their hours that day
    assert "10:00 AM–11:00 AM" in html
    assert patient.full_name in html and "Initial assessment" in html and "Confirmed" in html


def test_times_are_shown_in_the_locations_time_zone(login, intake):
    location = LocationFactory(slug="vancouver", time_zone="America/Vancouver")
    clinic = a_clinic(location=location)
    manager = UserFactory(role=Role.MANAGER)
    start = next_weekday(location, 2, 10)  # 10:00 in Vancouver is 18:00 UTC
    an_appointment(clinic, PatientFactory(), start)
    day = start.astimezone(location.zone).date()
    html = _day_page(login(manager), location, day).content.decode()
    assert "10:00 AM–11:00 AM" in html
    assert "6:00 PM–7:00 PM" not in html
    assert "America/Vancouver" in html


def test_a_course_session_shows_its_number(login, front_desk, clinic, patient, intake):
    course = Course.objects.create(
        patient=patient,
        practitioner=clinic.practitioner,
        assessment_id=prescribing_assessment(patient, clinic.practitioner).pk,
        sessions_planned=6,
        minutes=30,
        created_by=front_desk,
    )
    start = next_weekday(clinic.location, 3, 11)
    an_appointment(
        clinic,
        patient,
        start,
        minutes=30,
        service=needling_service(),
        course=course,
        session_number=3,
    )
    html = _day_page(login(front_desk), clinic.location, start.date()).content.decode()
    assert "DN 3/6" in html and "Dry-needling session" in html


def test_rooms_can_be_the_columns(login, front_desk, clinic, patient, intake):
    start = next_weekday(clinic.location, 1, 10)
    an_appointment(clinic, patient, start)
    html = _day_page(login(front_desk), clinic.location, start.date(), by="rooms").content.decode()
    assert 'id="col-1">Room 1</h2>' in html and 'id="col-2">Room 2</h2>' in html
    assert f"Initial assessment · {clinic.practitioner.name}" in html


def test_free_time_links_to_booking_the_service_at_that_time(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 10)
    an_appointment(clinic, patient, start)
    day = start.astimezone(clinic.location.zone).date()
    offer = next(o for o in free_time.offers() if o.key == "assessment:60")
    loaded = schedule.load_location_day(clinic.location, day)
    grid = schedule.day_grid(loaded, book_url="/book/", offer=offer)
    free = [item for item in grid.columns[0].items if item.kind == "free"]
    # The appointment until 11:00 and its 5-minute buffer: the next start is 11:15.
    assert free[0].label == "11:15 AM"
    after = aware(day, dt.time(11, 15), clinic.location.zone)
    assert free[0].url == (
        f"/book/?service=assessment&minutes=60&practitioner={clinic.practitioner.pk}"
        f"&at={after:%Y-%m-%dT%H:%M:%SZ}"
    )


def test_no_free_time_is_offered_in_the_past(login, front_desk, clinic, intake):
    yesterday = clinic.location.today() - dt.timedelta(days=1)
    html = _day_page(login(front_desk), clinic.location, yesterday).content.decode()
    assert "sched-free" not in html
    now = timezone.now()
    loaded = schedule.load_location_day(clinic.location, clinic.location.today(), now=now)
    grid = schedule.day_grid(loaded, book_url="/book/", offer=free_time.offers()[0])
    for column in grid.columns:
        for item in column.items:
            if item.kind == "free":
                at = dt.datetime.fromisoformat(item.url.split("at=")[1])
                assert at >= now - dt.timedelta(minutes=5)


def test_a_closed_day_says_so(login, front_desk, clinic, intake):
    day = next_weekday(clinic.location, 2, 12).date()
    Holiday.objects.create(location=clinic.location, date=day, name="Civic Holiday")
    html = _day_page(login(front_desk), clinic.location, day).content.decode()
    assert "Leaside is closed this day" in html
    assert "sched-free" not in html


def test_cancellations_and_no_shows_are_listed_beside_the_grid(
    login, front_desk, clinic, patient, other_patient, intake
):
    start = next_weekday(clinic.location, 1, 10)
    an_appointment(
        clinic,
        patient,
        start,
        status=Status.CANCELLED,
        cancelled_by="patient",
        cancellation_reason="Flu",
        late_cancellation=True,
    )
    an_appointment(clinic, other_patient, start)  # the freed time was booked again
    html = _day_page(login(front_desk), clinic.location, start.date()).content.decode()
    assert "Cancelled and no-shows this day" in html
    assert "by the patient (late): Flu" in html
    assert html.count("sched-appt status-") == 1


def test_the_location_chosen_last_is_where_the_schedule_opens(
    client, front_desk, location, other_location, intake
):
    front_desk.locations.add(other_location)
    client.force_login(front_desk)
    first = client.get(reverse("booking:schedule"))
    assert first.url == reverse("booking:location_day", args=[location.slug])
    client.get(reverse("booking:location_day", args=[other_location.slug]))
    again = client.get(reverse("booking:schedule"))
    assert again.url == reverse("booking:location_day", args=[other_location.slug])


def test_a_remembered_location_one_no_longer_works_at_is_ignored(
    client, front_desk, location, other_location, intake
):
    front_desk.locations.add(other_location)
    client.force_login(front_desk)
    client.get(reverse("booking:location_day", args=[other_location.slug]))
    front_desk.locations.remove(other_location)
    assert client.get(reverse("booking:schedule")).url == reverse(
        "booking:location_day", args=[location.slug]
    )


def test_the_switcher_lists_only_the_staff_members_locations(
    login, front_desk, location, other_location, intake
):
    third = LocationFactory(name="Danforth", slug="danforth")
    front_desk.locations.add(third)
    html = login(front_desk).get(reverse("booking:location_day", args=[location.slug]))
    html = html.content.decode()
    assert reverse("booking:location_day", args=["danforth"]) in html
    assert reverse("booking:location_day", args=[other_location.slug]) not in html


def test_a_busy_day_renders_in_a_fixed_number_of_queries(
    login, location, intake, django_assert_max_num_queries
):
    """30 practitioners' columns and 150 appointments cost the same queries as one column."""
    manager = UserFactory(role=Role.MANAGER)
    client = login(manager)
    quiet = LocationFactory(slug="quiet")
    day = location.today() + dt.timedelta(days=3)
    busy_day(quiet, day, practitioners=1, appointments_each=2)
    busy_day(location, day, practitioners=30, appointments_each=5)
    _day_page(client, quiet, day)  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as small:
        _day_page(client, quiet, day)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = _day_page(client, location, day)
    html = response.content.decode()
    assert html.count("sched-appt status-confirmed") == 150
    assert html.count('class="sched-col') == 30
    assert intake.calls >= 1  # intake is asked once per page, whatever the number of patients


def test_day_view_timing_measures_the_day_view_for_the_benchmark(location, intake):
    day = location.today() + dt.timedelta(days=2)
    busy_day(location, day, practitioners=3, appointments_each=2)
    timings, queries = timing.day_view_timing(location, repeats=3)
    assert len(timings) == 3 and all(t > 0 for t in timings)
    assert 10 <= queries <= 20


def test_the_benchmark_times_the_day_again_with_its_needling_sessions_in_courses(
    clinic, patient, intake
):
    """The synthetic day's needling sessions are of no course; the benchmark times the same day
    again with each a session of a course of its patient (so the schedule reads each plan), and
    leaves the day as it found it."""
    from booking.benchmark.figures import Figures
    from booking.benchmark.measures import measure_day_view

    other = PatientFactory()
    # In the coming week, where the benchmark looks for its busiest day.
    start = aware(clinic.location.today() + dt.timedelta(days=2), dt.time(9), clinic.location.zone)
    with rule_set_aside("booking_appointment", "needling_session_belongs_to_a_course"):
        visits = [
            an_appointment(clinic, who, start + dt.timedelta(hours=h), service=clinic.needling)
            for h, who in enumerate([patient, other, patient])
        ]
    world = {
        "locations": [clinic.location],
        "needling": clinic.needling,
        "practitioners": [(clinic.practitioner, clinic.location)],
    }
    figures = Figures([])
    measure_day_view(world, figures)
    measured = {name: value for name, value, _ in figures.lines}
    assert measured["day_view_of_courses_sessions"] == 3
    assert measured["day_view_of_courses_p95_ms"] > 0
    # The plan of each session is read in the day's one query of appointments.
    assert measured["day_view_of_courses_queries"] == measured["day_view_queries"]
    assert not Course.objects.exists()
    assert {v.course_id for v in Appointment.objects.filter(pk__in=[v.pk for v in visits])} == {
        None
    }


def test_the_grid_stylesheet_is_in_step_with_the_grid():
    css = Path(settings.BASE_DIR, "static", "css", "schedule-grid.css").read_text()
    assert css == grid.grid_css()


def test_the_day_view_works_without_scripts_and_has_no_inline_code(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 10)  # a working day, whatever day the suite runs
    an_appointment(clinic, patient, start)
    html = _day_page(login(front_desk), clinic.location, start.date()).content.decode()
    assert "style=" not in html
    # Scripts only from the app's own files (the CSP allows nothing else), and none inline.
    assert re.findall(r"<script(?![^>]* src=\"/static/)", html) == []
    # What the enhancement does in place, the page does without it: free boxes are links to
    # the booking pages, appointments links to their own pages.
    assert '<a class="sched-free' in html and 'href="/schedule/locations/' in html
    assert 'draggable="true"' in html and 'href="/appointments/' in html
