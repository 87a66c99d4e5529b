"""Migrating holds placed before holds named who placed them (booking 0015): a patient's own
unbooked hold stays theirs to request on the pages; a waitlist offer's hold and one already
booked are left without a placer."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_slot_hold,
    a_waitlist_entry,
    a_waitlist_offer,
    an_appointment,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

FILL = importlib.import_module("booking.migrations.0015_hold_placed_by").FILL_PATIENTS_OWN_HOLDS


def test_a_patients_own_unbooked_hold_is_theirs_and_an_offers_has_no_placer(clinic, patient):
    monday, tuesday = next_weekday(clinic.location, 0, 10), next_weekday(clinic.location, 1, 10)
    own = a_slot_hold(clinic, patient, monday)
    offered = a_slot_hold(clinic, patient, tuesday)
    a_waitlist_offer(a_waitlist_entry(clinic, patient), offered)
    booked = a_slot_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    booked.appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 2, 10))
    booked.save()
    without_login = a_slot_hold(
        clinic,
        PatientFactory(user=None, email="", first_name="Sam", last_name="Lee"),
        next_weekday(clinic.location, 3, 10),
    )
    with connection.cursor() as cursor:
        cursor.execute(FILL)
    for hold in (own, offered, booked, without_login):
        hold.refresh_from_db()
    assert own.placed_by == patient.user
    assert offered.placed_by is None and booked.placed_by is None
    assert without_login.placed_by is None
