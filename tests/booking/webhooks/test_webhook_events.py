"""Booking's changes and intake's submissions queue a delivery for each endpoint listening, in
the transaction of the change, carrying the event, time, reference and location only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from booking import services
from booking.models import Status
from booking.services import SessionChoice
from booking.webhooks import services as webhook_services
from booking.webhooks.models import Delivery, Event
from intake.questionnaire.services import submit_intake
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking, a_clinic
from tests.intake.factories import draft_with_answers

pytestmark = pytest.mark.django_db


def events_of(endpoint) -> list[str]:
    return list(endpoint.deliveries.order_by("id").values_list("event", flat=True))


def test_an_appointment_tells_each_step_of_its_life(
    clinic, patient, front_desk, an_endpoint, intake
):
    endpoint = an_endpoint()
    start = next_weekday(clinic.location, 1, 10)
    appointment = a_booking(clinic, start, patient=patient, status=Status.REQUESTED)
    services.confirm_request(appointment, actor=front_desk)
    later = start + dt.timedelta(hours=2)
    services.reschedule_appointment(appointment, starts_at=later, actor=front_desk)
    intake.ready(patient)
    during = later + dt.timedelta(minutes=10)
    services.change_status(appointment, to=Status.CHECKED_IN, actor=front_desk, now=during)
    services.change_status(appointment, to=Status.COMPLETED, actor=front_desk, now=during)
    assert events_of(endpoint) == [
        Event.APPOINTMENT_REQUESTED,
        Event.APPOINTMENT_CONFIRMED,
        Event.APPOINTMENT_MOVED,
        Event.APPOINTMENT_CHECKED_IN,
        Event.APPOINTMENT_COMPLETED,
    ]
    references = set(endpoint.deliveries.values_list("payload__data__reference", flat=True))
    assert references == {f"Appointment/{appointment.pk}"}


def test_a_no_show_and_a_cancellation_are_told(clinic, patient, front_desk, an_endpoint):
    endpoint = an_endpoint()
    first = a_booking(clinic, next_weekday(clinic.location, 1, 10), patient=patient)
    second = a_booking(clinic, next_weekday(clinic.location, 2, 10), patient=patient)
    services.change_status(
        first,
        to=Status.NO_SHOW,
        actor=front_desk,
        now=first.starts_at + dt.timedelta(minutes=20),
    )
    services.cancel_appointment(second, by="clinic", actor=front_desk, reason="Closed")
    assert events_of(endpoint) == [
        Event.APPOINTMENT_CONFIRMED,
        Event.APPOINTMENT_CONFIRMED,
        Event.APPOINTMENT_NO_SHOW,
        Event.APPOINTMENT_CANCELLED,
    ]


def test_a_course_booked_is_one_event_naming_its_first_session(
    clinic, patient, an_endpoint, prescribe
):
    endpoint = an_endpoint()
    prescribe(patient, clinic.practitioner, sessions=4, minutes=30)
    times = services.proposed_dates(
        first=next_weekday(clinic.location, 1, 10),
        zone=clinic.location.zone,
        sessions=4,
        interval_days=7,
    )
    choices = [
        SessionChoice(n + 1, clinic.location, clinic.practitioner, t) for n, t in enumerate(times)
    ]
    course = services.book_course(patient=patient, choices=choices, actor=clinic.practitioner.user)
    first = course.appointments.get(session_number=1)
    (delivery,) = endpoint.deliveries.all()
    assert delivery.event == Event.COURSE_BOOKED
    assert delivery.payload["data"] == {
        "reference": f"Appointment/{first.pk}",
        "location": f"Location/{clinic.location.pk}",
    }


def test_a_submitted_questionnaire_is_told_through_intakes_hook(
    location, patient, front_desk, an_endpoint
):
    endpoint = an_endpoint()
    draft = draft_with_answers(patient, preferred_location=location)
    submitted = submit_intake(
        intake=draft, by=front_desk, seen_revision=draft.revision, read_back_to_patient=True
    )
    (delivery,) = endpoint.deliveries.all()
    assert delivery.event == Event.QUESTIONNAIRE_SUBMITTED
    assert delivery.payload["data"] == {
        "reference": f"QuestionnaireResponse/{submitted.pk}",
        "location": f"Location/{location.pk}",
    }


def test_a_rolled_back_change_queues_nothing(clinic, patient, an_endpoint):
    an_endpoint()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        a_booking(clinic, next_weekday(clinic.location, 1, 10), patient=patient)
        assert Delivery.objects.count() == 1  # written with the booking...
        raise Undo
    assert Delivery.objects.count() == 0  # ...and gone with it


def test_the_payload_carries_no_health_information(clinic, patient, an_endpoint):
    endpoint = an_endpoint()
    appointment = a_booking(
        clinic, next_weekday(clinic.location, 1, 10), patient=patient, reason="Heel pain 8/10"
    )
    (delivery,) = endpoint.deliveries.all()
    assert delivery.payload == {
        "type": "appointment.confirmed",
        "timestamp": delivery.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "reference": f"Appointment/{appointment.pk}",
            "location": f"Location/{clinic.location.pk}",
        },
    }
    text = str(delivery.payload)
    for personal in (
        patient.first_name,
        patient.last_name,
        patient.email,
        "Heel",
        clinic.practitioner.user.last_name,
        appointment.starts_at.isoformat()[:16],
    ):
        assert personal not in text


def test_only_endpoints_listening_to_the_event_and_location_are_told(
    clinic, patient, other_location, an_endpoint
):
    everywhere = an_endpoint(name="Everywhere")
    here = an_endpoint(name="Here", locations=[clinic.location])
    elsewhere = an_endpoint(name="Elsewhere", locations=[other_location])
    cancellations = an_endpoint(name="Cancellations", events=[Event.APPOINTMENT_CANCELLED])
    disabled = an_endpoint(name="Disabled")
    webhook_services.disable_endpoint(disabled, by=everywhere.created_by, now=timezone.now())
    a_booking(clinic, next_weekday(clinic.location, 1, 10), patient=patient)
    told = set(Delivery.objects.values_list("endpoint__name", flat=True))
    assert told == {everywhere.name, here.name}
    assert not elsewhere.deliveries.exists() and not cancellations.deliveries.exists()


def test_a_move_to_another_location_is_told_at_both(
    clinic, patient, front_desk, other_location, an_endpoint
):
    # A receiver listening at the location the appointment left would otherwise keep it on
    # its books: it is told of the move, with the location it left.
    left = an_endpoint(name="Left", locations=[clinic.location])
    arrived = an_endpoint(name="Arrived", locations=[other_location])
    elsewhere = a_clinic(location=other_location, rooms=1)
    appointment = a_booking(clinic, next_weekday(clinic.location, 1, 10), patient=patient)
    Delivery.objects.all().delete()
    services.reschedule_appointment(
        appointment,
        starts_at=next_weekday(other_location, 3, 14),
        actor=front_desk,
        location=other_location,
        practitioner=elsewhere.practitioner,
    )
    moved = Delivery.objects.filter(event=Event.APPOINTMENT_MOVED)
    assert sorted(moved.values_list("endpoint__name", flat=True)) == [arrived.name, left.name]
    assert {tuple(sorted(d.payload["data"].items())) for d in moved} == {
        (
            ("location", f"Location/{other_location.pk}"),
            ("previous_location", f"Location/{clinic.location.pk}"),
            ("reference", f"Appointment/{appointment.pk}"),
        )
    }


def test_a_move_within_a_location_names_no_previous_one(clinic, patient, front_desk, an_endpoint):
    an_endpoint(name="Here", locations=[clinic.location])
    appointment = a_booking(clinic, next_weekday(clinic.location, 1, 10), patient=patient)
    services.reschedule_appointment(
        appointment, starts_at=next_weekday(clinic.location, 2, 10), actor=front_desk
    )
    moved = Delivery.objects.get(event=Event.APPOINTMENT_MOVED)
    assert "previous_location" not in moved.payload["data"]
