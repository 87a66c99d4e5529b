"""A course is booked only from a signed assessment that, as it stands (amendments included),
says dry needling is appropriate, and it is the course that plan prescribes: PostgreSQL refuses
any other course row, however it is written (booking migration 0017, trigger
`course_follows_its_signed_plan`). The booking service, which reads intake's gate before it
locks the assessment, turns the database's refusal into a clear one."""

from __future__ import annotations

import pytest
from django.db import connection

from booking import gates, services
from booking.models import Appointment, Course
from booking.services import SessionChoice
from intake.clinical.models import AssessmentNote
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course_record
from tests.database import refused_by
from tests.intake.factories import AssessmentFactory, an_amendment, signed_assessment

pytestmark = pytest.mark.django_db

RULE = "course_follows_its_signed_plan"
COURSE_COLUMNS = (
    "patient_id, practitioner_id, assessment_id, sessions_planned, minutes, interval_days, "
    "created_at, created_by_id"
)


@pytest.fixture
def prescribed(patient, practitioner) -> AssessmentNote:
    """A signed assessment of `patient`: dry needling appropriate, 6 weekly sessions of 30 min."""
    return signed_assessment(patient, practitioner)


def _insert_course(assessment, *, sessions=6, minutes=30, interval_days=7) -> None:
    """A course row written straight into the table, past every Python check."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO booking_course ({COURSE_COLUMNS}) "
            "SELECT patient_id, author_id, id, %s, %s, %s, now(), "
            "(SELECT user_id FROM clinic_practitioner WHERE id = author_id) "
            "FROM intake_assessmentnote WHERE id = %s",
            [sessions, minutes, interval_days, assessment.pk],
        )


@pytest.mark.parametrize(
    ("sessions", "minutes", "interval_days"), [(6, 30, 7), (4, 15, 14), (5, 20, 3)]
)
def test_a_course_of_the_signed_plan_is_written(
    patient, practitioner, sessions, minutes, interval_days
):
    plan = {"planned_sessions": sessions, "session_minutes": minutes}
    note = signed_assessment(patient, practitioner, interval_days=interval_days, **plan)
    _insert_course(note, sessions=sessions, minutes=minutes, interval_days=interval_days)
    course = Course.objects.get()
    assert (course.assessment_id, course.sessions_planned) == (note.pk, sessions)
    assert (course.minutes, course.interval_days) == (minutes, interval_days)


def test_a_course_from_a_draft_assessment_is_refused(patient, practitioner):
    draft = AssessmentFactory(patient=patient, author=practitioner)
    with refused_by(RULE):
        _insert_course(draft)
    assert not Course.objects.exists()


def test_a_course_from_an_assessment_that_says_needling_is_not_appropriate_is_refused(
    patient, practitioner
):
    not_appropriate = signed_assessment(
        patient, practitioner, needling_appropriate=False, decision_reason="Anticoagulants."
    )
    with refused_by(RULE):
        _insert_course(not_appropriate)


@pytest.mark.parametrize(
    "course",
    [
        {"sessions": 4},  # the plan says 6
        {"minutes": 20},  # of 30 minutes
        {"interval_days": 14},  # weekly
    ],
    ids=["sessions", "minutes", "interval"],
)
def test_a_course_other_than_the_plan_is_refused(prescribed, course):
    with refused_by(RULE):
        _insert_course(prescribed, **course)


def test_the_decision_as_amended_is_the_one_that_counts(patient, practitioner, prescribed):
    an_amendment(prescribed, practitioner, needling_appropriate=False)
    with refused_by(RULE):
        _insert_course(prescribed)
    # Amended back: a course may be booked again, and to the plan as amended.
    an_amendment(prescribed, practitioner, needling_appropriate=True, planned_sessions=4)
    with refused_by(RULE):
        _insert_course(prescribed, sessions=6)
    _insert_course(prescribed, sessions=4)
    assert Course.objects.get().sessions_planned == 4


def test_a_course_of_a_decision_amended_to_appropriate_is_written(patient, practitioner):
    note = signed_assessment(
        patient,
        practitioner,
        needling_appropriate=False,
        decision_reason="Wait for the wound to heal.",
    )
    an_amendment(
        note, practitioner, needling_appropriate=True, decision_reason="The wound has healed."
    )
    _insert_course(note)
    assert Course.objects.filter(assessment_id=note.pk).exists()


def test_changing_a_course_away_from_its_plan_is_refused(patient, practitioner):
    course = a_course_record(patient, practitioner, sessions_planned=6)
    with refused_by(RULE), connection.cursor() as cursor:
        cursor.execute("UPDATE booking_course SET sessions_planned = 5 WHERE id = %s", [course.pk])


def test_a_course_booked_before_its_plan_was_amended_stays_as_booked(patient, practitioner):
    """Only the moment a course is written is checked: a later amendment does not make the
    course, nor any other change to it, impossible."""
    course = a_course_record(patient, practitioner, sessions_planned=6)
    note = AssessmentNote.objects.get(pk=course.assessment_id)
    an_amendment(note, practitioner, planned_sessions=5)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_course SET created_at = created_at, sessions_planned = 6 WHERE id = %s",
            [course.pk],
        )
    course.refresh_from_db()
    assert course.sessions_planned == 6


def test_an_amendment_between_the_gate_and_the_booking_is_refused_with_a_reason(
    clinic, patient, practitioner, prescribed, monkeypatch
):
    """`book_course` reads intake's gate, then locks the assessment: a practitioner amending
    the decision in between (another tab, a colleague) is seen by the database, which reads
    the decision again under the lock, and the desk is told why nothing was booked."""
    gate = gates.course_gate(patient)
    assert gate.allowed
    an_amendment(
        prescribed,
        practitioner,
        needling_appropriate=False,
        decision_reason="New anticoagulant medication.",
    )
    monkeypatch.setattr("booking.gates.course_gate", lambda patient: gate)
    first = next_weekday(clinic.location, 1, 10)
    times = services.proposed_dates(
        first=first, zone=clinic.location.zone, sessions=6, interval_days=7
    )
    choices = [
        SessionChoice(n + 1, clinic.location, clinic.practitioner, at) for n, at in enumerate(times)
    ]
    with pytest.raises(services.CourseNotAllowed, match="amended a moment ago"):
        services.book_course(patient=patient, choices=choices, actor=practitioner.user)
    assert not Course.objects.exists()
    assert not Appointment.objects.filter(patient=patient).exists()
