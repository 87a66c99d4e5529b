"""Outcome check-ins: before a session, after care, at the end of the course and at follow-ups,
answered from the patient's page or on the counter tablet; corrections keep both answers;
worrying after-care answers reach the practitioner."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from booking.models import Status
from clinic.models import AccessLog
from intake.clinical import selectors
from intake.clinical.models import AfterCareResponse, OutcomeSurvey, SurveyChannel, SurveyKind
from tests.booking.factories import a_course
from tests.conftest import messages_said
from tests.intake.factories import a_correction, a_survey_answer

pytestmark = pytest.mark.django_db

DONE, BOOKED = Status.COMPLETED, Status.CONFIRMED
BEFORE = SurveyKind.BEFORE_SESSION
AFTER = SurveyKind.AFTER_CARE


@pytest.fixture
def course(clinic, patient):
    """Six weekly sessions: two done (13 and 6 days ago), the third tomorrow, three more after."""
    start = timezone.now() - dt.timedelta(days=13)
    return a_course(
        clinic,
        patient,
        statuses=[DONE, DONE, BOOKED, BOOKED, BOOKED, BOOKED],
        first_start=start,
        interval=dt.timedelta(days=7, hours=1),
    )


def _session(course, number):
    return course.appointments.get(session_number=number)


def _url(kind, appointment):
    return reverse("intake:my_outcome_survey", args=[kind, appointment.pk])


PAIN = {"pain_first_steps": "6", "pain_average": "4", "walking_normally": "False"}
WORRY = {"soreness": "moderate", "bruising": "True", "worrying": "True"}


def test_a_patient_answers_before_a_session_from_their_page(login, patient, course):
    client = login(patient.user)
    session = _session(course, 3)
    response = client.post(_url(BEFORE, session), PAIN | {"after_effects": "Sore calf"})
    assert response.status_code == 302
    checkin = OutcomeSurvey.objects.get()
    assert (checkin.kind, checkin.channel, checkin.appointment_id) == (
        BEFORE,
        SurveyChannel.HOME,
        session.pk,
    )
    assert (checkin.pain_first_steps, checkin.pain_average, checkin.walking_normally) == (
        6,
        4,
        False,
    )
    assert checkin.course_id == course.pk and checkin.session_number == 3
    assert checkin.submitted_by == patient.user
    assert AccessLog.objects.filter(action="create", record_type="intake.checkin").count() == 1
    page = client.get(response.url).content.decode()
    assert "What you sent" in page and "6 out of 10" in page


@pytest.mark.parametrize("value", ["11", "-1", "seven", ""])
def test_scores_outside_0_to_10_are_refused_with_a_message(login, patient, course, value):
    response = login(patient.user).post(
        _url(BEFORE, _session(course, 3)), PAIN | {"pain_first_steps": value}
    )
    assert response.status_code == 400
    assert "Choose a number from 0 to 10." in response.content.decode()
    assert not OutcomeSurvey.objects.exists()


def test_the_database_refuses_a_score_above_10(patient, course):
    with pytest.raises(DatabaseError), transaction.atomic():
        a_survey_answer(_session(course, 3), BEFORE, pain_first_steps=11)


def test_a_check_in_for_someone_elses_appointment_is_not_found(login, other_patient, course):
    client = login(other_patient.user)
    url = _url(BEFORE, _session(course, 3))
    assert client.get(url).status_code == 404
    assert client.post(url, PAIN).status_code == 404
    assert not OutcomeSurvey.objects.exists()


def test_answering_twice_shows_what_was_sent_and_a_correction_keeps_both(login, patient, course):
    client = login(patient.user)
    url = _url(BEFORE, _session(course, 3))
    client.post(url, PAIN)
    first = OutcomeSurvey.objects.get()

    # The same form sent again (a link used twice, a second tab): nothing is overwritten.
    again = client.post(url, PAIN | {"pain_first_steps": "2"})
    assert again.status_code == 409
    assert "You have already sent these answers" in again.content.decode()
    assert OutcomeSurvey.objects.count() == 1

    corrected = client.post(url, PAIN | {"pain_first_steps": "5", "corrects": str(first.pk)})
    assert corrected.status_code == 302
    assert OutcomeSurvey.objects.count() == 2
    current = OutcomeSurvey.objects.current().get()
    assert current.supersedes == first and current.pain_first_steps == 5
    assert current.reported_at == first.reported_at  # the chart keeps the first time
    first.refresh_from_db()
    assert first.pain_first_steps == 6  # kept as it was
    page = client.get(url).content.decode()
    assert "(corrected)" in page and "Your earlier answers (kept)" in page


def test_a_correction_of_an_answer_already_corrected_is_refused(login, patient, course):
    client = login(patient.user)
    url = _url(BEFORE, _session(course, 3))
    client.post(url, PAIN)
    first = OutcomeSurvey.objects.get()
    client.post(url, PAIN | {"corrects": str(first.pk)})
    stale = client.post(url, PAIN | {"pain_average": "9", "corrects": str(first.pk)})
    assert stale.status_code == 409
    assert OutcomeSurvey.objects.count() == 2


def test_check_ins_are_append_only_in_the_database(patient, course):
    checkin = a_survey_answer(_session(course, 3), BEFORE, pain_first_steps=5)
    with pytest.raises(DatabaseError), transaction.atomic():
        OutcomeSurvey.objects.filter(pk=checkin.pk).update(pain_first_steps=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        OutcomeSurvey.objects.filter(pk=checkin.pk).delete()


def test_a_closed_check_in_says_so_and_refuses_answers(login, patient, course):
    client = login(patient.user)
    url = _url(BEFORE, _session(course, 1))  # that session is over
    assert "This survey is closed" in client.get(url).content.decode()
    assert client.post(url, PAIN).status_code == 409
    assert not OutcomeSurvey.objects.exists()


def test_after_care_is_asked_only_after_an_attended_session(login, patient, course):
    client = login(patient.user)
    assert client.get(_url(AFTER, _session(course, 3))).status_code == 404  # not yet
    assert client.get(_url(AFTER, _session(course, 2))).status_code == 200


def test_a_worry_needs_details_and_alerts_the_practitioner_until_they_respond(
    login, patient, practitioner, course
):
    client = login(patient.user)
    url = _url(AFTER, _session(course, 2))
    missing = client.post(url, WORRY)
    assert missing.status_code == 400
    assert "Tell us what is worrying you" in missing.content.decode()
    client.post(url, WORRY | {"worrying_details": "Red and warm around the needle site"})
    checkin = OutcomeSurvey.objects.get()
    assert selectors.worrying_aftercare([practitioner.pk]) == [checkin]

    staff = login(practitioner.user)
    home = staff.get(reverse("clinic:practitioner_home")).content.decode()
    assert "Worrying after-care answers" in home and "Red and warm around the needle site" in home
    response = staff.post(
        reverse("intake:aftercare_respond", args=[checkin.pk]),
        {"note": "Phoned; seen today", "next": reverse("clinic:practitioner_home")},
    )
    assert response.status_code == 302
    assert AfterCareResponse.objects.get().by == practitioner.user
    assert selectors.worrying_aftercare([practitioner.pk]) == []
    assert (
        "Worrying after-care answers"
        not in staff.get(reverse("clinic:practitioner_home")).content.decode()
    )


def test_a_response_needs_a_note_and_comes_from_staff_of_the_patient(
    login, patient, practitioner, course, other_location
):
    from tests.factories import certified_practitioner

    checkin = a_survey_answer(
        _session(course, 2), worrying=True, worrying_details="Dizzy", practitioner=practitioner
    )
    url = reverse("intake:aftercare_respond", args=[checkin.pk])
    assert login(practitioner.user).post(url, {"note": " "}).status_code == 302
    assert not AfterCareResponse.objects.exists()
    elsewhere = certified_practitioner(locations=[other_location])
    assert login(elsewhere.user).post(url, {"note": "Phoned"}).status_code == 404
    assert login(patient.user).post(url, {"note": "Phoned"}).status_code == 403


@pytest.mark.parametrize(
    "note, corrected, said",
    [
        ("Phoned; " + "x" * 300, False, "Keep the note to 300 characters (it has 308)"),
        ("Phoned; seen today", True, "The patient has corrected this answer since"),
        # PostgreSQL cannot store a NUL in text: a pasted or forged one is said, not a 500.
        ("Phoned\x00 seen today", False, "cannot be stored"),
    ],
)
def test_a_response_that_cannot_be_kept_as_sent_is_refused_with_the_reason(
    login, practitioner, course, note, corrected, said
):
    """A note past its length was cut short silently; an answer the patient has corrected
    since is no longer the one to respond to (the alert list shows the current one); a NUL
    character cannot be stored."""
    session = _session(course, 2)
    checkin = a_survey_answer(
        session,
        worrying=True,
        worrying_details="Dizzy",
        practitioner=practitioner,
        location=session.location,
    )
    if corrected:
        a_correction(checkin, worrying=False, location=session.location)
    response = login(practitioner.user).post(
        reverse("intake:aftercare_respond", args=[checkin.pk]), {"note": note}, follow=True
    )
    assert said in messages_said(response)
    assert not AfterCareResponse.objects.exists()


def test_worrying_after_care_lists_only_that_practitioners_current_unanswered_worries(
    patient, practitioner, course
):
    from tests.factories import certified_practitioner

    other = certified_practitioner(locations=[course.appointments.first().location])
    calm = a_survey_answer(_session(course, 1), practitioner=practitioner)
    corrected = a_survey_answer(
        _session(course, 2), worrying=True, worrying_details="Swollen", practitioner=practitioner
    )
    a_correction(corrected, worrying=False)
    theirs = a_survey_answer(
        _session(course, 3),
        bruising=True,
        worrying=True,
        worrying_details="Bruise spreading",
        practitioner=other,
    )
    assert calm.pk and selectors.worrying_aftercare([practitioner.pk]) == []
    assert selectors.worrying_aftercare([other.pk, practitioner.pk]) == [theirs]


def test_the_end_of_course_questionnaire_opens_when_the_course_is_finished(login, clinic, patient):
    start = timezone.now() - dt.timedelta(days=30)
    course = a_course(
        clinic,
        patient,
        statuses=[DONE, DONE, DONE, Status.NO_SHOW],
        first_start=start,
    )
    client = login(patient.user)
    last_attended = _session(course, 3)
    url = _url(SurveyKind.END_OF_COURSE, _session(course, 1))  # any session names the course
    answers = {
        "pain_first_steps": "3",
        "pain_average": "2",
        "improved_pain_mobility": "True",
        "improved_strength": "False",
        "improved_walking": "True",
        "recommend": "9",
        "comments": "Much better",
    }
    assert client.post(url, answers).status_code == 302
    checkin = OutcomeSurvey.objects.get()
    assert checkin.course_id == course.pk and checkin.appointment_id == last_attended.pk
    assert checkin.recommend == 9 and checkin.improved_strength is False
    # The 4-week follow-up opens four weeks after the last attended session, not before.
    follow_up = _url(SurveyKind.FOLLOW_UP_4, _session(course, 1))
    assert "This survey is closed" in client.get(follow_up).content.decode()


def test_course_questionnaires_do_not_apply_while_sessions_remain(login, patient, course):
    client = login(patient.user)
    assert client.get(_url(SurveyKind.END_OF_COURSE, _session(course, 1))).status_code == 404


def test_the_patients_home_lists_open_check_ins(login, patient, course):
    home = login(patient.user).get(reverse("clinic:patient_home")).content.decode()
    assert "Tell us how you are doing" in home
    assert _url(BEFORE, _session(course, 3)) in home
    assert _url(AFTER, _session(course, 2)) in home
    assert _url(BEFORE, _session(course, 5)) not in home  # weeks away


@pytest.fixture
def arriving(clinic, patient):
    """A course whose third session starts in an hour: the patient is at the counter."""
    start = timezone.now() - dt.timedelta(days=14) + dt.timedelta(hours=1)
    return a_course(clinic, patient, statuses=[DONE, DONE, BOOKED, BOOKED], first_start=start)


def test_the_front_desk_hands_over_the_counter_tablet(login, front_desk, patient, arriving):
    client = login(front_desk)
    session = _session(arriving, 3)
    chart = client.get(reverse("intake:patient_chart", args=[patient.pk])).content.decode()
    url = reverse("intake:counter_outcome_survey", args=[session.pk])
    assert url in chart
    response = client.post(url, PAIN)
    assert response.status_code == 302
    checkin = OutcomeSurvey.objects.get()
    assert checkin.channel == SurveyChannel.COUNTER and checkin.collected_by == front_desk
    # Handed back, the front desk sees that answers arrived, not what they are.
    page = client.get(url).content.decode()
    assert "Answers received" in page and "6 out of 10" not in page
    assert client.post(url, PAIN | {"corrects": str(checkin.pk)}).status_code == 302
    assert OutcomeSurvey.objects.count() == 1


def test_the_counter_tablet_is_only_for_the_staff_of_the_sessions_location(
    login, front_desk_elsewhere, patient, arriving
):
    url = reverse("intake:counter_outcome_survey", args=[_session(arriving, 3).pk])
    assert login(front_desk_elsewhere).get(url).status_code == 404
    assert login(patient.user).get(url).status_code == 403


def test_check_in_windows():
    from intake.clinical.selectors import Visit, VisitState, course_end, survey_window

    now = timezone.now()

    def visit(n, state, days):
        return Visit(
            appointment_id=n,
            patient_id=1,
            location=None,
            practitioner_id=1,
            practitioner_name="",
            starts_at=now + dt.timedelta(days=days),
            ends_at=now + dt.timedelta(days=days, minutes=30),
            state=state,
            needling=True,
            course_id=9,
            session_number=n,
            sessions_planned=3,
        )

    done = visit(1, VisitState.ATTENDED, -20)
    missed = visit(2, VisitState.MISSED, -13)
    last = visit(3, VisitState.ATTENDED, -6)
    booked = visit(3, VisitState.BOOKED, 1)
    assert survey_window(BEFORE, booked).is_open(now)
    assert not survey_window(BEFORE, visit(3, VisitState.BOOKED, 4)).is_open(now)
    assert survey_window(BEFORE, missed) is None
    assert survey_window(AFTER, booked) is None
    assert survey_window(AFTER, last).is_open(now)
    assert not survey_window(AFTER, done).is_open(now)  # 20 days ago: closed after a week
    assert course_end([done, missed, booked]) is None
    assert course_end([done, missed, last]) == last
    end = survey_window(SurveyKind.END_OF_COURSE, done, last_session=last)
    assert end.opens == last.ends_at and end.is_open(now)
    twelve = survey_window(SurveyKind.FOLLOW_UP_12, done, last_session=last)
    assert twelve.opens == last.ends_at + dt.timedelta(weeks=12)
