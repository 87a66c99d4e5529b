"""An attacker's attempts on the integrity of clinical records, with the refusal expected.

Every clinical record that names a patient and a visit (an appointment, a course, an
assessment, a questionnaire, an earlier answer it corrects) must name one of *that*
patient's: a note started for one patient from another patient's appointment would put the
first patient's findings in the second one's chart. The pages refuse with a message, and the
database refuses whatever gets past them (composite foreign keys, a trigger).

And one signed assessment yields one course, even when two people book it at the same
instant: the second is told that a course has already been booked from it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import Appointment, Course, Notification, Status
from intake.clinical.models import (
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SurveyChannel,
    SurveyKind,
)
from intake.questionnaire.models import ConsentSignature
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_clinic,
    a_course,
    a_course_record,
    a_slot_hold,
    a_waitlist_entry,
    a_waitlist_offer,
    an_appointment,
)
from tests.booking.races import first_holds_its_lock
from tests.conftest import messages_said
from tests.factories import PatientFactory, certified_practitioner
from tests.intake.factories import (
    ConsentVersionFactory,
    IntakeFactory,
    a_correction,
    a_survey_answer,
    session_note,
    signed_assessment,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def others_visit(clinic, other_patient):
    """The other patient's assessment appointment, at the practitioner's own location."""
    return an_appointment(clinic, other_patient, next_weekday(clinic.location, 1, 10))


@pytest.fixture
def own_visit(clinic, patient):
    return an_appointment(
        clinic, patient, next_weekday(clinic.location, 2, 10), room=clinic.rooms[1]
    )


def _refused_by(error: pytest.ExceptionInfo) -> str:
    return error.value.__cause__.diag.constraint_name


# --- Through the pages ---------------------------------------------------------------------


def test_an_assessment_cannot_be_started_from_another_patients_appointment(
    login, practitioner, patient, other_patient, others_visit
):
    client = login(practitioner.user)
    url = reverse("intake:assessment_start", args=[patient.pk])
    response = client.post(f"{url}?appointment={others_visit.pk}", follow=True)
    assert response.status_code == 200
    assert "That appointment is not one of this patient's" in messages_said(response)
    assert not AssessmentNote.objects.filter(appointment_id=others_visit.pk).exists()


def test_a_draft_cannot_be_linked_to_another_patients_appointment_when_resumed(
    login, practitioner, patient, others_visit, own_visit
):
    client = login(practitioner.user)
    url = reverse("intake:assessment_start", args=[patient.pk])
    client.post(url)
    response = client.post(url, {"appointment": str(others_visit.pk)}, follow=True)
    assert "That appointment is not one of this patient's" in messages_said(response)
    assert AssessmentNote.objects.get(patient=patient).appointment_id is None
    # Their own appointment links as before: the refusal is about whose it is.
    client.post(url, {"appointment": str(own_visit.pk)})
    assert AssessmentNote.objects.get(patient=patient).appointment_id == own_visit.pk


def test_an_appointment_that_does_not_exist_is_refused_too(login, practitioner, patient):
    client = login(practitioner.user)
    url = reverse("intake:assessment_start", args=[patient.pk])
    response = client.post(f"{url}?appointment=987654", follow=True)
    assert "That appointment is not one of this patient's" in messages_said(response)
    assert not AssessmentNote.objects.exists()


def test_a_session_note_cannot_be_started_from_another_patients_appointment(
    login, practitioner, patient, others_visit
):
    signed_assessment(patient, practitioner)
    client = login(practitioner.user)
    url = reverse("intake:session_note_start", args=[patient.pk])
    response = client.post(f"{url}?appointment={others_visit.pk}&session=1", follow=True)
    assert response.status_code == 200
    assert "That appointment is not one of this patient's" in messages_said(response)
    assert not SessionNote.objects.exists()


# --- In the database, past every page --------------------------------------------------------


def _note_on(visit, patient, practitioner):
    return AssessmentNote.objects.create(
        patient=patient, author=practitioner, appointment_id=visit.pk
    )


def _treated_after(visit, clinic, practitioner):
    """After `visit`, its patient's signed assessment by `practitioner`, the course it
    prescribed (one session, done a week later) and the patient's answer before that session."""
    prescribed = signed_assessment(visit.patient, practitioner)
    course = a_course(
        clinic,
        visit.patient,
        statuses=[Status.COMPLETED],
        first_start=visit.starts_at + dt.timedelta(days=7),
        assessment=prescribed,
    )
    answer = a_survey_answer(
        course.appointments.get(), SurveyKind.BEFORE_SESSION, pain_first_steps=4
    )
    return prescribed, course, answer


def test_the_database_accepts_records_that_name_the_patients_own_visits(
    clinic, patient, practitioner, own_visit
):
    """The cases below are refused for whose visit it is, not for being written directly."""
    prescribed, _, answer = _treated_after(own_visit, clinic, practitioner)
    assert _note_on(own_visit, patient, practitioner).pk
    assert session_note(prescribed, 1, appointment_id=answer.appointment_id).pk
    assert answer.pk


CASES = {
    "assessment note on another patient's appointment": "assessment_note_appointment_is_the_patients",
    "assessment note from another patient's questionnaire": "assessment_note_intake_is_the_patients",
    "session note on another patient's appointment": "treatment_note_appointment_is_the_patients",
    "session note under another patient's assessment": "treatment_note_assessment_is_the_patients",
    "check-in about another patient's appointment": "checkin_appointment_is_the_patients",
    "check-in about another patient's course": "checkin_course_is_the_patients",
    "check-in correcting another patient's answer": "checkin_corrects_the_patients_own_answer",
    "questionnaire correcting another patient's": "intake_corrects_the_patients_own_intake",
    "consent signed with another patient's questionnaire": "consent_signature_intake_is_the_patients",
    "course from another patient's assessment": "course_assessment_is_the_patients",
    "appointment in another patient's course": "appointment_course_is_the_patients",
    "email about another patient's appointment": "notification_appointment_is_the_patients",
    "email about another patient's course": "notification_course_is_the_patients",
    "hold turned into another patient's appointment": "slot_hold_appointment_is_the_patients",
    "waitlist offer of a slot held for another patient": "waitlist_offer_hold_is_the_entrys_patient",
}


@pytest.fixture
def theirs(clinic, other_patient, practitioner, others_visit):
    """The other patient's records, which an attacker tries to attach to `patient`'s."""
    prescribed, course, answer = _treated_after(others_visit, clinic, practitioner)
    return {
        "visit": others_visit,
        "assessment": prescribed,
        "course": course,
        "answer": answer,
        "intake": submitted_intake(other_patient),
    }


def _attempt(case, *, clinic, patient, practitioner, theirs):  # noqa: C901 - one branch per case
    mine = signed_assessment(patient, practitioner)
    if case == "assessment note on another patient's appointment":
        _note_on(theirs["visit"], patient, practitioner)
    elif case == "assessment note from another patient's questionnaire":
        AssessmentNote.objects.create(patient=patient, author=practitioner, intake=theirs["intake"])
    elif case == "session note on another patient's appointment":
        session_note(mine, 1, appointment_id=theirs["visit"].pk)
    elif case == "session note under another patient's assessment":
        SessionNote.objects.create(
            patient=patient, author=practitioner, assessment=theirs["assessment"], session_number=1
        )
    elif case == "check-in about another patient's appointment":
        a_survey_answer(theirs["visit"], patient=patient)
    elif case == "check-in about another patient's course":
        OutcomeSurvey.objects.create(
            patient=patient,
            kind=SurveyKind.END_OF_COURSE,
            channel=SurveyChannel.HOME,
            course_id=theirs["course"].pk,
            pain_first_steps=2,
            pain_average=2,
        )
    elif case == "check-in correcting another patient's answer":
        a_correction(
            theirs["answer"], patient=patient, course_id=None, pain_first_steps=1, pain_average=1
        )
    elif case == "questionnaire correcting another patient's":
        IntakeFactory(patient=patient, supersedes=theirs["intake"])
    elif case == "consent signed with another patient's questionnaire":
        ConsentSignature.objects.create(
            patient=patient,
            version=ConsentVersionFactory(),
            signed_name=patient.full_name,
            method=ConsentSignature.Method.ONLINE,
            intake=theirs["intake"],
        )
    elif case == "course from another patient's assessment":
        a_course_record(
            patient,
            practitioner,
            # One with no course yet: the refusal is for whose it is, not for a second course.
            assessment_id=signed_assessment(theirs["visit"].patient, practitioner).pk,
        )
    elif case == "appointment in another patient's course":
        an_appointment(
            clinic,
            patient,
            next_weekday(clinic.location, 3, 11, weeks_ahead=4),
            service=clinic.needling,
            room=clinic.rooms[1],
            practitioner=practitioner,
            course=theirs["course"],
            session_number=2,
        )
    elif case == "email about another patient's appointment":
        Notification.objects.create(
            kind="confirmed",
            location=clinic.location,
            patient=patient,
            appointment=theirs["visit"],
        )
    elif case == "email about another patient's course":
        Notification.objects.create(
            kind="course_booked", location=clinic.location, patient=patient, course=theirs["course"]
        )
    elif case == "hold turned into another patient's appointment":
        _hold(clinic, patient, appointment=theirs["visit"])
    elif case == "waitlist offer of a slot held for another patient":
        entry = a_waitlist_entry(clinic, patient, created_by=practitioner.user)
        a_waitlist_offer(entry, _hold(clinic, theirs["visit"].patient))
    else:  # pragma: no cover
        raise AssertionError(case)


def _hold(clinic, patient, appointment=None):
    return a_slot_hold(
        clinic,
        patient,
        next_weekday(clinic.location, 4, 9),
        expires_at=timezone.now() + dt.timedelta(minutes=10),
        appointment=appointment,
    )


@pytest.mark.parametrize(("case", "constraint"), list(CASES.items()), ids=list(CASES))
def test_the_database_refuses_a_record_naming_another_patients_visit(
    case, constraint, clinic, patient, practitioner, theirs
):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        _attempt(case, clinic=clinic, patient=patient, practitioner=practitioner, theirs=theirs)
    assert _refused_by(refused) == constraint


def test_an_appointment_with_notes_cannot_be_handed_to_another_patient(
    patient, other_patient, practitioner, own_visit
):
    _note_on(own_visit, patient, practitioner)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Appointment.objects.filter(pk=own_visit.pk).update(patient=other_patient)
    assert _refused_by(refused) == "assessment_note_appointment_is_the_patients"


def test_a_note_cannot_be_moved_to_another_patient_either(
    patient, other_patient, practitioner, own_visit
):
    note = _note_on(own_visit, patient, practitioner)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        AssessmentNote.objects.filter(pk=note.pk).update(patient=other_patient)
    assert _refused_by(refused) == "assessment_note_appointment_is_the_patients"


# --- Two courses from one assessment ---------------------------------------------------------


def _course_choices(clinic, practitioner, *, weekday, hour):
    first = next_weekday(clinic.location, weekday, hour)
    return [
        services.SessionChoice(n + 1, clinic.location, practitioner, first + dt.timedelta(weeks=n))
        for n in range(6)
    ]


def test_the_database_refuses_a_second_course_from_one_assessment(clinic, patient, practitioner):
    prescribed = signed_assessment(patient, practitioner)
    fields = {
        "patient": patient,
        "practitioner": practitioner,
        "assessment_id": prescribed.pk,
        "sessions_planned": 6,
        "minutes": 30,
        "created_by": practitioner.user,
    }
    Course.objects.create(**fields)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Course.objects.create(**fields)
    assert _refused_by(refused) == "course_one_per_assessment"


def test_a_second_booking_of_the_same_plan_is_told_so(clinic, patient, practitioner):
    signed_assessment(patient, practitioner)
    colleague = certified_practitioner(locations=[clinic.location])
    a_clinic(location=clinic.location, practitioner=colleague, rooms=0)
    services.book_course(
        patient=patient,
        choices=_course_choices(clinic, practitioner, weekday=1, hour=10),
        actor=practitioner.user,
    )
    with pytest.raises(services.CourseNotAllowed, match="already been booked"):
        services.book_course(
            patient=patient,
            choices=_course_choices(clinic, colleague, weekday=3, hour=14),
            actor=colleague.user,
        )
    assert Course.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_people_booking_one_plan_at_the_same_instant_get_one_course(location, practitioner):
    """Two practitioners, each on their own database connection, book the course of one signed
    assessment at once, at different times (so that no appointment clashes). Deterministic:
    the first books and holds its transaction open until the second is either waiting on a
    lock or done; only then does the first commit. The second must then be told, not win."""
    clinic = a_clinic(location=location, practitioner=practitioner)
    colleague = certified_practitioner(locations=[location], first_name="Tom")
    a_clinic(location=location, practitioner=colleague, rooms=0)
    patient = PatientFactory(locations=[location])
    signed_assessment(patient, practitioner)

    def book(who, weekday: int, hour: int):
        return lambda: services.book_course(
            patient=patient,
            choices=_course_choices(clinic, who, weekday=weekday, hour=hour),
            actor=who.user,
        )

    first, second, waited = first_holds_its_lock(
        book(practitioner, 1, 10),
        book(colleague, 3, 14),
        won="booked",
        lost=(services.CourseNotAllowed, "told"),
    )
    assert first == "booked"
    assert second.startswith("told: ") and "already been booked" in second, second
    assert Course.objects.filter(patient=patient).count() == 1
    assert Appointment.objects.filter(patient=patient).count() == 6
    # The second really was in the race: it waited for the first's lock, then was told.
    assert waited
