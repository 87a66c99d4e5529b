"""The front desk's actions on an appointment — check in, complete, no-show, cancel, move —
each recorded in the appointment's history, each refused with a clear message when it does
not apply. Check-in needs the patient's current consent, whichever way it is attempted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.forms import slot_choice_value
from booking.models import AppointmentEvent, Status
from clinic.models import AccessLog
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_clinic,
    a_colleague,
    a_course,
    a_course_record,
    an_appointment,
)
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def soon(clinic, patient):
    """A confirmed appointment starting within the hour."""
    return an_appointment(clinic, patient, timezone.now() + dt.timedelta(minutes=40))


@pytest.fixture
def started(clinic):
    """A confirmed appointment that began 20 minutes ago (in the other room)."""
    return an_appointment(
        clinic, PatientFactory(), timezone.now() - dt.timedelta(minutes=90), room=clinic.rooms[1]
    )


def _post(client, name, appointment, **data):
    return client.post(
        reverse(f"booking:{name}", args=[appointment.pk]),
        {"version": appointment.version, **data},
        follow=True,
    )


# --- Check-in and consent -----------------------------------------------------------------------


def test_check_in_is_refused_without_the_current_consent_and_offers_to_sign_it(
    login, front_desk, soon, intake
):
    intake.record(soon.patient, submitted=True, consent_current=False)
    response = _post(login(front_desk), "desk_check_in", soon)
    assert "has not signed the current version of the consent" in messages_said(response)
    html = response.content.decode()
    assert "Sign the consent at the counter" in html
    assert reverse("intake:counter_consent", args=[soon.patient.pk]) in html
    soon.refresh_from_db()
    assert soon.status == Status.CONFIRMED
    assert not soon.events.exists()


def test_no_view_can_bypass_the_consent_check(soon, front_desk, intake):
    with pytest.raises(services.ConsentNeeded):
        services.change_status(soon, to=Status.CHECKED_IN, actor=front_desk)
    intake.ready(soon.patient)
    assert services.check_in(soon, actor=front_desk).status == Status.CHECKED_IN


def test_check_in_with_current_consent_is_recorded(login, front_desk, soon, intake):
    intake.ready(soon.patient)
    response = _post(login(front_desk), "desk_check_in", soon)
    assert f"{soon.patient.full_name} is checked in." in messages_said(response)
    soon.refresh_from_db()
    assert soon.status == Status.CHECKED_IN
    event = soon.events.get()
    assert (event.from_status, event.to_status, event.actor) == (
        "confirmed",
        "checked_in",
        front_desk,
    )
    assert AccessLog.objects.filter(
        actor=front_desk, patient=soon.patient, action="change"
    ).exists()
    assert "Checked in" in response.content.decode()  # the history on the page


def test_check_in_is_offered_only_once_it_opens_and_says_when_before(
    login, front_desk, clinic, patient, intake, time_machine
):
    intake.ready(patient)
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 2, 16))
    opens = appointment.starts_at - dt.timedelta(hours=12)
    local = opens.astimezone(clinic.location.zone)
    when = f"4:00 AM {local.tzname()}, {local:%a} {local.day} {local:%b %Y}"
    check_in = reverse("booking:desk_check_in", args=[appointment.pk])
    page = reverse("booking:appointment_detail", args=[appointment.pk])
    client = login(front_desk)

    html = client.get(page).content.decode()
    assert f"Check-in opens at {when}." in html
    assert check_in not in html

    time_machine.move_to(opens - dt.timedelta(minutes=1), tick=False)
    client = login(front_desk)  # a week on: the staff session has long ended
    refused = _post(client, "desk_check_in", appointment)
    assert f"Check-in opens at {when}." in messages_said(refused)
    assert check_in not in refused.content.decode()

    time_machine.move_to(opens, tick=False)
    html = client.get(page).content.decode()
    assert check_in in html and "Check-in opens at" not in html
    assert "is checked in." in messages_said(_post(client, "desk_check_in", appointment))


def test_the_consent_warning_shows_before_check_in_opens(
    login, front_desk, clinic, patient, intake
):
    intake.record(patient, submitted=True, consent_current=False)
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 2, 16))
    html = (
        login(front_desk)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    assert "Check-in opens at" in html
    assert "Sign the consent at the counter" in html


def test_a_cancelled_appointment_cannot_be_checked_in(login, front_desk, soon, intake):
    intake.ready(soon.patient)
    services.cancel_appointment(soon, by="patient", actor=front_desk, reason="Unwell")
    soon.refresh_from_db()
    response = _post(login(front_desk), "desk_check_in", soon)
    assert "A cancelled appointment cannot be marked checked in." in messages_said(response)


def test_a_checked_in_visit_is_completed(login, practitioner, soon, intake):
    intake.ready(soon.patient)
    services.check_in(soon, actor=practitioner.user)
    soon.refresh_from_db()
    response = _post(login(practitioner.user), "desk_complete", soon)
    assert "marked completed" in messages_said(response)
    soon.refresh_from_db()
    assert soon.status == Status.COMPLETED
    assert list(soon.events.values_list("to_status", flat=True)) == ["checked_in", "completed"]


# --- No-shows -----------------------------------------------------------------------------------


def test_a_future_appointment_cannot_be_a_no_show(login, front_desk, soon):
    response = _post(login(front_desk), "desk_no_show", soon)
    assert "once the appointment has started" in messages_said(response)
    soon.refresh_from_db()
    assert soon.status == Status.CONFIRMED


def test_a_patient_who_did_not_come_is_marked_no_show(login, front_desk, started):
    response = _post(login(front_desk), "desk_no_show", started)
    assert "is marked as a no-show" in messages_said(response)
    started.refresh_from_db()
    assert started.status == Status.NO_SHOW
    assert started.events.get().to_status == "no_show"


# --- Cancelling --------------------------------------------------------------------------------


def test_a_cancellation_needs_a_reason_and_who_asked(login, front_desk, soon):
    response = login(front_desk).post(
        reverse("booking:desk_cancel", args=[soon.pk]), {"version": soon.version}
    )
    html = response.content.decode()
    assert "Give the reason for the cancellation." in html
    assert "Say who asked to cancel." in html
    soon.refresh_from_db()
    assert soon.status == Status.CONFIRMED


def test_a_late_cancellation_is_computed_from_the_locations_notice(login, front_desk, soon):
    client = login(front_desk)
    page = client.get(reverse("booking:desk_cancel", args=[soon.pk])).content.decode()
    assert "late cancellation" in page  # warned before confirming
    response = _post(client, "desk_cancel", soon, cancelled_by="patient", reason="Car broke down")
    assert "Cancelled (a late cancellation)." in messages_said(response)
    soon.refresh_from_db()
    assert (soon.status, soon.cancelled_by, soon.cancellation_reason, soon.late_cancellation) == (
        "cancelled",
        "patient",
        "Car broke down",
        True,
    )
    event = soon.events.get()
    assert (event.to_status, event.late, event.actor, event.details["by"]) == (
        "cancelled",
        True,
        front_desk,
        "patient",
    )


def test_a_cancellation_days_ahead_is_not_late(login, front_desk, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 2, 10))
    response = _post(
        login(front_desk), "desk_cancel", appointment, cancelled_by="clinic", reason="Closed"
    )
    assert "Cancelled. The time is free again." in messages_said(response)
    appointment.refresh_from_db()
    assert (appointment.cancelled_by, appointment.late_cancellation) == ("clinic", False)


# --- Moving -------------------------------------------------------------------------------------


@pytest.fixture
def elsewhere(clinic, other_location, front_desk):
    """A second location with a certified practitioner and a room, that the front desk covers
    too (a course's sessions may be at different locations)."""
    front_desk.locations.add(other_location)
    other = a_clinic(location=other_location, rooms=1)
    return other


def test_the_move_page_shows_the_free_times(login, front_desk, clinic, patient):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    day = appointment.local_starts_at.date()
    page = login(front_desk).get(
        reverse("booking:desk_move", args=[appointment.pk]), {"date": day.isoformat()}
    )
    html = page.content.decode()
    assert slot_choice_value(clinic.practitioner.pk, appointment.starts_at) in html  # its own
    assert "2:00 PM" in html and "9:00 AM" in html


def test_a_move_to_another_location_practitioner_and_room_is_recorded(
    login, front_desk, clinic, patient, elsewhere
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    target = next_weekday(elsewhere.location, 3, 14)
    response = _post(
        login(front_desk),
        "desk_move",
        appointment,
        location=elsewhere.location.slug,
        slot=slot_choice_value(elsewhere.practitioner.pk, target),
        room=elsewhere.rooms[0].pk,
    )
    assert "Moved to" in messages_said(response) and "at Rockville" in messages_said(response)
    appointment.refresh_from_db()
    assert (
        appointment.location,
        appointment.practitioner,
        appointment.room,
        appointment.starts_at,
    ) == (
        elsewhere.location,
        elsewhere.practitioner,
        elsewhere.rooms[0],
        target,
    )
    event = appointment.events.get()
    assert event.kind == AppointmentEvent.Kind.MOVED and event.actor == front_desk
    assert event.details["from"]["location"] == "Leaside"
    assert event.details["to"]["location"] == "Rockville"
    assert event.details["to"]["room"] == elsewhere.rooms[0].name


def test_a_move_into_a_time_just_taken_is_refused_with_the_times_free_now(
    login, front_desk, clinic, patient
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    target = next_weekday(clinic.location, 3, 14)  # another day than the appointment's
    client = login(front_desk)
    client.get(reverse("booking:desk_move", args=[appointment.pk]))
    an_appointment(
        clinic, PatientFactory(), target, room=clinic.rooms[1]
    )  # someone else, a moment ago
    response = client.post(
        reverse("booking:desk_move", args=[appointment.pk]),
        {
            "version": appointment.version,
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, target),
        },
    )
    assert response.status_code == 200
    assert "Nothing was changed; here are the times free now." in messages_said(response)
    html = response.content.decode()
    assert f"on <strong>{target.astimezone(clinic.location.zone):%A %-d %B %Y}</strong>" in html
    assert slot_choice_value(clinic.practitioner.pk, target) not in html
    appointment.refresh_from_db()
    assert appointment.starts_at != target and not appointment.events.exists()


def test_a_move_to_a_room_of_another_location_is_refused(
    login, front_desk, clinic, patient, elsewhere
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = _post(
        login(front_desk),
        "desk_move",
        appointment,
        location=clinic.location.slug,
        slot=slot_choice_value(clinic.practitioner.pk, next_weekday(clinic.location, 1, 14)),
        room=elsewhere.rooms[0].pk,
    )
    assert "That room is not at this location." in messages_said(response)
    appointment.refresh_from_db()
    assert not appointment.events.exists()


def test_a_course_session_moves_to_another_location_keeping_its_number(
    login, front_desk, clinic, patient, elsewhere
):
    course = a_course_record(patient, clinic.practitioner, created_by=front_desk)
    start = next_weekday(clinic.location, 1, 10)
    session = an_appointment(
        clinic, patient, start, service=clinic.needling, course=course, session_number=3
    )
    target = next_weekday(elsewhere.location, 2, 11)
    _post(
        login(front_desk),
        "desk_move",
        session,
        location=elsewhere.location.slug,
        slot=slot_choice_value(elsewhere.practitioner.pk, target),
    )
    session.refresh_from_db()
    assert (session.location, session.session_number, session.course) == (
        elsewhere.location,
        3,
        course,
    )


def test_a_needling_session_cannot_move_to_an_uncertified_practitioner(
    login, front_desk, clinic, patient
):
    uncertified = a_colleague(clinic, certified=False)
    start = next_weekday(clinic.location, 1, 10)
    course = a_course(clinic, patient, statuses=[Status.CONFIRMED], first_start=start)
    session = course.appointments.get()
    response = _post(
        login(front_desk),
        "desk_move",
        session,
        location=clinic.location.slug,
        slot=slot_choice_value(uncertified.pk, next_weekday(clinic.location, 1, 14)),
    )
    assert "no dry-needling certification" in messages_said(response)
    session.refresh_from_db()
    assert session.practitioner == clinic.practitioner


def test_the_actions_shown_follow_the_status(login, front_desk, soon, started, intake):
    client = login(front_desk)
    confirmed = client.get(reverse("booking:appointment_detail", args=[soon.pk])).content.decode()
    assert "Check in</button>" in confirmed and "Mark no-show" not in confirmed  # not started
    begun = client.get(reverse("booking:appointment_detail", args=[started.pk])).content.decode()
    assert "Mark no-show" in begun
