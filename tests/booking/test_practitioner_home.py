"""The practitioner's home: their appointments today, each patient flagged for review shown so,
with the screening reasons."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment
from clinic.models import AccessLog
from tests.booking.factories import AppointmentFactory
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

HOME = reverse("clinic:practitioner_home")


def _today(clinic, count: int):
    """`count` short appointments with `clinic`'s practitioner, today in the location's time
    and within a few hours of now (whatever the hour the test runs)."""
    now = timezone.now().replace(second=0, microsecond=0)
    times = [now + dt.timedelta(minutes=15 * n) for n in range(-12, 13)]
    times = [
        t for t in times if t.astimezone(clinic.location.zone).date() == clinic.location.today()
    ]
    return [
        AppointmentFactory(
            location=clinic.location,
            practitioner=clinic.practitioner,
            room=clinic.rooms[0],
            service=clinic.assessment,
            patient=PatientFactory(locations=[clinic.location]),
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=5),
            blocks_until=starts_at + dt.timedelta(minutes=10),
        )
        for starts_at in times[:count]
    ]


def test_a_patient_flagged_for_review_is_shown_so_with_the_reasons(
    login, practitioner, clinic, intake
):
    flagged, clear = (a.patient for a in _today(clinic, 2))
    intake.record(flagged, submitted=True, flagged_for_review=True, flag_reasons=("Pacemaker",))
    intake.ready(clear)
    html = login(practitioner.user).get(HOME).content.decode()
    assert "Your appointments today" in html and clear.full_name in html
    assert '<span class="badge badge-flagged">Flagged for review: Pacemaker</span>' in html
    assert html.count("Flagged for review") == 1
    # The reasons are intake answers: showing them is a logged view of that patient's record.
    assert list(
        AccessLog.objects.filter(record_type="intake.screening").values_list(
            "patient", "actor", "action"
        )
    ) == [(flagged.pk, practitioner.user.pk, "view")]


def test_the_day_costs_a_fixed_number_of_queries_however_many_patients_are_flagged(
    login, practitioner, clinic, intake, django_assert_max_num_queries
):
    first, *others = _today(clinic, 10)
    # The others a week ahead while the day of one patient is counted, then back (a cancelled
    # visit is never booked again: PostgreSQL refuses that status change).
    week = dt.timedelta(weeks=1)
    Appointment.objects.filter(pk__in=[a.pk for a in others]).update(
        starts_at=F("starts_at") + week,
        ends_at=F("ends_at") + week,
        blocks_until=F("blocks_until") + week,
    )
    for appointment in (first, *others):
        intake.record(appointment.patient, flagged_for_review=True, flag_reasons=("Pacemaker",))
    client = login(practitioner.user)
    client.get(HOME)  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as one:
        client.get(HOME)
    Appointment.objects.filter(pk__in=[a.pk for a in others]).update(
        starts_at=F("starts_at") - week,
        ends_at=F("ends_at") - week,
        blocks_until=F("blocks_until") - week,
    )
    intake.calls = 0
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(HOME).content.decode()
    assert html.count("Flagged for review: Pacemaker") == 10
    assert intake.calls == 1  # intake is asked once for the whole day
