"""Check-ins from email links (no login): the after-care email's link, the reminder's
pre-session link, and the course questionnaires scheduled once a course is over."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import notifications, services
from booking.models import CancelledBy, Notification, Status
from booking.notifications import links
from intake.clinical.models import OutcomeSurvey, SurveyChannel, SurveyKind
from tests.booking.factories import a_course
from tests.intake.factories import a_survey_answer

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
AFTER = {"soreness": "mild", "bruising": "False", "worrying": "False"}


@pytest.fixture
def course(clinic, patient):
    """Four weekly sessions: three done, the last checked in an hour ago."""
    start = timezone.now() - dt.timedelta(days=21, hours=1)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED, Status.COMPLETED, Status.COMPLETED, Status.CHECKED_IN],
        first_start=start,
    )
    return course


def _last(course):
    return course.appointments.get(session_number=course.sessions_planned)


def _path(url: str) -> str:
    return url.removeprefix(links.site_url())


def test_the_after_care_email_links_to_the_after_care_check_in(client, course, front_desk):
    session = services.change_status(_last(course), to=Status.COMPLETED, actor=front_desk)
    row = Notification.objects.get(kind=Kind.AFTER_CARE, appointment=session)
    _, text, html, _ = notifications.render_parts(row, now=timezone.now())
    url = text.split("tell us how you are doing (two minutes): ")[1].split()[0]
    assert url in html
    page = client.get(_path(url))
    assert (
        page.status_code == 200
        and "How sore is the area that was needled?" in page.content.decode()
    )
    assert "no-store" in page["Cache-Control"]

    assert client.post(_path(url), AFTER).status_code == 302
    checkin = OutcomeSurvey.objects.get()
    assert checkin.channel == SurveyChannel.LINK and checkin.kind == SurveyKind.AFTER_CARE
    assert checkin.submitted_by == session.patient.user

    # The link used twice: what was sent is shown, and a correction keeps both.
    again = client.get(_path(url)).content.decode()
    assert "What you sent" in again and "Correct these answers" in again
    assert client.post(_path(url), AFTER | {"bruising": "True"}).status_code == 409
    corrected = client.post(_path(url), AFTER | {"bruising": "True", "corrects": checkin.pk})
    assert corrected.status_code == 302
    assert OutcomeSurvey.objects.count() == 2
    assert OutcomeSurvey.objects.current().get().bruising is True


def test_a_check_in_link_opens_only_its_appointment_and_kind(client, course, front_desk):
    session = services.change_status(_last(course), to=Status.COMPLETED, actor=front_desk)
    other = course.appointments.get(session_number=1)
    after = links.make_token(session, purpose=links.survey_purpose("after_care"))
    manage = links.make_token(session)
    cases = [
        ([session.pk, after + "x", "after_care"], 400),  # tampered
        ([session.pk, manage, "after_care"], 400),  # a manage link is not a check-in link
        ([session.pk, after, "end_of_course"], 400),  # another kind of check-in
        ([other.pk, after, "after_care"], 400),  # another appointment
    ]
    for args, status in cases:
        response = client.get(reverse("booking:link_outcome_survey", args=args))
        assert response.status_code == status, args
        assert not OutcomeSurvey.objects.exists()
    assert (
        client.get(
            reverse("booking:link_outcome_survey", args=[session.pk, after, "after_care"])
        ).status_code
        == 200
    )


def test_an_expired_check_in_link_says_so(client, course, front_desk):
    session = services.change_status(_last(course), to=Status.COMPLETED, actor=front_desk)
    long_ago = timezone.now() - dt.timedelta(days=30)
    token = links.make_token(
        session,
        purpose=links.survey_purpose("after_care"),
        now=long_ago,
        expires_at=long_ago + dt.timedelta(days=7),
    )
    response = client.get(
        reverse("booking:link_outcome_survey", args=[session.pk, token, "after_care"])
    )
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_the_last_session_schedules_the_course_questionnaires_once(course, front_desk):
    session = services.change_status(_last(course), to=Status.COMPLETED, actor=front_desk)
    rows = Notification.objects.filter(kind=Kind.OUTCOME_SURVEY).order_by("send_after")
    assert [r.context["checkin"] for r in rows] == ["end_of_course", "follow_up_4", "follow_up_12"]
    assert [r.send_after - session.ends_at for r in rows] == [
        dt.timedelta(days=1),
        dt.timedelta(weeks=4),
        dt.timedelta(weeks=12),
    ]
    assert all(r.course == course and r.appointment == session for r in rows)
    notifications.schedule_outcome_surveys(course.pk, now=timezone.now())
    assert Notification.objects.filter(kind=Kind.OUTCOME_SURVEY).count() == 3


def test_a_course_with_sessions_ahead_schedules_no_questionnaire(clinic, patient, front_desk):
    start = timezone.now() - dt.timedelta(hours=1)
    course = a_course(
        clinic, patient, statuses=[Status.CHECKED_IN, Status.CONFIRMED], first_start=start
    )
    services.change_status(
        course.appointments.get(session_number=1), to=Status.COMPLETED, actor=front_desk
    )
    assert not Notification.objects.filter(kind=Kind.OUTCOME_SURVEY).exists()
    # The patient cancels the last session: the course is over, the questionnaires follow.
    services.cancel_appointment(
        course.appointments.get(session_number=2),
        actor=patient.user,
        by=CancelledBy.PATIENT,
        reason="Feeling better",
    )
    assert Notification.objects.filter(kind=Kind.OUTCOME_SURVEY).count() == 3


def test_a_questionnaire_email_links_to_it_and_is_skipped_once_answered(client, course, front_desk):
    session = services.change_status(_last(course), to=Status.COMPLETED, actor=front_desk)
    row = Notification.objects.get(kind=Kind.OUTCOME_SURVEY, context__checkin="end_of_course")
    at = session.ends_at + dt.timedelta(days=1)
    subject, text, _, _ = notifications.render_parts(row, now=at)
    assert subject == "How did your course of dry needling go?"
    url = next(word for word in text.split() if "/check-in/end_of_course/" in word)
    assert notifications.not_needed(row, now=at) == ""
    answers = {
        "pain_first_steps": "2",
        "pain_average": "1",
        "improved_pain_mobility": "True",
        "improved_strength": "True",
        "improved_walking": "True",
        "recommend": "10",
    }
    assert client.post(_path(url), answers).status_code == 302
    assert notifications.not_needed(row, now=at) == "The patient has already answered."


def test_the_reminder_of_a_course_session_carries_the_pre_session_check_in(
    clinic, patient, front_desk
):
    start = timezone.now() + dt.timedelta(days=2)
    course = a_course(clinic, patient, statuses=[Status.CONFIRMED], first_start=start)
    session = course.appointments.get()
    row = Notification.objects.create(
        kind=Kind.REMINDER,
        appointment=session,
        patient=patient,
        location=clinic.location,
        reminder_hours=48,
        context={"starts_at": session.starts_at.isoformat()},
    )
    _, text, html, _ = notifications.render_parts(row, now=timezone.now())
    assert "/check-in/before_session/" in text and "tell us how your heel has been" in html


def test_the_appointment_page_offers_the_counter_tablet_before_a_session(
    login, front_desk, clinic, patient
):
    start = timezone.now() + dt.timedelta(hours=1)
    session = a_course(
        clinic, patient, statuses=[Status.CONFIRMED], first_start=start
    ).appointments.get()
    client = login(front_desk)
    page = reverse("booking:appointment_detail", args=[session.pk])
    tablet = reverse("intake:counter_outcome_survey", args=[session.pk])
    assert tablet in client.get(page).content.decode()
    client.post(tablet, {"pain_first_steps": "5", "pain_average": "4", "walking_normally": "True"})
    html = client.get(page).content.decode()
    assert "Pre-session survey received" in html and tablet not in html


def test_a_practitioners_own_day_shows_worrying_after_care_answers(
    login, practitioner, clinic, patient
):
    start = timezone.now() - dt.timedelta(days=1)
    session = a_course(
        clinic, patient, statuses=[Status.COMPLETED], first_start=start
    ).appointments.get()
    a_survey_answer(
        session,
        channel=SurveyChannel.LINK,
        session_number=1,
        location=clinic.location,
        practitioner=practitioner,
        soreness="severe",
        bruising=True,
        worrying=True,
        worrying_details="Swelling",
    )
    html = (
        login(practitioner.user).get(reverse("booking:my_schedule"), follow=True).content.decode()
    )
    assert "Worrying after-care answers" in html and patient.full_name in html
