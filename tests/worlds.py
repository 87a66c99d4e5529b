"""Worlds built once: the personas of `tests/conftest.py`, and a way to keep rows for every
test of a module (or of the session) instead of writing them again for each test.

    @pytest.fixture(scope="module")
    def world(django_db_setup, django_db_blocker):
        with built_once(django_db_blocker):
            yield personas()

Each test still runs in its own transaction, nested inside the world's, so what a test writes
is rolled back before the next one and the world itself is rolled back at the end of its scope.
Tests then read fresh copies of the world's objects (`fresh(obj)`), never the shared instances.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

from django.db import transaction

from clinic.models import Role
from tests.factories import LocationFactory, PatientFactory, UserFactory, certified_practitioner


@contextlib.contextmanager
def built_once(django_db_blocker):
    """Rows written inside stay for the fixture's scope, then are rolled back."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def fresh(obj):
    """The same row, read again: a test never shares an instance with another test."""
    return type(obj)._default_manager.get(pk=obj.pk)


# The personas, as the conftest fixtures of the same names make them.


def leaside():
    return LocationFactory(name="Leaside", slug="leaside", time_zone="America/Toronto")


def rockville():
    return LocationFactory(
        name="Rockville",
        slug="rockville",
        city="Rockville",
        region="Maryland",
        postal_code="20852",
        time_zone="America/New_York",
    )


def jordan(location):
    return PatientFactory(user__first_name="Jordan", user__last_name="Miles", locations=[location])


def casey(other_location):
    return PatientFactory(
        user__first_name="Casey", user__last_name="Other", locations=[other_location]
    )


def ava(location):
    return UserFactory(role=Role.FRONT_DESK, first_name="Ava", locations=[location])


def keisha(other_location):
    return UserFactory(role=Role.FRONT_DESK, first_name="Keisha", locations=[other_location])


def helen():
    return UserFactory(role=Role.MANAGER, first_name="Helen")


def personas() -> SimpleNamespace:
    """Every persona at once, named as the fixtures are."""
    location, other_location = leaside(), rockville()
    return SimpleNamespace(
        location=location,
        other_location=other_location,
        patient=jordan(location),
        other_patient=casey(other_location),
        front_desk=ava(location),
        front_desk_elsewhere=keisha(other_location),
        practitioner=certified_practitioner(locations=[location]),
        manager=helen(),
    )
