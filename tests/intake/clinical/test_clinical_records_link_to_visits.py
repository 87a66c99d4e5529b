"""Clinical records name real visits of their own patient, and the right ones: PostgreSQL
refuses the rest, however they are written (intake migration 0008_clinical_records_link_to_visits
on top of booking's 0010 and intake's 0007).

- a session note, a check-in, a course name an appointment, course or assessment that exists
  and is the same patient's (composite foreign keys, ON DELETE RESTRICT);
- a session note records a dry-needling session of the course its assessment prescribed;
- a check-in about a session names a dry-needling session of the course it names;
- and what they record cannot be changed under them (the session's course or service, the
  course's assessment), nor deleted.

Each refusal is checked by the name of the constraint that gives it, so that a record refused
for another reason (a score out of range, a second answer) does not pass for one of these."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from booking.models import Appointment, Course, Status
from clinic.models import Service
from intake.clinical.models import (
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SurveyChannel,
    SurveyKind,
)
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course, an_appointment
from tests.conftest import messages_said
from tests.database import refused_by, rule_set_aside
from tests.intake.factories import a_survey_answer, session_note, signed_assessment

pytestmark = pytest.mark.django_db

SAME_PATIENT_NOTE = "treatment_note_appointment_is_the_patients"
SAME_PATIENT_SURVEY = "checkin_appointment_is_the_patients"
SESSION_NOTE = "treatment_note_appointment_is_a_session_of_the_course"
SESSION_SURVEY = "checkin_appointment_is_a_session_of_the_course"
NO_SUCH_ID = 2_000_000_000


@pytest.fixture
def course(clinic, patient, prescribed):
    """Three sessions of the patient's course (two done, one booked), from `prescribed`."""
    return a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED, Status.COMPLETED, Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 0, 9, weeks_ahead=-2),
        assessment=prescribed,
    )


def _one_session_course(clinic, patient, practitioner, status, weekday, weeks_ahead) -> Course:
    """A course of `patient` of one session (at 9:00 on `weekday`, `weeks_ahead`), from an
    assessment of its own by `practitioner`."""
    return a_course(
        clinic,
        patient,
        statuses=[status],
        first_start=next_weekday(clinic.location, weekday, 9, weeks_ahead=weeks_ahead),
        assessment=signed_assessment(patient, practitioner),
    )


@pytest.fixture
def second_course(clinic, patient, practitioner):
    """Another course of the same patient, from a later assessment, a month later."""
    return _one_session_course(clinic, patient, practitioner, Status.CONFIRMED, 0, weeks_ahead=4)


@pytest.fixture
def assessment_visit(clinic, patient):
    """The patient's own initial-assessment appointment: not a needling session."""
    return an_appointment(
        clinic, patient, next_weekday(clinic.location, 1, 10, weeks_ahead=-3), room=clinic.rooms[1]
    )


@pytest.fixture
def theirs(clinic, other_patient, practitioner):
    """The other patient's course of one session."""
    return _one_session_course(
        clinic, other_patient, practitioner, Status.COMPLETED, 2, weeks_ahead=-1
    )


def _session(course, number=1) -> Appointment:
    return course.appointments.get(session_number=number)


# How the patient answered each questionnaire of these tests: only the links they name matter.
ANSWERS = {
    SurveyKind.BEFORE_SESSION: {
        "channel": SurveyChannel.HOME,
        "pain_first_steps": 5,
        "pain_average": 4,
    },
    SurveyKind.END_OF_COURSE: {
        "channel": SurveyChannel.LINK,
        "pain_first_steps": 2,
        "pain_average": 1,
    },
}


def _answer(kind, patient, **link) -> OutcomeSurvey:
    return OutcomeSurvey.objects.create(patient=patient, kind=kind, **ANSWERS[kind], **link)


def _before_session(patient, **link) -> OutcomeSurvey:
    return _answer(SurveyKind.BEFORE_SESSION, patient, **link)


def _end_of_course(patient, **link) -> OutcomeSurvey:
    return _answer(SurveyKind.END_OF_COURSE, patient, **link)


# --- What is accepted -------------------------------------------------------------------------


def test_records_of_the_patients_own_sessions_of_the_right_course_are_accepted(
    patient, prescribed, course
):
    assert session_note(prescribed, 1, appointment_id=_session(course, 1).pk).pk
    assert session_note(prescribed, 2, appointment_id=_session(course, 2).pk).pk
    assert _before_session(patient, appointment_id=_session(course, 3).pk, course_id=course.pk).pk
    assert a_survey_answer(_session(course, 2), channel=SurveyChannel.COUNTER).pk
    # A course questionnaire names the course and its last session, or the course alone.
    assert _end_of_course(patient, appointment_id=_session(course, 2).pk, course_id=course.pk).pk
    assert OutcomeSurvey.objects.create(
        patient=patient,
        kind=SurveyKind.FOLLOW_UP_4,
        channel=SurveyChannel.LINK,
        course_id=course.pk,
        pain_first_steps=1,
        pain_average=1,
    ).pk


def test_an_assessment_note_may_record_any_visit_of_the_patients_own(
    patient, practitioner, assessment_visit, course
):
    """The session rule is for session notes: an assessment records the assessment visit, or a
    re-assessment during a course."""
    for visit in (assessment_visit, _session(course, 2)):
        note = AssessmentNote.objects.create(
            patient=patient, author=practitioner, appointment_id=visit.pk
        )
        assert note.pk
        note.delete()


# --- A visit that does not exist --------------------------------------------------------------


def test_a_session_note_of_a_visit_that_does_not_exist_is_refused(prescribed):
    with refused_by(SAME_PATIENT_NOTE):
        session_note(prescribed, 1, appointment_id=NO_SUCH_ID)


def test_a_check_in_about_a_visit_or_course_that_does_not_exist_is_refused(patient, course):
    with refused_by(SAME_PATIENT_SURVEY):
        _before_session(patient, appointment_id=NO_SUCH_ID, course_id=course.pk)
    with refused_by("checkin_course_is_the_patients"):
        _end_of_course(patient, course_id=NO_SUCH_ID)


def test_an_assessment_note_of_a_visit_that_does_not_exist_is_refused(patient, practitioner):
    with refused_by("assessment_note_appointment_is_the_patients"):
        AssessmentNote.objects.create(patient=patient, author=practitioner, appointment_id=-1)


def test_a_course_from_an_assessment_that_does_not_exist_is_refused(patient, practitioner):
    with refused_by("course_assessment_is_the_patients"):
        Course.objects.create(
            patient=patient,
            practitioner=practitioner,
            assessment_id=NO_SUCH_ID,
            sessions_planned=6,
            minutes=30,
            created_by=practitioner.user,
        )


# --- Another patient's visit ------------------------------------------------------------------


def test_a_session_note_of_another_patients_session_is_refused(prescribed, theirs):
    with refused_by(SAME_PATIENT_NOTE):
        session_note(prescribed, 1, appointment_id=_session(theirs).pk)


def test_a_check_in_about_another_patients_session_or_course_is_refused(patient, course, theirs):
    with refused_by(SAME_PATIENT_SURVEY):
        _before_session(patient, appointment_id=_session(theirs).pk, course_id=course.pk)
    with refused_by("checkin_course_is_the_patients"):
        _end_of_course(patient, course_id=theirs.pk)


def test_a_course_from_another_patients_assessment_is_refused(patient, other_patient, practitioner):
    with refused_by("course_assessment_is_the_patients"):
        Course.objects.create(
            patient=patient,
            practitioner=practitioner,
            assessment_id=signed_assessment(other_patient, practitioner).pk,
            sessions_planned=6,
            minutes=30,
            created_by=practitioner.user,
        )


# --- A visit of the patient's own that is not a needling session of the course ---------------


def test_a_session_note_of_the_assessment_visit_is_refused(prescribed, assessment_visit):
    with refused_by(SESSION_NOTE):
        session_note(prescribed, 1, appointment_id=assessment_visit.pk)


def test_a_session_note_of_a_needling_visit_outside_any_course_is_refused(
    clinic, patient, prescribed
):
    """One written before booking's own rule refused it (`needling_session_belongs_to_a_course`):
    it never gets a session note either."""
    with rule_set_aside("booking_appointment", "needling_session_belongs_to_a_course"):
        one_off = an_appointment(
            clinic, patient, next_weekday(clinic.location, 3, 9), service=clinic.needling
        )
    with refused_by(SESSION_NOTE):
        session_note(prescribed, 1, appointment_id=one_off.pk)


def test_a_session_note_of_a_session_of_another_course_is_refused(
    prescribed, course, second_course
):
    """The second course's session, noted under the first course's assessment (as a note
    started from the chart after a re-assessment would be), is refused both ways round."""
    with refused_by(SESSION_NOTE):
        session_note(prescribed, 1, appointment_id=_session(second_course).pk)
    later = AssessmentNote.objects.get(pk=second_course.assessment_id)
    with refused_by(SESSION_NOTE):
        session_note(later, 1, appointment_id=_session(course).pk)


def test_a_check_in_about_a_session_outside_its_course_is_refused(
    patient, course, second_course, assessment_visit
):
    with refused_by(SESSION_SURVEY):
        _before_session(patient, appointment_id=_session(second_course).pk, course_id=course.pk)
    with refused_by(SESSION_SURVEY):
        _end_of_course(patient, appointment_id=_session(course, 2).pk, course_id=second_course.pk)
    # A session without the course it belongs to, and a visit that is not a session at all.
    with refused_by(SESSION_SURVEY):
        _before_session(patient, appointment_id=_session(course, 3).pk)
    with refused_by(SESSION_SURVEY):
        _before_session(patient, appointment_id=assessment_visit.pk, course_id=course.pk)


def test_the_database_refuses_them_in_plain_sql_too(patient, prescribed, course, second_course):
    note = session_note(prescribed, 1, appointment_id=_session(course, 1).pk)  # a draft
    with refused_by(SESSION_NOTE), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intake_treatmentnote SET appointment_id = %s WHERE id = %s",
            [_session(second_course).pk, note.pk],
        )
    with refused_by(SESSION_SURVEY), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intake_checkin (patient_id, kind, channel, appointment_id, course_id, "
            "reported_at, submitted_at, pain_first_steps, pain_average, after_effects, "
            "worrying_details, comments, soreness) "
            "VALUES (%s, 'before_session', 'home', %s, %s, now(), now(), 5, 4, '', '', '', '')",
            [patient.pk, _session(second_course).pk, course.pk],
        )


# --- What records name does not change under them, and is not deleted ------------------------


def test_a_recorded_session_stays_in_its_course_and_stays_a_needling_session(
    clinic, patient, prescribed, course, second_course
):
    noted = _session(course, 1)
    session_note(prescribed, 1, appointment_id=noted.pk)
    with refused_by(SESSION_NOTE):
        Appointment.objects.filter(pk=noted.pk).update(course=second_course, session_number=2)
    with refused_by(SESSION_NOTE):
        Appointment.objects.filter(pk=noted.pk).update(service=clinic.assessment)
    asked = _session(course, 3)
    _before_session(patient, appointment_id=asked.pk, course_id=course.pk)
    with refused_by(SESSION_SURVEY):
        Appointment.objects.filter(pk=asked.pk).update(course=None, session_number=None)
    # What nothing records may still change (the rule is about recorded sessions), within what
    # any course session keeps to (booking 0018: needling, of its course's length and numbers).
    free = _session(course, 2)
    Appointment.objects.filter(pk=free.pk).update(course=second_course, session_number=2)


def test_a_course_whose_sessions_have_notes_keeps_its_assessment(
    patient, practitioner, prescribed, course
):
    session_note(prescribed, 1, appointment_id=_session(course, 1).pk)
    with refused_by(SESSION_NOTE):
        Course.objects.filter(pk=course.pk).update(
            assessment_id=signed_assessment(patient, practitioner).pk
        )


def test_the_needling_service_stays_the_needling_service_while_sessions_are_recorded(
    clinic, patient, course
):
    """Asked alone: the wider rule that any booked service keeps its kind (booking 0024) is set
    aside, so that this one, about recorded sessions, is the one that answers."""
    _before_session(patient, appointment_id=_session(course, 3).pk, course_id=course.pk)
    with (
        rule_set_aside("clinic_service", "service_kind_fixed_once_booked"),
        refused_by(SESSION_SURVEY),
    ):
        Service.objects.filter(pk=clinic.needling.pk).update(kind="needling_retired")


def test_a_visit_a_note_records_is_never_deleted(prescribed, course):
    noted = _session(course, 1)
    session_note(prescribed, 1, appointment_id=noted.pk)
    with refused_by(SAME_PATIENT_NOTE):
        noted.delete()
    assert SessionNote.objects.filter(appointment_id=noted.pk).exists()


def test_a_course_a_check_in_names_is_never_deleted(clinic, patient, practitioner):
    # No sessions, so that only the check-in stands in the way.
    course = a_course(
        clinic,
        patient,
        statuses=[],
        first_start=next_weekday(clinic.location, 0, 9),
        assessment=signed_assessment(patient, practitioner),
    )
    _end_of_course(patient, course_id=course.pk)
    with refused_by("checkin_course_is_the_patients"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM booking_course WHERE id = %s", [course.pk])


def test_the_links_across_apps_are_on_delete_restrict():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, confdeltype, confupdtype FROM pg_constraint WHERE conname IN "
            "('assessment_note_appointment_is_the_patients', "
            "'treatment_note_appointment_is_the_patients', "
            "'checkin_appointment_is_the_patients', 'checkin_course_is_the_patients', "
            "'course_assessment_is_the_patients')"
        )
        rows = cursor.fetchall()
    assert len(rows) == 5
    assert {(deleted, updated) for _, deleted, updated in rows} == {("r", "r")}


# --- Through the pages --------------------------------------------------------------------------


def test_a_session_note_started_from_the_assessment_visit_is_refused_with_a_message(
    login, practitioner, patient, prescribed, assessment_visit
):
    client = login(practitioner.user)
    url = reverse("intake:session_note_start", args=[patient.pk])
    response = client.post(f"{url}?appointment={assessment_visit.pk}&session=1", follow=True)
    assert response.status_code == 200
    said = messages_said(response)
    assert "not a dry-needling session of the course" in said
    assert not SessionNote.objects.exists()


def test_a_session_note_started_from_a_session_of_the_course_is_linked(
    login, practitioner, patient, prescribed, course
):
    session = _session(course, 2)
    client = login(practitioner.user)
    url = reverse("intake:session_note_start", args=[patient.pk])
    client.post(f"{url}?appointment={session.pk}&session=2")
    assert SessionNote.objects.get().appointment_id == session.pk


def test_session_links_hold_for_a_moved_session_too(prescribed, course):
    """Moving a session in time keeps it the same session of the same course."""
    noted = _session(course, 3)
    session_note(prescribed, 3, appointment_id=noted.pk)
    Appointment.objects.filter(pk=noted.pk).update(
        starts_at=noted.starts_at + dt.timedelta(days=1),
        ends_at=noted.ends_at + dt.timedelta(days=1),
        blocks_until=noted.blocks_until + dt.timedelta(days=1),
    )
