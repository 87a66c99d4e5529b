"""A dry-needling session booked while its practitioner was certified stays booked when the
certification lapses or is shortened (booking refuses only new bookings, migration 0019): the
schedule and the session's page then flag it for the desk to move, on the location's clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.models import Status
from tests.booking.conftest import location_day_html, next_weekday, practitioner_day_html
from tests.booking.factories import a_course, an_appointment

pytestmark = pytest.mark.django_db

FLAG = "Practitioner not certified that day"


@pytest.fixture
def sessions(clinic, patient):
    """Two weekly sessions of a course, confirmed, booked while the practitioner is certified."""
    first = next_weekday(clinic.location, 1, 10)
    course = a_course(
        clinic, patient, statuses=[Status.CONFIRMED, Status.CONFIRMED], first_start=first
    )
    return list(course.appointments.order_by("session_number"))


def _lapses_on(practitioner, day: dt.date):
    """Their certification's last day becomes `day` (a manager shortens it, or it was never
    renewed)."""
    practitioner.certifications.update(valid_until=day)


def _local_day(appointment) -> dt.date:
    return appointment.starts_at.astimezone(appointment.location.zone).date()


def _page(client, appointment) -> str:
    url = reverse("booking:appointment_detail", args=[appointment.pk])
    return client.get(url).content.decode()


def test_a_session_after_the_lapse_is_flagged_where_the_desk_looks(
    login, front_desk, clinic, sessions
):
    first, second = sessions
    _lapses_on(clinic.practitioner, _local_day(first))
    client = login(front_desk)
    day = location_day_html(client, clinic.location, second.starts_at)
    assert FLAG in day and '<span class="flag badge-uncertified" aria-hidden="true">⚠ Cert' in day
    assert FLAG not in location_day_html(client, clinic.location, first.starts_at)
    week = client.get(
        reverse("booking:location_week", args=[clinic.location.slug]),
        {"from": (_local_day(second) - dt.timedelta(days=1)).isoformat()},
    ).content.decode()
    assert week.count(FLAG) == 1
    practitioners_day = practitioner_day_html(
        client, clinic.practitioner, clinic.location, second.starts_at
    )
    assert FLAG in practitioners_day
    page = _page(client, second)
    assert (
        f"{FLAG}: {clinic.practitioner.name} holds no dry-needling certification current on "
        "this date: move the session to a certified practitioner" in page
    )
    assert FLAG not in _page(client, first)


def test_a_renewal_current_on_the_day_leaves_the_session_unflagged(
    login, front_desk, clinic, sessions
):
    _, second = sessions
    _lapses_on(clinic.practitioner, _local_day(sessions[0]))
    client = login(front_desk)
    assert FLAG in _page(client, second)
    clinic.practitioner.certifications.create(
        issued_by="Renewal",
        valid_from=_local_day(second),
        valid_until=_local_day(second) + dt.timedelta(days=365),
    )
    assert FLAG not in _page(client, second)


def test_the_day_is_the_locations_not_utcs(login, front_desk, clinic, patient):
    """A session in the evening, when the date in UTC is already the next: a certification
    whose last day is the session's day on the location's clock still covers it."""
    evening = next_weekday(clinic.location, 1, 21, minute=30)
    assert evening.astimezone(dt.UTC).date() != _local_day_of(clinic, evening)
    course = a_course(clinic, patient, statuses=[Status.CONFIRMED], first_start=evening)
    session = course.appointments.get()
    _lapses_on(clinic.practitioner, _local_day_of(clinic, evening))
    client = login(front_desk)
    assert FLAG not in _page(client, session)
    _lapses_on(clinic.practitioner, _local_day_of(clinic, evening) - dt.timedelta(days=1))
    assert FLAG in _page(client, session)


def _local_day_of(clinic, moment: dt.datetime) -> dt.date:
    return moment.astimezone(clinic.location.zone).date()


def test_what_is_not_a_needling_session_to_come_is_not_flagged(
    login, front_desk, clinic, patient, other_patient
):
    """An assessment needs no certification; a session already given or cancelled is
    history, not something to move."""
    start = next_weekday(clinic.location, 2, 10)
    assessment = an_appointment(clinic, other_patient, start)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CANCELLED, Status.CONFIRMED],
        first_start=start + dt.timedelta(hours=2),
    )
    cancelled = course.appointments.get(session_number=1)
    _lapses_on(clinic.practitioner, _local_day(assessment) - dt.timedelta(days=1))
    client = login(front_desk)
    assert FLAG not in _page(client, assessment)
    assert FLAG not in _page(client, cancelled)
    assert FLAG in _page(client, course.appointments.get(session_number=2))


def test_the_flag_costs_the_day_no_query(login, front_desk, clinic, sessions):
    _, second = sessions
    client = login(front_desk)
    location_day_html(client, clinic.location, second.starts_at)  # warm up
    with CaptureQueriesContext(connection) as certified:
        location_day_html(client, clinic.location, second.starts_at)
    _lapses_on(clinic.practitioner, _local_day(sessions[0]))
    with CaptureQueriesContext(connection) as lapsed:
        html = location_day_html(client, clinic.location, second.starts_at)
    assert FLAG in html
    assert len(lapsed.captured_queries) == len(certified.captured_queries)
