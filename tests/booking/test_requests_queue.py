"""The requests queue: online requests waiting for the clinic, oldest first, at the staff
member's own locations; confirmed, answered with another time, or declined with a reason the
patient reads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.forms import slot_choice_value
from booking.models import AppointmentEvent, Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_clinic, an_appointment
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _request(clinic, patient, start, *, age_hours=1, note=""):
    appointment = an_appointment(clinic, patient, start, status=Status.REQUESTED, patient_note=note)
    appointment.created_at = start - dt.timedelta(days=3, hours=age_hours)
    appointment.save(update_fields=["created_at"])
    return appointment


def test_requests_wait_oldest_first_at_my_locations_only(
    login, front_desk, clinic, other_location, intake
):
    newer = _request(
        clinic, PatientFactory(last_name="Newer"), next_weekday(clinic.location, 1, 10), age_hours=1
    )
    older = _request(
        clinic,
        PatientFactory(last_name="Older"),
        next_weekday(clinic.location, 2, 10),
        age_hours=30,
        note="My heel hurts most in the morning",
    )
    elsewhere = a_clinic(location=other_location)
    _request(elsewhere, PatientFactory(last_name="Elsewhere"), next_weekday(other_location, 1, 10))
    html = login(front_desk).get(reverse("booking:requests_queue")).content.decode()
    assert html.index(older.patient.full_name) < html.index(newer.patient.full_name)
    assert "Elsewhere" not in html
    assert "My heel hurts most in the morning" in html
    assert "Waiting for confirmation, oldest first (2)" in html


def test_the_queue_shows_the_badges(login, front_desk, clinic, intake):
    patient = PatientFactory()
    intake.record(patient, flagged_for_review=True, flag_reasons=("Anticoagulants",))
    _request(clinic, patient, next_weekday(clinic.location, 1, 10))
    html = login(front_desk).get(reverse("booking:requests_queue")).content.decode()
    assert "Intake missing" in html and "Flagged for review" in html and "First visit" in html
    assert "Anticoagulants" not in html  # screening answers stay on the appointment's page


def test_confirming_a_request_is_recorded_and_returns_to_the_queue(
    login, front_desk, clinic, intake
):
    request = _request(clinic, PatientFactory(), next_weekday(clinic.location, 1, 10))
    queue = reverse("booking:requests_queue")
    response = login(front_desk).post(
        reverse("booking:desk_confirm", args=[request.pk]),
        {"version": request.version, "next": queue},
    )
    assert response.url == queue
    request.refresh_from_db()
    assert request.status == Status.CONFIRMED
    event = request.events.get()
    assert (event.to_status, event.actor, event.reason) == (
        "confirmed",
        front_desk,
        "Confirmed by the clinic",
    )


def test_a_decline_needs_a_reason(login, front_desk, clinic):
    request = _request(clinic, PatientFactory(), next_weekday(clinic.location, 1, 10))
    response = login(front_desk).post(
        reverse("booking:desk_decline", args=[request.pk]), {"version": request.version}
    )
    assert "Write the reason the patient will read." in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


def test_a_declined_request_tells_the_patient_why(login, client, front_desk, clinic, patient):
    request = _request(clinic, patient, next_weekday(clinic.location, 1, 10))
    login(front_desk).post(
        reverse("booking:desk_decline", args=[request.pk]),
        {"version": request.version, "reason": "Dr Raman is away that week; please call us."},
    )
    request.refresh_from_db()
    assert (request.status, request.cancelled_by) == ("cancelled", "clinic")
    event = request.events.get()
    assert event.details == {"by": "clinic", "declined": True}
    client.force_login(patient.user)
    page = client.get(reverse("booking:appointment_detail", args=[request.pk])).content.decode()
    assert "The clinic could not keep this appointment." in page
    assert "Dr Raman is away that week; please call us." in page


def test_a_request_confirmed_meanwhile_is_not_declined(clinic, front_desk):
    request = _request(clinic, PatientFactory(), next_weekday(clinic.location, 1, 10))
    services.confirm_request(request, actor=front_desk)
    with pytest.raises(
        services.TransitionRefused,
        match="Only a requested appointment can be declined; this one is confirmed",
    ):
        services.decline_request(request, actor=front_desk, reason="Full")


def test_another_time_is_proposed_and_the_patient_accepts_it(
    login, client, front_desk, clinic, patient, intake
):
    request = _request(clinic, patient, next_weekday(clinic.location, 1, 10))
    other_time = next_weekday(clinic.location, 3, 15)
    staff = login(front_desk)
    page = staff.get(
        reverse("booking:desk_propose", args=[request.pk]),
        {"date": other_time.astimezone(clinic.location.zone).date().isoformat()},
    ).content.decode()
    assert slot_choice_value(clinic.practitioner.pk, other_time) in page
    staff.post(
        reverse("booking:desk_propose", args=[request.pk]),
        {
            "version": request.version,
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, other_time),
            "message": "Tuesday is full; would Thursday afternoon suit?",
        },
    )
    request.refresh_from_db()
    assert (request.status, request.starts_at, request.proposed_by_clinic) == (
        Status.REQUESTED,
        other_time,
        True,
    )
    queue = staff.get(reverse("booking:requests_queue")).content.decode()
    assert "waiting for the patient (1)" in queue and "oldest first (0)" in queue

    client.force_login(patient.user)
    detail = reverse("booking:appointment_detail", args=[request.pk])
    page = client.get(detail).content.decode()
    assert "The clinic proposes this time instead" in page
    assert "Tuesday is full; would Thursday afternoon suit?" in page
    client.post(reverse("booking:proposal_accept", args=[request.pk]), {"version": request.version})
    request.refresh_from_db()
    assert (request.status, request.proposed_by_clinic) == (Status.CONFIRMED, False)
    kinds = list(request.events.values_list("kind", "to_status", "actor"))
    assert kinds == [
        (AppointmentEvent.Kind.MOVED, "", front_desk.pk),
        (AppointmentEvent.Kind.STATUS, "confirmed", patient.user.pk),
    ]


def test_a_proposal_needs_a_message(login, front_desk, clinic):
    request = _request(clinic, PatientFactory(), next_weekday(clinic.location, 1, 10))
    other_time = next_weekday(clinic.location, 3, 15)
    response = login(front_desk).post(
        reverse("booking:desk_propose", args=[request.pk]),
        {
            "version": request.version,
            "location": clinic.location.slug,
            "slot": slot_choice_value(clinic.practitioner.pk, other_time),
            "message": "",
        },
    )
    assert "Write a short message for the patient." in messages_said(response)
    request.refresh_from_db()
    assert request.starts_at != other_time


def test_only_a_time_the_clinic_proposed_can_be_accepted(client, clinic, patient):
    request = _request(clinic, patient, next_weekday(clinic.location, 1, 10))
    client.force_login(patient.user)
    response = client.post(
        reverse("booking:proposal_accept", args=[request.pk]),
        {"version": request.version},
        follow=True,
    )
    assert "There is no proposed time waiting for your answer." in messages_said(response)
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


def test_a_request_whose_time_has_passed_is_not_confirmed(login, front_desk, clinic, intake):
    # Confirming would email the patient a promise of a time already gone: the desk declines
    # it or proposes another time, and the pages offer only those.
    passed = _request(clinic, PatientFactory(), timezone.now() - dt.timedelta(hours=2))
    staff = login(front_desk)
    queue = staff.get(reverse("booking:requests_queue")).content.decode()
    assert "This time has passed: decline it or propose another time." in queue
    assert reverse("booking:desk_confirm", args=[passed.pk]) not in queue
    page = staff.get(reverse("booking:appointment_detail", args=[passed.pk])).content.decode()
    assert reverse("booking:desk_confirm", args=[passed.pk]) not in page
    assert reverse("booking:desk_decline", args=[passed.pk]) in page
    response = staff.post(
        reverse("booking:desk_confirm", args=[passed.pk]),
        {"version": passed.version},
        follow=True,
    )
    assert "This request's time has passed: decline it, or propose another time." in (
        messages_said(response)
    )
    passed.refresh_from_db()
    assert passed.status == Status.REQUESTED
    assert not passed.events.exists()
