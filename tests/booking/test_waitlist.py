"""The waitlist: a freed slot goes to the first matching patient, held until a deadline,
then to the next."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import Appointment, Status, WaitlistEntry, WaitlistOffer
from tests.booking.conftest import next_weekday
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(clinic):
    return services.book_appointment(
        patient=PatientFactory(),
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.assessment,
        starts_at=next_weekday(clinic.location, 1, 10),
        minutes=60,
        actor=clinic.practitioner.user,
    )


def _wait(
    patient, clinic, weekdays=(0, 1, 2, 3, 4), earliest=dt.time(8), latest=dt.time(18), **fields
):
    return services.join_waitlist(
        patient=patient,
        location=clinic.location,
        service=clinic.assessment,
        minutes=60,
        weekdays=list(weekdays),
        earliest_time=earliest,
        latest_time=latest,
        actor=patient.user or clinic.practitioner.user,
        **fields,
    )


def test_a_freed_slot_is_offered_to_the_first_matching_patient(
    clinic, booked, patient, other_patient
):
    _wait(PatientFactory(), clinic, weekdays=[4])  # Fridays only: does not match a Tuesday
    first = _wait(patient, clinic)
    _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert offer.entry == first
    assert offer.hold.starts_at == booked.starts_at
    assert offer.expires_at <= booked.starts_at - dt.timedelta(hours=1)


def test_the_offer_holds_the_slot_from_others(login, clinic, booked, patient, other_patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    with pytest.raises(services.SlotUnavailable):
        services.place_hold(
            patient=other_patient,
            location=clinic.location,
            practitioner=clinic.practitioner,
            service=clinic.assessment,
            starts_at=booked.starts_at,
            minutes=60,
        )


def test_accepting_books_the_slot(login, clinic, booked, patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    response = login(patient.user).post(reverse("booking:offer_accept", args=[offer.pk]))
    appointment = Appointment.objects.get(patient=patient)
    assert response.url == reverse("booking:appointment_detail", args=[appointment.pk])
    assert appointment.status == Status.CONFIRMED and appointment.starts_at == booked.starts_at
    assert WaitlistEntry.objects.get(patient=patient).state == "booked"


def test_declining_passes_the_slot_to_the_next_patient(
    login, clinic, booked, patient, other_patient
):
    _wait(patient, clinic)
    second = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    login(patient.user).post(
        reverse("booking:offer_decline", args=[WaitlistOffer.objects.get().pk])
    )
    open_offer = WaitlistOffer.objects.get(state="open")
    assert open_offer.entry == second
    # The first patient keeps their place for other times.
    assert WaitlistEntry.objects.get(patient=patient).state == "waiting"


def test_an_unanswered_offer_expires_and_passes_on(clinic, booked, patient, other_patient):
    _wait(patient, clinic)
    second = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert services.expire_offers(now=offer.expires_at + dt.timedelta(seconds=1)) == 1
    offer.refresh_from_db()
    assert offer.state == "expired"
    assert WaitlistOffer.objects.get(state="open").entry == second


def test_offers_show_on_the_patients_page(login, clinic, booked, patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    html = login(patient.user).get(reverse("booking:my_appointments")).content.decode()
    assert "Earlier times offered to you" in html and "Take this time" in html


def test_a_patient_joins_the_waitlist_from_the_page(login, clinic, patient):
    client = login(patient.user)
    url = reverse("booking:waitlist_join", args=[clinic.location.slug])
    bad = client.post(url, {"weekdays": [], "earliest_time": "17:00", "latest_time": "09:00"})
    assert "Choose at least one day" in bad.content.decode()
    assert "must be after the start" in bad.content.decode()
    client.post(url, {"weekdays": [1, 3], "earliest_time": "09:00", "latest_time": "12:00"})
    entry = WaitlistEntry.objects.get()
    assert (entry.weekdays, entry.patient) == ([1, 3], patient)


def test_a_patient_cannot_accept_someone_elses_offer(login, clinic, booked, patient, other_patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert (
        login(other_patient.user).post(reverse("booking:offer_accept", args=[offer.pk])).status_code
        == 404
    )
    assert timezone.now() < offer.expires_at
