"""A cancelled session of a course is booked again under its own number: the course keeps
its other sessions and its numbering (session 5 of 6), from the service and from the course
page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking import services
from booking.forms import slot_choice_value
from booking.models import ACTIVE, Appointment, AppointmentEvent, Notification, Status
from booking.services import appointments, courses
from tests.booking.conftest import FakeGate, next_weekday
from tests.booking.factories import a_booking, a_colleague, a_course
from tests.conftest import messages_said

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(clinic, patient, prescribe):
    """A weekly course of 6 on Tuesdays at 10:00 whose fifth session the patient cancelled."""
    prescribe(patient, clinic.practitioner)
    times = services.proposed_dates(
        first=next_weekday(clinic.location, 1, 10),
        zone=clinic.location.zone,
        sessions=6,
        interval_days=7,
    )
    course = services.book_course(
        patient=patient,
        choices=[
            services.SessionChoice(n + 1, clinic.location, clinic.practitioner, t)
            for n, t in enumerate(times)
        ],
        actor=clinic.practitioner.user,
    )
    services.cancel_appointment(
        course.appointments.get(session_number=5),
        by="patient",
        actor=patient.user,
        reason="Travelling",
    )
    return course


@pytest.fixture
def fifth(course):
    return course.appointments.get(session_number=5)


@pytest.fixture
def someone_else_then(clinic, fifth, front_desk):
    """Another patient's assessment with the same practitioner at the fifth session's time."""
    return a_booking(clinic, fifth.starts_at, actor=front_desk)


def _again(course, clinic, starts_at, *, number=5, practitioner=None, **kwargs):
    return services.rebook_course_session(
        course=course,
        session_number=number,
        location=clinic.location,
        practitioner=practitioner or clinic.practitioner,
        starts_at=starts_at,
        actor=clinic.practitioner.user,
        **kwargs,
    )


def _active_numbers(course) -> list[int]:
    return sorted(course.appointments.filter(ACTIVE).values_list("session_number", flat=True))


# --- The service ---------------------------------------------------------------------------------


def test_a_cancelled_session_is_booked_again_under_its_number(clinic, course, fifth):
    assert _active_numbers(course) == [1, 2, 3, 4, 6]
    thursday = fifth.starts_at + dt.timedelta(days=2)
    again = _again(course, clinic, thursday)
    assert (again.course, again.session_number, again.status) == (course, 5, Status.CONFIRMED)
    assert again.service == clinic.needling and again.minutes == course.minutes
    assert again.starts_at == thursday and again.session_label == "DN 5/6"
    assert _active_numbers(course) == [1, 2, 3, 4, 5, 6]
    fifth.refresh_from_db()
    assert fifth.status == Status.CANCELLED  # the cancelled one stays, as history
    event = again.events.get()
    assert event.kind == AppointmentEvent.Kind.CREATED
    assert event.reason == "Course session 5 of 6 booked again"
    assert event.actor == clinic.practitioner.user
    assert Notification.objects.filter(
        appointment=again, kind=Notification.Kind.CONFIRMED, state=Notification.State.PENDING
    ).exists()


def test_it_refuses_a_session_that_still_has_an_active_appointment(clinic, course):
    third = course.appointments.get(session_number=3)
    with pytest.raises(services.BookingError, match="Session 3 of 6 is already booked"):
        _again(course, clinic, third.starts_at + dt.timedelta(days=1), number=3)
    assert course.appointments.count() == 6


def test_it_refuses_a_session_booked_again_a_moment_ago(clinic, course, fifth):
    _again(course, clinic, fifth.starts_at)
    with pytest.raises(services.BookingError, match="Session 5 of 6 is already booked"):
        _again(course, clinic, fifth.starts_at + dt.timedelta(days=1))
    assert _active_numbers(course) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("number", [0, 7])
def test_it_refuses_a_number_outside_the_course(clinic, course, fifth, number):
    with pytest.raises(services.BookingError, match=f"no session {number}"):
        _again(course, clinic, fifth.starts_at, number=number)


def test_it_refuses_an_uncertified_practitioner(clinic, course, fifth):
    uncertified = a_colleague(clinic, certified=False)
    with pytest.raises(services.SlotUnavailable, match="no dry-needling certification"):
        _again(course, clinic, fifth.starts_at, practitioner=uncertified)
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_it_refuses_a_time_someone_else_has(clinic, course, fifth, someone_else_then):
    with pytest.raises(services.SlotUnavailable):
        _again(course, clinic, fifth.starts_at)
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_a_conflict_found_by_postgresql_is_the_usual_slot_taken(
    clinic, course, fifth, someone_else_then, monkeypatch
):

    def passes(*, location, practitioner, starts_at, minutes, **_):
        # As for the second of two bookings racing for one time: the Python check passed.
        length = dt.timedelta(minutes=minutes)
        return services.CheckedSlot(
            location=location,
            practitioner=practitioner,
            room_id=clinic.rooms[1].pk,
            starts_at=starts_at,
            ends_at=starts_at + length,
            blocks_until=starts_at + length + dt.timedelta(minutes=location.buffer_minutes),
        )

    # Booking again checks the session's slot where the course's own bookings do.
    for workflow in (appointments, courses):
        monkeypatch.setattr(workflow, "check_slot", passes)
    with pytest.raises(services.SlotTaken, match="just taken"):
        _again(course, clinic, fifth.starts_at)
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_it_refuses_once_intake_no_longer_says_needling_is_appropriate(
    clinic, course, fifth, monkeypatch
):
    reason = "The assessment signed on 3 March by Dr Lee says dry needling is not appropriate."
    monkeypatch.setattr(
        "booking.gates.needling_gate", lambda patient: FakeGate(False, reason, None)
    )
    with pytest.raises(services.CourseNotAllowed, match="not appropriate"):
        _again(course, clinic, fifth.starts_at)
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_it_refuses_once_a_later_assessment_prescribes_a_new_plan(
    clinic, course, fifth, monkeypatch
):
    from dataclasses import replace

    from booking import gates

    # A re-assessment since: intake's plan in force is another assessment's, not this course's.
    current = gates.needling_gate(course.patient)
    later = replace(current.prescription, assessment_id=course.assessment_id + 1, sessions=4)
    monkeypatch.setattr(
        "booking.gates.needling_gate", lambda patient: replace(current, prescription=later)
    )
    with pytest.raises(services.CourseNotAllowed, match="later assessment"):
        _again(course, clinic, fifth.starts_at)
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


# --- The pages -----------------------------------------------------------------------------------


def _url(course, number=5):
    return reverse("booking:course_session_rebook", args=[course.pk, number])


def test_the_course_page_offers_to_book_only_the_cancelled_session_again(
    login, front_desk, clinic, course, fifth
):
    html = login(front_desk).get(reverse("booking:course_detail", args=[course.pk])).content
    html = html.decode()
    assert html.count("again</a>") == 1
    assert "Book session 5 again" in html and _url(course) in html
    # Booked again and cancelled again: still one offer, on the latest row of session 5.
    again = _again(course, clinic, fifth.starts_at)
    services.cancel_appointment(again, by="clinic", actor=front_desk, reason="Practitioner ill")
    html = login(front_desk).get(reverse("booking:course_detail", args=[course.pk])).content
    assert html.decode().count("Book session 5 again") == 1


def test_the_page_shows_free_times_at_the_sessions_place_and_practitioner(
    login, front_desk, clinic, course, fifth
):
    response = login(front_desk).get(_url(course))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Book session 5 of 6 again" in html
    assert slot_choice_value(clinic.practitioner.pk, fifth.starts_at) in html
    assert "Free times for 30 minutes" in html


def test_posting_a_time_books_the_session_and_returns_to_the_course(
    login, front_desk, clinic, course, fifth
):
    thursday = fifth.starts_at + dt.timedelta(days=2)
    response = login(front_desk).post(
        _url(course),
        {
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, thursday),
        },
        follow=True,
    )
    assert response.redirect_chain == [(reverse("booking:course_detail", args=[course.pk]), 302)]
    assert "Session 5 of 6 is booked again" in messages_said(response)
    again = course.appointments.get(session_number=5, status=Status.CONFIRMED)
    assert again.starts_at == thursday and again.created_by == front_desk
    assert "Book session 5 again" not in response.content.decode()


def test_a_time_taken_meanwhile_books_nothing_and_shows_fresh_times(
    login, front_desk, clinic, course, fifth
):
    client = login(front_desk)
    client.get(_url(course))
    a_booking(clinic, fifth.starts_at, actor=front_desk)
    taken = slot_choice_value(clinic.practitioner.pk, fifth.starts_at)
    response = client.post(_url(course), {"location": clinic.location.slug, "slot": taken})
    assert response.status_code == 200
    assert "Nothing was booked; here are the times free now." in messages_said(response)
    html = response.content.decode()
    assert f'value="{taken}"' not in html
    assert 'name="slot"' in html  # other times of that day
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_a_session_already_booked_again_sends_back_to_the_course(
    login, front_desk, clinic, course, fifth
):
    _again(course, clinic, fifth.starts_at)
    client = login(front_desk)
    response = client.post(
        _url(course),
        {
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, fifth.starts_at),
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("booking:course_detail", args=[course.pk])
    assert client.get(_url(course, 3)).status_code == 302
    assert course.appointments.filter(session_number=5).count() == 2


def test_the_page_says_why_when_intake_refuses(login, front_desk, clinic, course, monkeypatch):
    reason = "New screening answers wait for practitioner review: anticoagulants."
    monkeypatch.setattr(
        "booking.gates.needling_gate", lambda patient: FakeGate(False, reason, None)
    )
    client = login(front_desk)
    html = client.get(_url(course)).content.decode()
    assert "cannot be booked again" in html and "anticoagulants" in html
    assert 'name="slot"' not in html
    start = next_weekday(clinic.location, 3, 10)
    response = client.post(_url(course), {"slot": slot_choice_value(clinic.practitioner.pk, start)})
    assert response.status_code == 200
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_a_number_outside_the_course_is_not_found(login, front_desk, course):
    assert login(front_desk).get(_url(course, 7)).status_code == 404


def test_patients_cannot_book_a_session_again(login, patient, course, clinic, fifth):
    client = login(patient.user)
    assert client.get(_url(course)).status_code == 403
    posted = client.post(
        _url(course), {"slot": slot_choice_value(clinic.practitioner.pk, fifth.starts_at)}
    )
    assert posted.status_code == 403
    assert _active_numbers(course) == [1, 2, 3, 4, 6]


def test_front_desk_of_another_location_gets_404(login, front_desk_elsewhere, course):
    client = login(front_desk_elsewhere)
    assert client.get(_url(course)).status_code == 404
    assert client.post(_url(course), {}).status_code == 404


def test_a_wrong_method_is_refused(login, front_desk, course):
    assert login(front_desk).delete(_url(course)).status_code == 405
    assert not Appointment.objects.filter(course=course, session_number=5, status="confirmed")


def test_a_session_booked_again_after_the_course_ended_withdraws_its_questionnaires(
    clinic, patient, intake, front_desk
):
    """The last session missed ended the course at session 3 and its questionnaires were asked
    for; booked again, the course goes on, and they wait for its real last session."""
    intake.ready(patient)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED] * 3 + [Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 1, 10) - dt.timedelta(weeks=5),
    )
    missed = services.change_status(
        course.appointments.get(session_number=4), to=Status.NO_SHOW, actor=front_desk
    )
    surveys = Notification.objects.filter(kind=Notification.Kind.OUTCOME_SURVEY)
    third = course.appointments.get(session_number=3)
    assert {(s.appointment_id, s.state) for s in surveys} == {(third.pk, "pending")}

    again = _again(course, clinic, next_weekday(clinic.location, 1, 10), number=4)

    assert not surveys.filter(state=Notification.State.PENDING).exists()
    # Cancelled in turn, the course ends at session 3 after all: asked for again, once each.
    services.cancel_appointment(again, by="clinic", actor=front_desk, reason="Unwell")
    waiting = surveys.filter(state=Notification.State.PENDING)
    assert sorted(s.context["checkin"] for s in waiting) == [
        "end_of_course",
        "follow_up_12",
        "follow_up_4",
    ]
    assert {s.appointment_id for s in waiting} == {third.pk}
    assert missed.status == Status.NO_SHOW
