"""A session of a course is a dry-needling session of the course's length, numbered within the
sessions the course plans: PostgreSQL refuses the rest, however it is written (booking migration
0018, `course_sessions_keep_to_the_course`), and a booking service that meets the refusal says
the rule instead of failing."""

from __future__ import annotations

import importlib

import pytest
from django.db import DatabaseError, transaction

from booking import services
from booking.models import Appointment, Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course, an_amended_plan
from tests.database import refused_by, rule_set_aside, write_sql

pytestmark = pytest.mark.django_db

RULE = "course_sessions_keep_to_the_course"


@pytest.fixture
def course(clinic, patient):
    """Sessions 1 and 2 of a course of 4 weekly sessions of 20 minutes, booked from next
    Tuesday; session 2 cancelled."""
    return a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED, Status.CANCELLED],
        first_start=next_weekday(clinic.location, 1, 10),
        minutes=20,
        sessions_planned=4,
    )


def _session(course, number: int) -> Appointment:
    return course.appointments.get(session_number=number)


def test_a_session_numbered_beyond_the_plan_is_refused(course):
    with refused_by(RULE):
        write_sql(
            "UPDATE booking_appointment SET session_number = 5 WHERE id = %s",
            _session(course, 1).pk,
        )


def test_a_session_of_another_length_than_the_courses_is_refused(course):
    with refused_by(RULE):
        write_sql(
            "UPDATE booking_appointment SET ends_at = starts_at + interval '30 minutes', "
            "blocks_until = starts_at + interval '35 minutes' WHERE id = %s",
            _session(course, 1).pk,
        )


def test_a_course_session_that_is_not_needling_is_refused(clinic, course):
    with refused_by(RULE):
        write_sql(
            "UPDATE booking_appointment SET service_id = %s WHERE id = %s",
            clinic.assessment.pk,
            _session(course, 1).pk,
        )


def test_a_new_session_outside_the_plan_is_refused(course):
    """Inserted, not only changed: session 5 of a course of 4, a day after session 1."""
    with refused_by(RULE):
        write_sql(
            "INSERT INTO booking_appointment (location_id, practitioner_id, room_id, patient_id, "
            "service_id, starts_at, ends_at, blocks_until, status, course_id, session_number, "
            "cancelled_by, cancellation_reason, late_cancellation, proposed_by_clinic, "
            "patient_note, created_at, version) "
            "SELECT location_id, practitioner_id, room_id, patient_id, service_id, "
            "starts_at + interval '1 day', ends_at + interval '1 day', "
            "blocks_until + interval '1 day', 'confirmed', course_id, 5, '', '', false, false, "
            "'', now(), 1 FROM booking_appointment WHERE id = %s",
            _session(course, 1).pk,
        )


def test_a_course_cannot_plan_fewer_sessions_than_it_has_booked(clinic, patient):
    """Its plan amended to 5 sessions, a course of 6 with session 6 booked cannot be brought
    in line by changing the course: session 6 would be outside it."""
    six = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED] * 6,
        first_start=next_weekday(clinic.location, 1, 10),
        sessions_planned=6,
    )
    an_amended_plan(six, planned_sessions=5)
    with refused_by(RULE):
        write_sql("UPDATE booking_course SET sessions_planned = 5 WHERE id = %s", six.pk)


def test_a_course_cannot_change_the_length_of_the_sessions_it_has(course):
    """Session 2, cancelled, counts too: it keeps its number and length in the history."""
    course.appointments.filter(status=Status.CONFIRMED).delete()
    an_amended_plan(course, session_minutes=30)
    with refused_by(RULE):
        write_sql("UPDATE booking_course SET minutes = 30 WHERE id = %s", course.pk)


def test_sessions_of_the_courses_length_and_numbers_are_written(course):
    """The last number of the plan, the course's length, any status: all go through."""
    session = _session(course, 2)
    write_sql(
        "UPDATE booking_appointment SET session_number = 4, "
        "starts_at = starts_at + interval '1 hour', ends_at = ends_at + interval '1 hour', "
        "blocks_until = blocks_until + interval '1 hour' WHERE id = %s",
        session.pk,
    )
    session.refresh_from_db()
    assert (session.session_number, session.minutes) == (4, 20)


def test_a_status_change_of_a_session_is_not_checked_again(course):
    """Only the columns the rule speaks of wake it: the desk's status changes go through."""
    session = _session(course, 1)
    write_sql("UPDATE booking_appointment SET status = 'checked_in' WHERE id = %s", session.pk)
    session.refresh_from_db()
    assert session.status == Status.CHECKED_IN


def test_booking_a_session_outside_the_plan_says_why_instead_of_failing(clinic, course):
    """A caller that skips the plan's check (here, the staff booking service asked for session
    4 at 30 minutes of a 20-minute course) is refused with the rule, and nothing is written."""
    starts_at = next_weekday(clinic.location, 3, 11)
    with pytest.raises(services.SlotUnavailable, match="course's length"):
        services.book_appointment(
            patient=course.patient,
            location=clinic.location,
            practitioner=clinic.practitioner,
            service=clinic.needling,
            starts_at=starts_at,
            minutes=30,
            actor=clinic.practitioner.user,
            course=course,
            session_number=4,
        )
    assert not course.appointments.filter(session_number=4).exists()
    assert not Appointment.objects.filter(starts_at=starts_at).exists()


EXISTING = importlib.import_module(
    "booking.migrations.0018_course_sessions_keep_to_the_course"
).EXISTING


def test_the_migration_stops_on_a_session_written_around_the_rule_and_names_it(course):
    """The rows already there are checked before the triggers are made (triggers do not look
    at them): the clinic's own pass, one written around the application stops it, by id."""
    write_sql(EXISTING)
    session = _session(course, 1)
    with (
        transaction.atomic(),
        rule_set_aside("booking_appointment", "course_sessions_keep_to_the_course"),
    ):
        write_sql("UPDATE booking_appointment SET session_number = 5 WHERE id = %s", session.pk)
    with (
        pytest.raises(DatabaseError, match=rf"appointments \[{session.pk}\]"),
        transaction.atomic(),
    ):
        write_sql(EXISTING)
