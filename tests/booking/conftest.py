"""Booking fixtures: a working clinic at the `location` persona, and intake's decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from booking.availability import aware
from tests.booking.factories import a_clinic


@pytest.fixture
def clinic(location, practitioner):
    """`location` open Mon–Sat 8–18 with two rooms; `practitioner` (certified) works Mon–Fri 9–17."""
    return a_clinic(location=location, practitioner=practitioner)


def next_weekday(
    location, weekday: int, hour: int, minute: int = 0, weeks_ahead: int = 1
) -> dt.datetime:
    """The instant of `hour:minute` local time on the given weekday, at least a few days ahead."""
    today = location.today()
    days = (weekday - today.weekday()) % 7 + 7 * weeks_ahead
    return aware(today + dt.timedelta(days=days), dt.time(hour, minute), location.zone)


@dataclass(frozen=True)
class FakePrescription:
    assessment_id: int
    patient_id: int
    practitioner_id: int
    sessions: int
    minutes: int
    interval_days: int
    signed_at: dt.datetime


@dataclass(frozen=True)
class FakeGate:
    allowed: bool
    reason: str
    prescription: FakePrescription | None


@pytest.fixture
def prescribe(monkeypatch):
    """`prescribe(patient, practitioner, sessions=6, minutes=30)` makes intake's gate say a
    course may be booked for `patient`; others stay refused."""
    prescriptions: dict[int, FakePrescription] = {}

    def gate(patient):
        prescription = prescriptions.get(patient.pk)
        if prescription is None:
            return FakeGate(False, "No signed assessment recommends dry needling yet.", None)
        return FakeGate(True, "", prescription)

    monkeypatch.setattr("booking.gates.course_gate", gate)

    def _prescribe(patient, practitioner, sessions=6, minutes=30, interval_days=7):
        prescriptions[patient.pk] = FakePrescription(
            assessment_id=1000 + patient.pk,
            patient_id=patient.pk,
            practitioner_id=practitioner.pk,
            sessions=sessions,
            minutes=minutes,
            interval_days=interval_days,
            signed_at=timezone.now(),
        )
        return prescriptions[patient.pk]

    return _prescribe
