"""Booking fixtures: a working clinic at the `location` persona, and intake's decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.availability import aware
from tests.intake.factories import signed_assessment


def next_weekday(
    location, weekday: int, hour: int, minute: int = 0, weeks_ahead: int = 1
) -> dt.datetime:
    """The instant of `hour:minute` local time on the given weekday, at least a few days ahead.

    On the location's clock, so that `+ timedelta(weeks=n)` is the same wall time n weeks on
    even across the night the clocks change (added to a UTC time it would be an hour off)."""
    today = location.today()
    days = (weekday - today.weekday()) % 7 + 7 * weeks_ahead
    day = today + dt.timedelta(days=days)
    return aware(day, dt.time(hour, minute), location.zone).astimezone(location.zone)


def location_day_html(client, location, moment: dt.datetime, page="booking:location_day") -> str:
    """The location's schedule of the day `moment` falls on there, as HTML: the grid, or the
    list with `page="booking:location_day_list"`."""
    day = moment.astimezone(location.zone).date()
    return client.get(
        reverse(page, args=[location.slug]), {"date": day.isoformat()}
    ).content.decode()


def practitioner_day_html(client, practitioner, location, moment: dt.datetime) -> str:
    """The practitioner's schedule of the day `moment` falls on at `location`, as HTML."""
    day = moment.astimezone(location.zone).date()
    url = reverse("booking:practitioner_day", args=[practitioner.pk])
    return client.get(url, {"date": day.isoformat()}).content.decode()


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
    """`prescribe(patient, practitioner, sessions=6, minutes=30)` signs an assessment of
    `patient` with that plan and makes intake's gate say a course may be booked from it (whatever
    else intake would check); others stay refused."""
    prescriptions: dict[int, FakePrescription] = {}

    def gate(patient):
        prescription = prescriptions.get(patient.pk)
        if prescription is None:
            return FakeGate(False, "No signed assessment recommends dry needling yet.", None)
        return FakeGate(True, "", prescription)

    monkeypatch.setattr("booking.gates.course_gate", gate)
    # Booking a session of a booked course again asks intake's decision alone.
    monkeypatch.setattr("booking.gates.needling_gate", gate)

    def _prescribe(patient, practitioner, sessions=6, minutes=30, interval_days=7):
        # A real signed assessment of the patient's: the database refuses a course without one.
        assessment = signed_assessment(
            patient,
            practitioner,
            planned_sessions=sessions,
            session_minutes=minutes,
            interval_days=interval_days,
        )
        prescriptions[patient.pk] = FakePrescription(
            assessment_id=assessment.pk,
            patient_id=patient.pk,
            practitioner_id=practitioner.pk,
            sessions=sessions,
            minutes=minutes,
            interval_days=interval_days,
            signed_at=timezone.now(),
        )
        return prescriptions[patient.pk]

    return _prescribe


@dataclass(frozen=True)
class FakeOverview:
    """The shape of intake's IntakeOverview."""

    patient_id: int
    submitted: bool = False
    draft_in_progress: bool = False
    flagged_for_review: bool = False
    flag_reasons: tuple[str, ...] = ()
    consent_current: bool = False


class FakeIntake:
    """Intake's answers about patients, as `booking.gates` would get them: nothing
    submitted and no consent unless a test says otherwise with `record(patient, ...)`."""

    def __init__(self):
        self.overviews: dict[int, FakeOverview] = {}
        self.calls = 0

    def record(self, patient, **state) -> FakeOverview:
        self.overviews[patient.pk] = FakeOverview(patient.pk, **state)
        return self.overviews[patient.pk]

    def ready(self, patient) -> FakeOverview:
        """Intake submitted, nothing flagged, the current consent signed."""
        return self.record(patient, submitted=True, consent_current=True)

    def overview(self, patient_ids):
        self.calls += 1
        return {pk: self.overviews.get(pk, FakeOverview(pk)) for pk in patient_ids}

    def consent_is_current(self, patient) -> bool:
        return self.overviews.get(patient.pk, FakeOverview(patient.pk)).consent_current


@pytest.fixture
def intake(monkeypatch):
    """Replace intake's side (through booking.gates, the only module that calls it):
    `intake.ready(patient)`, `intake.record(patient, flagged_for_review=True, ...)`."""
    fake = FakeIntake()
    monkeypatch.setattr("booking.gates.intake_overview", fake.overview)
    monkeypatch.setattr("booking.gates.consent_is_current", fake.consent_is_current)
    return fake


@pytest.fixture
def book(clinic, front_desk):
    """`book(patient, starts_at, status=..., service=..., minutes=..., now=...)`: an appointment
    booked by the front desk at the `clinic` (next Tuesday at 10:00 unless `starts_at` says
    otherwise), through the service (so its emails are written)."""
    from booking.models import Status
    from tests.booking.factories import a_booking

    def _book(
        patient, starts_at=None, *, status=Status.CONFIRMED, service=None, minutes=60, now=None
    ):
        return a_booking(
            clinic,
            starts_at or next_weekday(clinic.location, 1, 10),
            patient=patient,
            service=service,
            minutes=minutes,
            actor=front_desk,
            status=status,
            now=now,
        )

    return _book


@pytest.fixture
def book_course(clinic, front_desk, prescribe):
    """`book_course(patient, sessions)`: a course prescribed for `patient` by the `clinic`'s
    practitioner and booked by the front desk, one session a week on Mondays at 10:00 from next
    week (through the service, so its emails are written)."""
    from booking import services

    def _book_course(patient, sessions):
        prescribe(patient, clinic.practitioner, sessions=sessions)
        first = next_weekday(clinic.location, 1, 10)
        return services.book_course(
            patient=patient,
            choices=[
                services.SessionChoice(
                    n + 1, clinic.location, clinic.practitioner, first + dt.timedelta(weeks=n)
                )
                for n in range(sessions)
            ],
            actor=front_desk,
        )

    return _book_course


@pytest.fixture
def freed_for(clinic, book):
    """`freed_for(waiting, patient)`: `waiting` is on the waitlist for Tuesdays 9:00–12:00;
    `patient`'s assessment next Tuesday at 10:00 is booked and then cancelled by the patient,
    so the freed time is offered to `waiting`. Returns the cancelled appointment and the
    offer (through the services, so the emails are written)."""
    from booking import services
    from tests.booking.factories import a_waitlist_entry

    def _freed_for(waiting, patient):
        start = next_weekday(clinic.location, 1, 10)
        entry = a_waitlist_entry(
            clinic,
            waiting,
            weekdays=[start.astimezone(clinic.location.zone).weekday()],
            earliest=dt.time(9),
            latest=dt.time(12),
        )
        appointment = book(patient, start)
        services.patient_cancel(appointment, actor=patient.user, reason="Away")
        return appointment, entry.offers.get()

    return _freed_for
