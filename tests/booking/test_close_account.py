"""A patient closes their account: the login goes, the clinical record stays."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment, Status
from clinic.models import AccessLog, Patient, User
from tests.booking.factories import an_appointment
from tests.factories import PASSWORD
from tests.intake.factories import signed_assessment, submitted_intake

pytestmark = pytest.mark.django_db


def test_closing_removes_the_login_and_keeps_the_clinical_record(login, patient, clinic):
    submitted_intake(patient)
    signed_assessment(patient, clinic.practitioner)
    past_start = timezone.now() - dt.timedelta(days=10)
    an_appointment(clinic, patient, past_start, status=Status.COMPLETED)
    future_start = timezone.now() + dt.timedelta(days=10)
    future = an_appointment(clinic, patient, future_start, room=clinic.rooms[1])
    user = patient.user
    client = login(user)
    wrong = client.post(reverse("booking:close_account"), {"password": "nope"})
    assert "That is not your password" in wrong.content.decode()

    response = client.post(reverse("booking:close_account"), {"password": PASSWORD})
    assert response.url == reverse("clinic:welcome")

    user.refresh_from_db()
    patient.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    assert user.email.endswith("@accounts.invalid")
    assert patient.user is None  # the record stays, without a login
    assert (patient.first_name, patient.date_of_birth) != ("", None)
    assert patient.intakes.count() == 1
    future.refresh_from_db()
    assert (future.status, future.cancelled_by) == (Status.CANCELLED, "patient")
    assert Appointment.objects.filter(patient=patient, status=Status.COMPLETED).count() == 1
    assert AccessLog.objects.filter(patient=patient, action="delete").exists()
    # The old session and the old password no longer open anything.
    assert client.get(reverse("clinic:patient_home")).status_code == 302
    assert (
        Client().post(reverse("login"), {"username": "jordan", "password": PASSWORD}).status_code
        == 200
    )
    # The email is free for a new account.
    assert not User.objects.filter(email=patient.email).exists()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_staff_cannot_close_a_patients_account_through_this_page(login, front_desk):
    assert (
        login(front_desk).post(reverse("booking:close_account"), {"password": PASSWORD}).status_code
        == 403
    )
