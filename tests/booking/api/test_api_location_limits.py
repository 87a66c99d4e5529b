"""A client sees only its locations: another location's patient, appointment, questionnaire,
practitioner or location is a 404 by id (the same answer as an id that does not exist) and
absent from searches; it cannot book or cancel there either."""

from __future__ import annotations

import pytest

from booking import services
from booking.models import Appointment, Status
from tests.booking.api.conftest import CANCELLING, EVERYTHING_BUT_CLINICAL, booking_of_a_slot
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_clinic, an_appointment
from tests.factories import certified_practitioner
from tests.intake.factories import submitted_intake


@pytest.fixture
def elsewhere(other_location):
    return a_clinic(
        location=other_location, practitioner=certified_practitioner(locations=[other_location])
    )


@pytest.fixture
def leaside_client(api_client_for, clinic):
    return api_client_for(
        scopes=EVERYTHING_BUT_CLINICAL + " system/QuestionnaireResponse.read",
        locations=[clinic.location],
    )


def test_another_locations_patient_is_a_404_by_id(leaside_client, other_patient, patient):
    assert leaside_client.get(f"/fhir/Patient/{patient.pk}").status_code == 200
    response = leaside_client.get(f"/fhir/Patient/{other_patient.pk}")
    assert response.status_code == 404
    never = leaside_client.get("/fhir/Patient/987654")
    assert response.fhir["issue"][0]["code"] == never.fhir["issue"][0]["code"] == "not-found"


def test_another_locations_records_are_404s_and_missing_from_searches(
    leaside_client, elsewhere, other_patient
):
    appointment = an_appointment(elsewhere, other_patient, next_weekday(elsewhere.location, 1, 10))
    intake = submitted_intake(other_patient)
    for path in (
        f"/fhir/Appointment/{appointment.pk}",
        f"/fhir/QuestionnaireResponse/{intake.pk}",
        f"/fhir/Location/{elsewhere.location.pk}",
        f"/fhir/Practitioner/{elsewhere.practitioner.pk}",
        f"/fhir/Schedule/{elsewhere.practitioner.pk}-{elsewhere.location.pk}",
    ):
        assert leaside_client.get(path).status_code == 404, path
    for path in (
        "/fhir/Appointment",
        f"/fhir/Appointment?patient=Patient/{other_patient.pk}",
        "/fhir/QuestionnaireResponse",
        "/fhir/Patient",
        f"/fhir/Slot?location=Location/{elsewhere.location.pk}&_count=1",
    ):
        bundle = leaside_client.get(path).fhir
        refs = str(bundle)
        assert f"Patient/{other_patient.pk}'" not in refs, path
        assert f"Location/{elsewhere.location.pk}'" not in refs, path
    assert (
        leaside_client.get(f"/fhir/Slot?location=Location/{elsewhere.location.pk}").fhir["total"]
        == 0
    )


def test_it_cannot_cancel_or_book_at_another_location(leaside_client, elsewhere, other_patient):
    appointment = an_appointment(elsewhere, other_patient, next_weekday(elsewhere.location, 1, 10))
    response = leaside_client.call("PATCH", f"/fhir/Appointment/{appointment.pk}", CANCELLING)
    assert response.status_code == 404
    assert Appointment.objects.get(pk=appointment.pk).status == Status.CONFIRMED
    ten = next_weekday(elsewhere.location, 3, 10)
    booking = booking_of_a_slot(elsewhere, elsewhere.assessment, 60, ten, other_patient)
    response = leaside_client.post("/fhir/Appointment/$book", booking)
    assert response.status_code == 404
    assert not Appointment.objects.filter(patient=other_patient).exclude(pk=appointment.pk).exists()


def test_a_client_of_both_locations_sees_both(
    api_client_for, clinic, elsewhere, patient, other_patient
):
    both = api_client_for(locations=[clinic.location, elsewhere.location])
    assert both.get(f"/fhir/Patient/{other_patient.pk}").status_code == 200
    assert both.get("/fhir/Location").fhir["total"] == 2


def test_booking_a_hold_again_after_the_clinic_moved_it_elsewhere_shows_nothing_of_it(
    leaside_client, clinic, elsewhere, patient, manager
):
    """`$book` of a hold already booked answers with its appointment (a retry is safe); once
    the clinic has moved that appointment to a location the client may not see, the answer
    is the same 404 as reading it."""
    ten = next_weekday(clinic.location, 3, 10)
    held = leaside_client.post(
        "/fhir/Appointment/$hold", booking_of_a_slot(clinic, clinic.assessment, 60, ten, patient)
    )
    by_hold = {"resourceType": "Appointment", "identifier": held.fhir["identifier"]}
    booked = leaside_client.post("/fhir/Appointment/$book", by_hold)
    assert booked.status_code == 201
    assert leaside_client.post("/fhir/Appointment/$book", by_hold).fhir["id"] == booked.fhir["id"]
    appointment = Appointment.objects.get(pk=booked.fhir["id"])
    services.reschedule_appointment(
        appointment,
        starts_at=next_weekday(elsewhere.location, 4, 10),
        location=elsewhere.location,
        practitioner=elsewhere.practitioner,
        actor=manager,
    )
    assert leaside_client.get(f"/fhir/Appointment/{appointment.pk}").status_code == 404
    again = leaside_client.post("/fhir/Appointment/$book", by_hold)
    assert again.status_code == 404
    assert elsewhere.location.name not in again.content.decode()
