"""Hostile input in every free-text field and search box: stored as typed, shown back escaped,
never run as SQL, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from booking.forms import slot_choice_value
from booking.models import Appointment
from clinic.models import Patient
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking
from tests.factories import PASSWORD, confirm_sign_up

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
CORPUS = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE clinic_patient; --",
    "' OR '1'='1",
    "{{ 7|add:7 }} {% now 'Y' %}",
    "Robert'); DELETE FROM booking_appointment;--",
]


def _escaped(html: str, payload: str) -> bool:
    return "<script>alert" not in html and "<img src=x" not in html


@pytest.mark.parametrize("payload", CORPUS)
def test_names_at_sign_up_are_stored_as_typed_and_shown_escaped(payload):
    client = Client()
    response = client.post(
        reverse("clinic:signup"),
        {
            "first_name": payload[:100],
            "last_name": "Doe",
            "email": "doe@example.org",
            "date_of_birth": "1980-01-01",
            "phone": "416-555-0100",
            "password1": "plantar-heel-2026",
            "password2": "plantar-heel-2026",
        },
    )
    assert response.status_code == 200
    response = confirm_sign_up(client, "plantar-heel-2026")
    assert response.status_code == 200
    assert Patient.objects.get(last_name="Doe").first_name == payload[:100]
    assert _escaped(response.content.decode(), payload)
    assert Patient.objects.count() == 1  # nothing dropped, nothing deleted


@pytest.mark.parametrize("payload", CORPUS)
def test_a_request_note_reaches_the_front_desk_escaped(login, patient, clinic, front_desk, payload):
    client = login(patient.user)
    start = next_weekday(clinic.location, 2, 10)
    client.post(
        reverse("booking:request_hold", args=[clinic.location.slug]),
        {"slot": slot_choice_value(clinic.practitioner.pk, start)},
    )
    hold = patient.holds.get()
    client.post(reverse("booking:request_confirm", args=[hold.pk]), {"note": payload})
    appointment = Appointment.objects.get()
    assert appointment.patient_note == payload
    html = (
        login(front_desk)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    assert _escaped(html, payload)
    assert "&lt;script&gt;" in html or "script" not in payload


@pytest.mark.parametrize("payload", CORPUS)
def test_a_cancellation_reason_is_shown_escaped(login, patient, clinic, payload):
    appointment = a_booking(clinic, next_weekday(clinic.location, 1, 10), patient=patient)
    client = login(patient.user)
    client.post(reverse("booking:appointment_cancel", args=[appointment.pk]), {"reason": payload})
    appointment.refresh_from_db()
    assert appointment.cancellation_reason == payload[:300]
    html = client.get(reverse("booking:appointment_detail", args=[appointment.pk])).content.decode()
    assert _escaped(html, payload)


@pytest.mark.parametrize("payload", CORPUS)
def test_search_boxes_take_anything(login, patient, manager, location, payload):
    assert _escaped(
        login(patient.user)
        .get(reverse("booking:request_start"), {"near": payload})
        .content.decode(),
        payload,
    )
    response = login(manager).get(reverse("clinic:access_log"), {"patient": payload})
    assert response.status_code == 200 and _escaped(response.content.decode(), payload)


@pytest.mark.parametrize("field", ["emergency_contact_name", "phone"])
def test_a_nul_character_is_refused_with_a_message_not_an_error(login, patient, field):
    data = {"phone": "416-555-0100", "emergency_contact_name": "Sam"} | {field: "Sam\x00Miles"}
    response = login(patient.user).post(reverse("clinic:patient_details"), data)
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()


def test_a_post_without_the_csrf_token_is_refused(patient):
    client = Client(enforce_csrf_checks=True)
    client.post(reverse("login"), {"username": patient.user.email, "password": PASSWORD})
    # The login page itself needs the token too.
    assert (
        client.post(
            reverse("login"), {"username": patient.user.email, "password": PASSWORD}
        ).status_code
        == 403
    )
    client.force_login(patient.user)
    response = client.post(reverse("clinic:patient_details"), {"phone": "416-555-0111"})
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.phone != "416-555-0111"


# --- The front desk's pages: the schedule grid is rendered in Python, so it is checked here ---


@pytest.mark.parametrize("payload", CORPUS)
def test_a_hostile_name_is_escaped_on_every_schedule_page(login, clinic, front_desk, payload):
    patient = Patient.objects.create(
        first_name=payload[:100], last_name="Doe", date_of_birth="1980-01-01", phone="416-555-0100"
    )
    patient.locations.add(clinic.location)
    start = next_weekday(clinic.location, 1, 10)
    appointment = a_booking(clinic, start, patient=patient, actor=front_desk)
    client = login(front_desk)
    day = {"date": appointment.local_starts_at.date().isoformat()}
    slug = clinic.location.slug
    for url, query in [
        (reverse("booking:location_day", args=[slug]), day),
        (reverse("booking:location_day", args=[slug]), day | {"by": "rooms"}),
        (reverse("booking:location_day_list", args=[slug]), day),
        (reverse("booking:location_week", args=[slug]), {"from": day["date"]}),
        (reverse("booking:practitioner_day", args=[clinic.practitioner.pk]), day),
        (
            reverse("booking:practitioner_week", args=[clinic.practitioner.pk]),
            {"from": day["date"]},
        ),
    ]:
        response = client.get(url, query)
        assert response.status_code == 200, url
        assert _escaped(response.content.decode(), payload), url
    found = client.post(reverse("booking:find_patient", args=[slug]), {"q": "doe"})
    assert found.status_code == 200 and _escaped(found.content.decode(), payload)


@pytest.mark.parametrize("payload", CORPUS)
def test_the_desk_search_and_reasons_take_anything(login, clinic, front_desk, payload):
    client = login(front_desk)
    slug = clinic.location.slug
    found = client.post(reverse("booking:find_patient", args=[slug]), {"q": payload})
    assert found.status_code == 200 and _escaped(found.content.decode(), payload)
    new = client.post(
        reverse("booking:new_patient", args=[slug]), {"q": payload, "from_search": "1"}
    )
    assert new.status_code == 200 and _escaped(new.content.decode(), payload)
    request = a_booking(
        clinic,
        next_weekday(clinic.location, 2, 10),
        patient=Patient.objects.create(
            first_name="Ann", last_name="Lee", date_of_birth="1980-01-01", phone="416-555-0100"
        ),
        actor=front_desk,
        status="requested",
    )
    client.post(
        reverse("booking:desk_decline", args=[request.pk]),
        {"version": request.version, "reason": payload},
    )
    request.refresh_from_db()
    assert request.cancellation_reason == payload[:300]
    html = client.get(reverse("booking:appointment_detail", args=[request.pk])).content.decode()
    assert _escaped(html, payload)
