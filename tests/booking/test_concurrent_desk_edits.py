"""Two staff changing the same appointment at the same moment: one wins, the other is told what
happened and sees its current state; nothing is overwritten silently."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking import services
from booking.forms import slot_choice_value
from booking.models import Appointment, AppointmentEvent, Status
from clinic.models import Role
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_clinic, an_appointment
from tests.booking.races import at_once
from tests.conftest import VerifiedClient, messages_said
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def _request(clinic, start):
    return an_appointment(clinic, PatientFactory(), start, status=Status.REQUESTED)


@pytest.fixture
def second_desk(location):
    """Another front-desk person at the same location, with their own browser."""
    person = UserFactory(role=Role.FRONT_DESK, first_name="Noor", locations=[location])
    browser = VerifiedClient()
    browser.force_login(person)
    return browser


def test_the_second_person_to_act_is_told_and_sees_the_current_state(
    login, front_desk, second_desk, clinic
):
    request = _request(clinic, next_weekday(clinic.location, 1, 10))
    seen = request.version  # both opened the requests queue
    first = login(front_desk)
    first.post(reverse("booking:desk_confirm", args=[request.pk]), {"version": seen})
    response = second_desk.post(
        reverse("booking:desk_decline", args=[request.pk]),
        {"version": seen, "reason": "No room that day"},
        follow=True,
    )
    assert (
        "Someone else changed this appointment a moment ago (it is now confirmed)"
        in messages_said(response)
    )
    assert response.redirect_chain[-1][0] == reverse(
        "booking:appointment_detail", args=[request.pk]
    )
    assert "Confirmed" in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.CONFIRMED
    assert request.events.count() == 1


def test_a_button_clicked_twice_is_not_blamed_on_someone_else(login, front_desk, clinic):
    """Confirm clicked twice, or a move sent again from the back button: the second finds the
    change the same person just made, and says so, not that someone else changed it."""
    request = _request(clinic, next_weekday(clinic.location, 1, 10))
    seen = request.version
    desk = login(front_desk)
    confirm = reverse("booking:desk_confirm", args=[request.pk])
    desk.get(desk.post(confirm, {"version": seen}).url)  # its message, shown and gone
    again = messages_said(desk.post(confirm, {"version": seen}, follow=True))
    assert "Someone else" not in again
    assert again == (
        "You changed this appointment a moment ago (it is now confirmed): the form was sent "
        "twice, and nothing more was changed. Here is its current state."
    )
    target = next_weekday(clinic.location, 3, 14)
    move = {
        "version": seen + 1,
        "location": clinic.location.slug,
        "slot": slot_choice_value(clinic.practitioner.pk, target),
    }
    url = reverse("booking:desk_move", args=[request.pk])
    desk.get(desk.post(url, move).url)
    assert "You changed this appointment a moment ago" in messages_said(
        desk.post(url, move, follow=True)
    )
    request.refresh_from_db()
    assert (request.starts_at, request.events.count()) == (target, 2)


def test_two_people_moving_one_appointment_do_not_overwrite_each_other(
    login, front_desk, second_desk, clinic
):
    appointment = _request(clinic, next_weekday(clinic.location, 1, 10))
    seen = appointment.version
    one, two = next_weekday(clinic.location, 2, 11), next_weekday(clinic.location, 3, 14)
    move = reverse("booking:desk_move", args=[appointment.pk])
    login(front_desk).post(
        move,
        {
            "version": seen,
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, one),
        },
    )
    response = second_desk.post(
        move,
        {
            "version": seen,
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, two),
        },
        follow=True,
    )
    assert "Someone else changed this appointment a moment ago" in messages_said(response)
    appointment.refresh_from_db()
    assert appointment.starts_at == one
    assert appointment.events.filter(kind=AppointmentEvent.Kind.MOVED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_connections_acting_at_once_get_one_winner(location, practitioner, django_user_model):
    """Each person on their own database connection, at the same instant: the row lock makes
    the second wait for the first, then see the new version and be refused."""
    clinic = a_clinic(location=location, practitioner=practitioner)
    staff = [
        django_user_model.objects.create_user(f"desk{n}@example.org", "x", role="front_desk")
        for n in range(2)
    ]
    request = _request(clinic, next_weekday(location, 1, 10))
    seen = request.version
    targets = [next_weekday(location, 2, 11), next_weekday(location, 3, 14)]
    outcomes = at_once(
        [
            lambda: services.confirm_request(request, actor=staff[0], expected_version=seen),
            lambda: services.reschedule_appointment(
                request,
                starts_at=targets[1],
                actor=staff[1],
                reason="Moved by the clinic",
                expected_version=seen,
            ),
        ],
        won="won",
        lost=(services.StaleAppointment, "told"),
    )
    assert outcomes == ["told", "won"]
    final = Appointment.objects.get(pk=request.pk)
    assert final.version == seen + 1
    assert final.events.count() == 1
    won_by_confirm = final.status == Status.CONFIRMED
    assert won_by_confirm != (final.starts_at == targets[1])
