"""A course stays as it was booked when the practitioner amends its assessment's plan (booking
0017: the sessions left are the practitioner's and the desk's call). The schedule and each
session's page say so: a session beyond a shortened plan, and every session to come once the
amended assessment says dry needling is not appropriate."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.models import Appointment, Course, Status
from clinic.models import AccessLog
from tests.booking.conftest import location_day_html, next_weekday
from tests.booking.factories import a_course, an_amended_plan, an_appointment
from tests.conftest import messages_said

pytestmark = pytest.mark.django_db

BEYOND = "Beyond the amended plan of 4 sessions"
WITHDRAWN = "Assessment amended: no dry needling"
# An amendment deciding that dry needling is no longer appropriate (so planning no sessions).
NO_NEEDLING = {
    "needling_appropriate": False,
    "decision_reason": "Started anticoagulants since the assessment",
    "planned_sessions": None,
    "session_minutes": None,
    "interval_days": None,
}


def _booked(clinic, patient, sessions: int):
    """A course of `sessions` weekly sessions, all booked and confirmed, from next Tuesday."""
    return a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED] * sessions,
        first_start=next_weekday(clinic.location, 1, 10),
        sessions_planned=sessions,
    )


@pytest.fixture
def course(clinic, patient):
    return _booked(clinic, patient, 6)


def _session(course, number):
    return course.appointments.get(session_number=number)


def _page(client, appointment) -> str:
    url = reverse("booking:appointment_detail", args=[appointment.pk])
    return client.get(url).content.decode()


def test_sessions_beyond_a_shortened_plan_are_flagged_and_the_rest_are_not(
    login, front_desk, clinic, course
):
    an_amended_plan(course, planned_sessions=4)
    client = login(front_desk)
    for number in (5, 6):
        page = _page(client, _session(course, number))
        assert (
            f"{BEYOND}: the assessment was amended to plan 4 sessions since the course was "
            "booked: cancel this session, unless the practitioner extends the plan again" in page
        )
    assert BEYOND not in _page(client, _session(course, 4))
    day = location_day_html(client, clinic.location, _session(course, 5).starts_at)
    assert BEYOND in day and '<span class="flag badge-plan" aria-hidden="true">⚠ Plan' in day


def test_every_session_to_come_is_flagged_once_needling_is_no_longer_appropriate(
    login, front_desk, clinic, course
):
    Appointment.objects.filter(pk=_session(course, 1).pk).update(
        status=Status.CANCELLED, cancelled_by="patient"
    )
    an_amended_plan(course, **NO_NEEDLING)
    client = login(front_desk)
    assert WITHDRAWN not in _page(client, _session(course, 1))  # cancelled: history
    for number in range(2, 7):
        assert WITHDRAWN in _page(client, _session(course, number))
    week = client.get(
        reverse("booking:location_week", args=[clinic.location.slug]),
        {"from": (_session(course, 2).local_starts_at.date()).isoformat()},
    ).content.decode()
    assert week.count(WITHDRAWN) == 1


def test_a_plan_amended_in_its_length_or_spacing_only_flags_nothing(
    login, front_desk, clinic, course
):
    an_amended_plan(course, interval_days=14)
    day = location_day_html(login(front_desk), clinic.location, _session(course, 6).starts_at)
    assert "badge-plan" not in day.replace('class="flag badge-plan">', "")  # the key's own


def test_the_flags_cost_the_day_no_query(login, front_desk, clinic, course):
    client = login(front_desk)
    moment = _session(course, 5).starts_at
    location_day_html(client, clinic.location, moment)  # warm up
    with CaptureQueriesContext(connection) as before:
        location_day_html(client, clinic.location, moment)
    an_amended_plan(course, planned_sessions=4)
    with CaptureQueriesContext(connection) as after:
        assert BEYOND in location_day_html(client, clinic.location, moment)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_a_visit_outside_the_course_is_not_flagged_by_its_plan(
    login, front_desk, clinic, patient, course
):
    """The patient's re-assessment, booked beside the course, is not a session of it: an
    amended plan says nothing about it."""
    visit = an_appointment(clinic, patient, next_weekday(clinic.location, 4, 10))
    an_amended_plan(course, **NO_NEEDLING)
    client = login(front_desk)
    assert WITHDRAWN in _page(client, _session(course, 1))
    assert WITHDRAWN not in _page(client, visit)


# --- A plan amended to more sessions: the course follows it ---------------------------------------


@pytest.fixture
def four(clinic, patient):
    return _booked(clinic, patient, 4)


def _course_page(client, course) -> str:
    return client.get(reverse("booking:course_detail", args=[course.pk])).content.decode()


def _extend(client, course):
    return client.post(reverse("booking:course_extend", args=[course.pk]), follow=True)


def test_a_plan_amended_to_more_sessions_is_followed_and_they_are_booked_under_their_numbers(
    login, front_desk, clinic, four
):
    """The practitioner extends the plan by amending the assessment (as signing session 5's
    note asks them to); the course follows on the desk's word, and sessions 5 and 6 are then
    booked like a session booked again."""
    an_amended_plan(four, planned_sessions=6)
    client = login(front_desk)
    assert "Extend the course to 6 sessions" in _course_page(client, four)
    response = _extend(client, four)
    assert "The course now plans 6 sessions, as its assessment does: book sessions 5–6" in (
        messages_said(response)
    )
    four.refresh_from_db()
    assert four.sessions_planned == 6
    page = _course_page(client, four)
    assert "Book session 5</a>" in page and "Book session 6</a>" in page
    assert "Extend the course" not in page and "was amended since" not in page
    assert AccessLog.objects.filter(
        actor=front_desk, action=AccessLog.Action.CHANGE, record_type="booking.course"
    ).exists()
    fifth = services.rebook_course_session(
        course=four,
        session_number=5,
        location=clinic.location,
        practitioner=clinic.practitioner,
        starts_at=_session(four, 4).starts_at + dt.timedelta(days=7),
        actor=front_desk,
    )
    assert fifth.session_number == 5 and fifth.minutes == 30


def test_a_plan_that_also_changes_the_sessions_length_or_spacing_is_not_followed(
    login, front_desk, four
):
    an_amended_plan(four, planned_sessions=6, interval_days=14)
    client = login(front_desk)
    page = _course_page(client, four)
    assert "Extend the course" not in page
    assert "cannot be extended to them here: The amended plan also changes the sessions to 30 " in (
        page
    )
    response = _extend(client, four)
    assert "The course was not extended." in messages_said(response)
    four.refresh_from_db()
    assert four.sessions_planned == 4


def test_only_a_plan_amended_to_more_sessions_extends_a_course(login, front_desk, four):
    client = login(front_desk)
    assert "was amended since" not in _course_page(client, four)
    response = _extend(client, four)
    assert "plans no more than the course's 4 sessions" in messages_said(response)
    an_amended_plan(four, **NO_NEEDLING)
    assert "not appropriate" in messages_said(_extend(client, four))
    four.refresh_from_db()
    assert four.sessions_planned == 4


def test_an_amendment_signed_while_the_course_is_extended_is_not_overrun(four, monkeypatch):
    """Read, then amended again before the course is written: PostgreSQL reads the plan under
    the assessment's lock (booking 0017) and the desk is told, not shown a 500."""
    an_amended_plan(four, planned_sessions=6)
    stale = four.plan_as_it_stands()
    an_amended_plan(four, planned_sessions=5)
    monkeypatch.setattr(Course, "plan_as_it_stands", lambda course: stale)
    with pytest.raises(services.CourseNotAllowed, match="amended again a moment ago"):
        services.extend_course_to_its_plan(four)
    four.refresh_from_db()
    assert four.sessions_planned == 4


def test_who_may_extend_a_course(login, four, patient, front_desk_elsewhere):
    an_amended_plan(four, planned_sessions=6)
    url = reverse("booking:course_extend", args=[four.pk])
    assert login(front_desk_elsewhere).post(url).status_code == 404
    assert login(patient.user).post(url).status_code == 403
    assert login(front_desk_elsewhere).get(url).status_code == 405
    four.refresh_from_db()
    assert four.sessions_planned == 4


def test_a_session_beyond_a_shortened_plan_is_not_offered_again(login, front_desk, clinic, course):
    """Session 5 cancelled, then the plan amended to 4: the course page offers no "Book session
    5 again", and the booking refuses it if asked."""
    fifth = _session(course, 5)
    Appointment.objects.filter(pk=fifth.pk).update(status=Status.CANCELLED, cancelled_by="clinic")
    an_amended_plan(course, planned_sessions=4)
    page = _course_page(login(front_desk), course)
    assert "Book session 5 again" not in page
    with pytest.raises(
        services.CourseNotAllowed, match="amended to plan 4 sessions, and session 5"
    ):
        services.rebook_course_session(
            course=course,
            session_number=5,
            location=clinic.location,
            practitioner=clinic.practitioner,
            starts_at=fifth.starts_at + dt.timedelta(days=14),
            actor=front_desk,
        )


def test_a_second_click_on_extend_says_it_is_done(login, front_desk, four):
    an_amended_plan(four, planned_sessions=6)
    client = login(front_desk)
    url = reverse("booking:course_extend", args=[four.pk])
    client.post(url, {"sessions": "6"}, follow=True)
    second = client.post(url, {"sessions": "6"}, follow=True)
    assert messages_said(second) == "The course already plans 6 sessions."
    four.refresh_from_db()
    assert four.sessions_planned == 6
