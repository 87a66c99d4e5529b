"""Repeated wrong passwords lock the account and the address for a while, with a clear page."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_fifty_wrong_passwords_lock_the_account_and_never_error(patient):
    client = Client()
    statuses = [
        client.post(
            reverse("login"), {"username": patient.user.email, "password": f"guess-{n}"}
        ).status_code
        for n in range(50)
    ]
    assert set(statuses) <= {200, 429}
    assert statuses[:4] == [200] * 4
    assert statuses[-1] == 429
    locked = client.post(reverse("login"), {"username": patient.user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assert AccessAttempt.objects.filter(username=patient.user.email).exists()  # the log entry


def test_changing_the_case_of_the_email_does_not_earn_more_guesses(patient):
    client = Client()
    for n in range(5):
        email = patient.user.email.upper() if n % 2 else patient.user.email
        client.post(reverse("login"), {"username": email, "password": "nope"})
    assert (
        client.post(
            reverse("login"), {"username": patient.user.email, "password": PASSWORD}
        ).status_code
        == 429
    )


def test_the_address_is_locked_too(patient, other_patient):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(5):
        client.post(reverse("login"), {"username": f"nobody{n}@example.org", "password": "nope"})
    response = client.post(
        reverse("login"), {"username": other_patient.user.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    # Another address is not affected.
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert (
        elsewhere.post(
            reverse("login"), {"username": other_patient.user.email, "password": PASSWORD}
        ).status_code
        == 302
    )


def test_a_good_password_resets_the_count(patient):
    client = Client()
    for _ in range(3):
        client.post(reverse("login"), {"username": patient.user.email, "password": "nope"})
    assert (
        client.post(
            reverse("login"), {"username": patient.user.email, "password": PASSWORD}
        ).status_code
        == 302
    )
    assert not AccessAttempt.objects.filter(
        username=patient.user.email, failures_since_start__gt=0
    ).exists()


def test_the_lock_lifts_after_the_cool_off(patient, settings):
    import datetime as dt

    from django.utils import timezone

    client = Client()
    for _ in range(5):
        client.post(reverse("login"), {"username": patient.user.email, "password": "nope"})
    good = {"username": patient.user.email, "password": PASSWORD}
    assert client.post(reverse("login"), good).status_code == 429
    # The failures are as old as the cool-off period: the account opens again.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1)
    )
    assert client.post(reverse("login"), good).status_code == 302
