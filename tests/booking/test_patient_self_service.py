"""Patients see their appointments in the location's time zone, and cancel or move them
online until the location's cancellation notice; after that, they are told to phone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.forms import slot_choice_value
from booking.models import Appointment, Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking, a_colleague, a_course, an_appointment
from tests.conftest import messages_said

pytestmark = pytest.mark.django_db


def _move(client, appointment, practitioner, starts_at):
    """The patient moves `appointment` to the practitioner's time, confirmed."""
    return client.post(
        reverse("booking:appointment_reschedule", args=[appointment.pk]),
        {
            "slot": slot_choice_value(practitioner.pk, starts_at),
            "version": appointment.version,
            "confirm": "1",
        },
    )


def test_my_appointments_shows_local_times_and_runs_few_queries(
    login, patient, clinic, django_assert_max_num_queries
):
    start = next_weekday(clinic.location, 1, 10)
    for week in range(5):
        an_appointment(clinic, patient, start + dt.timedelta(weeks=week))
    client = login(patient.user)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("booking:my_appointments")).content.decode()
    assert html.count("10:00 AM E") == 5  # EST or EDT, the location's own time


def test_a_patient_cancels_outside_the_cut_off(login, patient, clinic):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = login(patient.user).post(
        reverse("booking:appointment_cancel", args=[appointment.pk]), {"reason": "Feeling better"}
    )
    assert response.url == reverse("booking:my_appointments")
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by, appointment.late_cancellation) == (
        "cancelled",
        "patient",
        False,
    )


def test_cancelling_twice_says_it_is_already_cancelled_not_too_late(login, patient, clinic):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    client = login(patient.user)
    url = reverse("booking:appointment_cancel", args=[appointment.pk])
    client.post(url, {"reason": "Away"}, follow=True)
    said = messages_said(client.post(url, {"reason": "Away"}, follow=True))
    assert "is cancelled; it cannot be cancelled" in said and "too late" not in said


def test_inside_the_cut_off_the_patient_is_told_to_phone(login, patient, clinic):
    appointment = an_appointment(clinic, patient, timezone.now() + dt.timedelta(hours=5))
    client = login(patient.user)
    page = client.get(reverse("booking:appointment_detail", args=[appointment.pk])).content.decode()
    assert "please phone" in page and clinic.location.phone in page
    response = client.post(
        reverse("booking:appointment_cancel", args=[appointment.pk]), {"reason": "Busy"}
    )
    assert clinic.location.phone in client.get(response.url).content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_inside_the_cut_off_a_request_not_yet_confirmed_is_withdrawn_online_free(
    login, patient, clinic
):
    """The clinic has not confirmed it: the patient had no appointment yet, so withdrawing it
    is never late (no fee, no late-cancel history) and needs no phone call."""
    request = an_appointment(
        clinic, patient, timezone.now() + dt.timedelta(hours=5), status=Status.REQUESTED
    )
    client = login(patient.user)
    page = client.get(reverse("booking:appointment_detail", args=[request.pk])).content.decode()
    cancel_url = reverse("booking:appointment_cancel", args=[request.pk])
    assert "you can still withdraw it here, free of charge" in page
    assert f'href="{cancel_url}">Withdraw the request' in page
    assert "too late to cancel online" not in client.get(cancel_url).content.decode()
    response = client.post(cancel_url, {"reason": "Found another time"}, follow=True)
    assert "too late" not in messages_said(response)
    request.refresh_from_db()
    assert request.status == Status.CANCELLED and not request.late_cancellation
    assert request.cancelled_by == "patient"


def test_a_cancellation_without_a_reason_gets_a_message_on_the_field(login, patient, clinic):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    response = login(patient.user).post(
        reverse("booking:appointment_cancel", args=[appointment.pk]), {}
    )
    assert "Please give a reason" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_a_patient_moves_an_appointment_to_another_free_time(login, patient, clinic):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    new_start = next_weekday(clinic.location, 3, 14)
    client = login(patient.user)
    response = _move(client, appointment, clinic.practitioner, new_start)
    assert response.url == reverse("booking:appointment_detail", args=[appointment.pk])
    appointment.refresh_from_db()
    assert appointment.starts_at == new_start
    assert appointment.events.get().kind == "moved"
    from clinic.models import AccessLog

    assert AccessLog.objects.filter(
        actor=patient.user, patient=patient, action="change", record_id=str(appointment.pk)
    ).exists()


def test_a_move_to_a_practitioner_the_page_does_not_offer_is_refused(login, patient, clinic):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    untrained = a_colleague(clinic, certified=False)
    client = login(patient.user)
    response = _move(client, appointment, untrained, next_weekday(clinic.location, 3, 14))
    assert "no dry-needling certification" in client.get(response.url).content.decode()
    appointment.refresh_from_db()
    assert appointment.practitioner == clinic.practitioner


def test_a_patient_moves_a_course_session_only_between_its_neighbours(login, patient, clinic):
    """Sessions on Tuesdays 10:00, a week apart: session 2 may move to Wednesday or Monday of
    its week, not onto session 1's or session 3's day, nor past them."""
    first = next_weekday(clinic.location, 1, 10)
    course = a_course(
        clinic, patient, statuses=[Status.CONFIRMED] * 3, first_start=first, minutes=30
    )
    second = course.appointments.get(session_number=2)
    client = login(patient.user)
    for refused in (
        first + dt.timedelta(hours=4),
        first - dt.timedelta(days=1, hours=-1),
        first + dt.timedelta(days=14, hours=4),
    ):
        response = _move(client, second, clinic.practitioner, refused)
        page = client.get(response.url).content.decode()
        assert "stays after session 1" in page and "before session 3" in page, refused
        second.refresh_from_db()
        assert second.starts_at == first + dt.timedelta(days=7)
    between = first + dt.timedelta(days=8)  # Wednesday of the second week
    response = _move(client, second, clinic.practitioner, between)
    assert response.url == reverse("booking:appointment_detail", args=[second.pk])
    second.refresh_from_db()
    assert second.starts_at == between


def test_a_course_session_booked_again_later_counts_by_its_date_not_its_number(
    login, patient, clinic
):
    """Session 2 was missed and booked again after session 4: session 3's neighbours in time
    are sessions 1 and 4, and it moves between them."""
    first = next_weekday(clinic.location, 1, 10)
    course = a_course(
        clinic, patient, statuses=[Status.CONFIRMED] * 4, first_start=first, minutes=30
    )
    sessions = {a.session_number: a for a in course.appointments.all()}
    later = first + dt.timedelta(days=28)
    Appointment.objects.filter(pk=sessions[2].pk).update(
        starts_at=later,
        ends_at=later + dt.timedelta(minutes=30),
        blocks_until=later + dt.timedelta(minutes=35),
    )
    third = sessions[3]
    to = first + dt.timedelta(days=9)  # Thursday of the second week
    response = _move(login(patient.user), third, clinic.practitioner, to)
    assert response.url == reverse("booking:appointment_detail", args=[third.pk])
    third.refresh_from_db()
    assert third.starts_at == to


def test_a_course_session_the_desk_put_on_a_neighbours_day_is_moved_by_phone(
    login, patient, clinic
):
    """The desk put sessions 1, 2 and 3 on one Tuesday (10:00, 14:00, 18:00): no day lies
    between session 2's neighbours, so the patient is told to phone rather than given dates."""
    first = next_weekday(clinic.location, 1, 10)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED] * 3,
        first_start=first,
        minutes=30,
        interval=dt.timedelta(hours=4),
    )
    second = course.appointments.get(session_number=2)
    client = login(patient.user)
    response = _move(client, second, clinic.practitioner, first + dt.timedelta(days=2))
    page = client.get(response.url).content.decode()
    assert "can be moved by the clinic only" in page and clinic.location.phone in page


def test_the_move_page_of_a_course_session_offers_only_the_days_between_its_neighbours(
    login, patient, clinic
):
    first = next_weekday(clinic.location, 1, 10)
    course = a_course(
        clinic, patient, statuses=[Status.CONFIRMED] * 3, first_start=first, minutes=30
    )
    second = course.appointments.get(session_number=2)
    html = (
        login(patient.user)
        .get(
            reverse("booking:appointment_reschedule", args=[second.pk]),
            {"practitioner": "anyone"},
        )
        .content.decode()
    )
    values = re.findall(r'name="slot" value="([^"]+)"', html)
    days = {
        dt.datetime.fromisoformat(v.split("|")[1]).astimezone(clinic.location.zone).date()
        for v in values
    }
    assert days, html
    assert all(first.date() < day < (first + dt.timedelta(days=14)).date() for day in days)


def test_the_move_page_shows_one_day_and_a_tapped_time_is_confirmed_before_moving(
    login, patient, clinic
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    thursday = next_weekday(clinic.location, 3, 9).date()
    url = reverse("booking:appointment_reschedule", args=[appointment.pk])
    client = login(patient.user)
    html = client.get(url, {"day": thursday.isoformat()}).content.decode()
    day = html[html.index("<fieldset") : html.index("</fieldset>")]
    values = re.findall(r'<button type="submit" name="slot" value="([^"]+)"', day)
    starts = [dt.datetime.fromisoformat(value.split("|")[1]) for value in values]
    assert starts and {s.astimezone(clinic.location.zone).date() for s in starts} == {thursday}
    assert f'action="{url}"' in html and f'name="version" value="{appointment.version}"' in html
    assert "Move to this time" not in html
    # The time's own button asks to confirm: nothing moves yet.
    ask = client.post(url, {"slot": values[1], "version": appointment.version})
    page = ask.content.decode()
    assert ask.status_code == 200 and "Move your appointment?" in page
    assert f'name="slot" value="{values[1]}"' in page and 'name="confirm" value="1"' in page
    appointment.refresh_from_db()
    assert appointment.starts_at != starts[1]
    response = client.post(url, {"slot": values[1], "version": appointment.version, "confirm": "1"})
    assert response.url == reverse("booking:appointment_detail", args=[appointment.pk])
    appointment.refresh_from_db()
    assert appointment.starts_at == starts[1]


@pytest.mark.parametrize(
    ("minutes_past", "taken", "said"),
    [
        (0, True, "busy"),  # just taken by another booking
        (7, False, "times offered"),  # 14:07: no time the page offered (a tampered form)
    ],
)
def test_a_refused_move_says_why_and_keeps_the_old_time(
    login, patient, clinic, minutes_past, taken, said
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    to = next_weekday(clinic.location, 3, 14) + dt.timedelta(minutes=minutes_past)
    if taken:
        a_booking(clinic, to)
    client = login(patient.user)
    response = _move(client, appointment, clinic.practitioner, to)
    assert said in client.get(response.url).content.decode()
    old = appointment.starts_at
    appointment.refresh_from_db()
    assert appointment.starts_at == old


def test_a_patient_cannot_see_or_cancel_another_patients_appointment(
    login, patient, other_patient, clinic
):
    theirs = an_appointment(clinic, other_patient, next_weekday(clinic.location, 1, 10))
    client = login(patient.user)
    assert client.get(reverse("booking:appointment_detail", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("booking:appointment_cancel", args=[theirs.pk]), {"reason": "x"}
        ).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == Status.CONFIRMED


def test_staff_of_the_location_see_the_appointment_and_its_history_others_do_not(
    login, patient, clinic, front_desk, front_desk_elsewhere
):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    services.change_status(
        appointment,
        to=Status.NO_SHOW,
        actor=front_desk,
        now=appointment.starts_at + dt.timedelta(minutes=30),
    )
    page = (
        login(front_desk)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    assert "History" in page and "no-show" in page
    assert (
        login(front_desk_elsewhere)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .status_code
        == 404
    )


def test_staff_cannot_use_the_patients_cancel_page(login, patient, clinic, front_desk):
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    assert (
        login(front_desk)
        .post(reverse("booking:appointment_cancel", args=[appointment.pk]), {"reason": "x"})
        .status_code
        == 403
    )
