"""Shared personas: the people every feature's tests talk about.

- `location` and `other_location`: two clinics, each with its own staff;
- `patient` (a logged-in patient's record) and `other_patient`;
- `front_desk` (works at `location`) and `front_desk_elsewhere` (works at `other_location`);
- `practitioner` (certified, works at `location`) and `manager`.
Log in with `client.force_login(persona.user)` or the `login` helper.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import STAFF_ROLES, Role
from tests.factories import (
    LocationFactory,
    PatientFactory,
    UserFactory,
    certified_practitioner,
)


class VerifiedClient(Client):
    """A test client whose `force_login` also gives the second factor for staff, as a real
    login would after the authenticator code. Tests of two-step login itself use a plain
    `django.test.Client`."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if user.role in STAFF_ROLES or user.is_superuser:
            device = TOTPDevice.objects.filter(
                user=user, confirmed=True
            ).first() or TOTPDevice.objects.create(
                user=user, name="Authenticator app", confirmed=True
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


@pytest.fixture
def client():
    return VerifiedClient()


@pytest.fixture
def location(db):
    return LocationFactory(name="Leaside", slug="leaside", time_zone="America/Toronto")


@pytest.fixture
def other_location(db):
    return LocationFactory(
        name="Rockville",
        slug="rockville",
        city="Rockville",
        region="Maryland",
        postal_code="20852",
        time_zone="America/New_York",
    )


@pytest.fixture
def patient(location):
    return PatientFactory(user__first_name="Jordan", user__last_name="Miles", locations=[location])


@pytest.fixture
def other_patient(other_location):
    return PatientFactory(
        user__first_name="Casey", user__last_name="Other", locations=[other_location]
    )


@pytest.fixture
def front_desk(location):
    return UserFactory(role=Role.FRONT_DESK, first_name="Ava", locations=[location])


@pytest.fixture
def front_desk_elsewhere(other_location):
    return UserFactory(role=Role.FRONT_DESK, first_name="Keisha", locations=[other_location])


@pytest.fixture
def practitioner(location):
    return certified_practitioner(locations=[location])


@pytest.fixture
def manager(db):
    return UserFactory(role=Role.MANAGER, first_name="Helen")


@pytest.fixture
def login(client):
    """`login(user)` logs the test client in as `user` and returns the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
