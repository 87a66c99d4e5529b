"""An attacker's attempts at reaching records they should not, and the refusal each gets.

Covered here: a practitioner's calendar feed kept after the access that justified it is gone
(deactivated, closed, role changed, location left), and the front desk reading a patient's
clinical answers (minimum necessary: they see a questionnaire's state, never its answers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking.notifications import calendars
from clinic.models import AccessLog, Role
from clinic.services import remove_login
from tests.booking.factories import AppointmentFactory
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


# --- A calendar feed stops with the access that justified it -----------------------------------


@pytest.fixture
def feed(location, other_location, practitioner):
    """A practitioner working at both locations, one appointment at each in the coming week,
    and the address of their calendar feed."""
    practitioner.user.locations.add(other_location)
    soon = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    here = AppointmentFactory(
        location=location,
        practitioner=practitioner,
        patient=PatientFactory(user__first_name="Jordan", user__last_name="Miles"),
        starts_at=soon,
    )
    there = AppointmentFactory(
        location=other_location,
        practitioner=practitioner,
        patient=PatientFactory(user__first_name="Casey", user__last_name="Other"),
        starts_at=soon + dt.timedelta(hours=3),
    )
    token = calendars.new_feed(practitioner)
    return {
        "url": reverse("booking:practitioner_feed", args=[token]),
        "practitioner": practitioner,
        "here": here,
        "there": there,
    }


def _events(response) -> list:
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_a_working_practitioners_feed_serves_their_schedule(client, feed):
    response = client.get(feed["url"])
    assert response.status_code == 200
    assert len(_events(response)) == 2
    assert AccessLog.objects.filter(record_type="booking.calendarfeed").count() == 2


def _refused_without_a_trace(client, url) -> None:
    before = AccessLog.objects.count()
    response = client.get(url)
    assert response.status_code == 404
    assert b"BEGIN:VEVENT" not in response.content
    assert b"Jordan" not in response.content
    assert AccessLog.objects.count() == before


def test_a_deactivated_practitioners_feed_is_refused(client, feed):
    user = feed["practitioner"].user
    user.is_active = False
    user.save()
    _refused_without_a_trace(client, feed["url"])


def test_a_closed_accounts_feed_is_refused(client, feed):
    remove_login(feed["practitioner"].user)
    _refused_without_a_trace(client, feed["url"])


def test_a_feed_stops_when_its_owner_is_no_longer_a_practitioner(client, feed):
    user = feed["practitioner"].user
    user.role = Role.FRONT_DESK
    user.save()
    _refused_without_a_trace(client, feed["url"])


def test_a_feed_serves_only_the_locations_its_owner_still_works_at(client, feed, other_location):
    feed["practitioner"].user.locations.remove(other_location)
    response = client.get(feed["url"])
    assert response.status_code == 200
    events = _events(response)
    assert [e.start for e in events] == [feed["here"].starts_at]
    assert b"Casey" not in response.content
    # And the patient no longer shown is not logged as seen in the practitioner's name.
    assert not AccessLog.objects.filter(patient=feed["there"].patient).exists()


def test_a_feed_of_a_practitioner_with_no_location_left_is_empty(
    client, feed, location, other_location
):
    feed["practitioner"].user.locations.clear()
    response = client.get(feed["url"])
    assert response.status_code in (200, 404)
    assert b"BEGIN:VEVENT" not in response.content
    assert not AccessLog.objects.exists()


# --- The front desk sees a questionnaire's state, never its answers (minimum necessary) --------

# Answers a front desk must never read once the patient has given them.
SECRET_GOAL = "Dance at my daughter's wedding"
SECRET_DETAIL = "Warfarin 5 mg daily"


def _flagged_submission(patient):
    from tests.intake.factories import submitted_intake

    return submitted_intake(
        patient,
        goals=SECRET_GOAL,
        screen_anticoagulants=True,
        screen_anticoagulants_details=SECRET_DETAIL,
    )


def _shows_answers(response) -> bool:
    page = response.content.decode()
    return any(
        secret in page for secret in (SECRET_GOAL, SECRET_DETAIL, "Anticoagulant or antiplatelet")
    )


def test_the_front_desk_cannot_open_a_submitted_questionnaire(login, front_desk, patient):
    intake = _flagged_submission(patient)
    response = login(front_desk).get(reverse("intake:intake_detail", args=[intake.pk]))
    assert response.status_code == 403
    assert not _shows_answers(response)


@pytest.mark.parametrize("persona", ["patient", "practitioner", "manager"])
def test_the_patient_and_clinical_staff_still_read_the_answers(request, login, patient, persona):
    intake = _flagged_submission(patient)
    person = request.getfixturevalue(persona)
    response = login(getattr(person, "user", person)).get(
        reverse("intake:intake_detail", args=[intake.pk])
    )
    assert response.status_code == 200
    assert _shows_answers(response)


def test_the_front_desk_sees_the_chart_state_and_flag_without_answers(login, front_desk, patient):
    _flagged_submission(patient)
    response = login(front_desk).get(reverse("intake:patient_chart", args=[patient.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Submitted" in page and "For practitioner review" in page
    assert not _shows_answers(response)
    assert "Walk the dog" not in page  # nor any other answer (pain, goals, BMI)


def test_the_practitioner_sees_the_screening_reasons_on_the_chart(login, practitioner, patient):
    _flagged_submission(patient)
    response = login(practitioner.user).get(reverse("intake:patient_chart", args=[patient.pk]))
    assert "Anticoagulant or antiplatelet" in response.content.decode()


def test_the_front_desk_list_of_questionnaires_shows_the_flag_not_the_reasons(
    login, front_desk, patient
):
    _flagged_submission(patient)
    response = login(front_desk).get(reverse("intake:intake_list") + "?show=review")
    assert response.status_code == 200
    assert "For practitioner review" in response.content.decode()
    assert not _shows_answers(response)


def _appointment_of(patient, location, practitioner):
    return AppointmentFactory(
        location=location,
        practitioner=practitioner,
        patient=patient,
        starts_at=(timezone.now() + dt.timedelta(days=2)).replace(second=0, microsecond=0),
    )


def test_the_appointment_page_gives_the_front_desk_the_flag_without_the_reasons(
    login, front_desk, practitioner, patient, location
):
    _flagged_submission(patient)
    appointment = _appointment_of(patient, location, practitioner)
    url = reverse("booking:appointment_detail", args=[appointment.pk])
    response = login(front_desk).get(url)
    assert response.status_code == 200
    assert "review" in response.content.decode().lower()
    assert not _shows_answers(response)
    assert "Anticoagulant or antiplatelet" in login(practitioner.user).get(url).content.decode()


def test_filling_in_by_phone_shows_only_what_the_front_desk_typed_in_this_sitting(
    client, login, front_desk, patient
):
    """The patient started online; the front desk takes over on the phone. The answers the
    patient typed are not shown; what the desk types now is shown back to them."""
    from intake.questionnaire.models import Intake
    from tests.intake.factories import IntakeFactory, step_data

    IntakeFactory(
        patient=patient,
        goals=SECRET_GOAL,
        pain_first_steps=9,
        screen_anticoagulants=True,
        screen_anticoagulants_details=SECRET_DETAIL,
        steps_done=["contact", "complaint", "symptoms", "pain", "risk", "treatments", "screening"],
    )
    desk = login(front_desk)
    for slug in ("pain", "screening"):
        response = desk.get(reverse("intake:staff_step", args=[patient.pk, slug]))
        assert response.status_code == 200
        assert not _shows_answers(response)
    review = desk.get(reverse("intake:staff_review", args=[patient.pk]))
    assert review.status_code == 200 and not _shows_answers(review)

    revision = Intake.objects.get(patient=patient).revision
    typed = "Climb the stairs at work"
    desk.post(
        reverse("intake:staff_step", args=[patient.pk, "pain"]),
        step_data(patient, "pain", revision=revision, goals=typed),
    )
    again = desk.get(reverse("intake:staff_step", args=[patient.pk, "pain"]))
    assert typed in again.content.decode()
    assert typed in desk.get(reverse("intake:staff_review", args=[patient.pk])).content.decode()

    # A later sitting (a new login) starts blank again.
    client.logout()
    later = login(front_desk).get(reverse("intake:staff_step", args=[patient.pk, "pain"]))
    assert typed not in later.content.decode()


def test_a_step_the_patient_changed_after_the_front_desk_typed_it_is_not_shown_to_the_desk(
    login, front_desk, patient
):
    """The desk types the screening on the phone; later the patient changes it online. In the
    same sitting the desk sees the step as answered earlier, not the patient's new answers
    (nor after a save of theirs refused because of them)."""
    from intake.questionnaire import services
    from intake.questionnaire.models import Intake
    from intake.questionnaire.questions import STEPS_BY_SLUG
    from tests.intake.factories import step_data

    desk = login(front_desk)
    desk.post(reverse("intake:staff_start", args=[patient.pk]))
    url = reverse("intake:staff_step", args=[patient.pk, "screening"])
    opened_at = Intake.objects.get(patient=patient).revision
    desk.post(url, step_data(patient, "screening", revision=opened_at, action="save"))
    assert "Warfarin" not in desk.get(url).content.decode()  # what the desk typed: all no

    services.save_intake_step(  # the patient, online, an hour later
        intake=Intake.objects.get(patient=patient),
        step=STEPS_BY_SLUG["screening"],
        answers={"screen_anticoagulants": True, "screen_anticoagulants_details": SECRET_DETAIL},
        seen_revision=Intake.objects.get(patient=patient).revision,
        complete=True,
    )
    page = desk.get(url)
    assert not _shows_answers(page)
    assert "This step was answered earlier" in page.content.decode()
    assert not _shows_answers(desk.get(reverse("intake:staff_review", args=[patient.pk])))
    refused = desk.post(url, step_data(patient, "screening", revision=opened_at))
    assert refused.status_code == 409 and not _shows_answers(refused)


def test_a_correction_started_by_the_front_desk_does_not_show_the_submitted_answers(
    login, front_desk, patient
):
    _flagged_submission(patient)
    desk = login(front_desk)
    desk.post(reverse("intake:staff_start", args=[patient.pk]))
    for slug in ("pain", "screening"):
        response = desk.get(reverse("intake:staff_step", args=[patient.pk, slug]))
        assert response.status_code == 200
        assert not _shows_answers(response)


def test_after_submitting_by_phone_the_front_desk_is_not_shown_the_answers(
    login, front_desk, patient
):
    from intake.questionnaire.models import Intake
    from intake.questionnaire.questions import QUESTION_STEPS
    from tests.intake.factories import step_data

    desk = login(front_desk)
    desk.post(reverse("intake:staff_start", args=[patient.pk]))
    for step in QUESTION_STEPS:
        revision = Intake.objects.get(patient=patient).revision
        desk.post(
            reverse("intake:staff_step", args=[patient.pk, step.slug]),
            step_data(patient, step.slug, revision=revision),
        )
    revision = Intake.objects.get(patient=patient).revision
    response = desk.post(
        reverse("intake:staff_review", args=[patient.pk]),
        {"revision": revision, "read_back_to_patient": "on"},
        follow=True,
    )
    assert Intake.objects.get(patient=patient).status == Intake.Status.SUBMITTED
    assert response.status_code == 200
    assert "Walk the dog" not in response.content.decode()
