"""A location's cancellation notice is counted on its wall clock: 24 hours before 10:00 on the
Monday after the clocks change is 10:00 on the Sunday, whatever the hours in between. The same
deadline marks a cancellation late, closes changes online and makes the fee due."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest

from booking.billing import world as billing_world
from booking.billing.invoicing import late_cancellation_fee
from tests.booking.factories import an_appointment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

TORONTO = zoneinfo.ZoneInfo("America/Toronto")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _at(zone, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)


@pytest.mark.parametrize(
    ("visit", "free_until"),
    [
        # Spring forward (Sunday 14 March 2027): Saturday 10:00 to Sunday 10:00 is 23 hours.
        (_at(TORONTO, 2027, 3, 14, 10), _at(TORONTO, 2027, 3, 13, 10)),
        (_at(TORONTO, 2027, 3, 15, 10), _at(TORONTO, 2027, 3, 14, 10)),
        # Fall back (Sunday 7 November 2027): 25 hours of real time.
        (_at(TORONTO, 2027, 11, 7, 10), _at(TORONTO, 2027, 11, 6, 10)),
        (_at(TORONTO, 2027, 11, 8, 9, 30), _at(TORONTO, 2027, 11, 7, 9, 30)),
    ],
)
def test_the_deadline_is_the_same_wall_time_the_day_before_across_the_change_of_clocks(
    clinic, visit, free_until
):
    assert clinic.location.cancellation_deadline(visit.astimezone(dt.UTC)) == free_until
    appointment = an_appointment(clinic, PatientFactory(), visit.astimezone(dt.UTC))
    assert not appointment.is_late_cancellation(free_until)
    assert appointment.patient_may_change_online(free_until)
    assert appointment.is_late_cancellation(free_until + dt.timedelta(seconds=1))
    assert not appointment.patient_may_change_online(free_until + dt.timedelta(seconds=1))


def test_the_fee_shown_before_cancelling_follows_the_deadline_to_the_second(other_location):
    """At Rockville (New York time) on the night the clocks go back."""
    from tests.booking.factories import a_clinic

    rockville = a_clinic(location=other_location)
    billing_world.cancellation_policy(other_location, late_cancellation_fee="35.00")
    visit = an_appointment(
        rockville, PatientFactory(), _at(NEW_YORK, 2027, 11, 8, 9).astimezone(dt.UTC)
    )
    deadline = _at(NEW_YORK, 2027, 11, 7, 9)
    assert late_cancellation_fee(visit, deadline) is None
    assert late_cancellation_fee(visit, deadline + dt.timedelta(seconds=1)) == Decimal("35.00")
    # Real elapsed time would put the deadline an hour later, at 10:00 on the Sunday.
    assert late_cancellation_fee(visit, _at(NEW_YORK, 2027, 11, 7, 9, 30)) == Decimal("35.00")


@pytest.mark.parametrize("after_the_deadline", [False, True])
def test_the_late_flag_and_the_fee_agree_to_the_second_across_the_change_of_clocks(
    clinic, front_desk, after_the_deadline
):
    """A Sunday visit, the day the clocks go back, cancelled by phone for the patient: a
    cancellation the history calls late is the one that is charged, and only that one (counted
    in elapsed hours, the deadline would fall an hour later, at 11:00 on the Saturday)."""
    from booking import services
    from booking.billing.models import Invoice

    billing_world.terms(clinic.location, currency="CAD")
    billing_world.cancellation_policy(
        clinic.location, late_cancellation_fee="40.00", first_offence_waived=False
    )
    visit = an_appointment(
        clinic,
        PatientFactory(),
        _at(TORONTO, 2027, 11, 7, 10).astimezone(dt.UTC),
        status="confirmed",
    )
    at = _at(TORONTO, 2027, 11, 6, 10) + dt.timedelta(seconds=1 if after_the_deadline else 0)
    cancelled = services.cancel_appointment(
        visit, by="patient", actor=front_desk, reason="Phoned in", now=at
    )
    charged = Invoice.objects.filter(appointment=visit, kind="late_cancellation").exists()
    assert cancelled.late_cancellation is after_the_deadline
    assert charged is after_the_deadline


def test_closing_an_account_says_first_what_cancelling_a_visit_inside_the_notice_costs(
    billed, patient, login
):
    """Closing the account cancels the visits to come, as the patient's own cancellation: one
    inside the notice is a late cancellation and charged (here not the first: a visit was
    missed). The page says so before the patient closes it, as the appointment's page does
    before they phone; it was charged unsaid, to a patient whose login was then gone."""
    import datetime as dt

    from django.urls import reverse
    from django.utils import timezone

    from booking.models import Status
    from tests.booking.factories import an_appointment

    an_appointment(billed, patient, timezone.now() - dt.timedelta(days=3), status=Status.NO_SHOW)
    soon = an_appointment(
        billed, patient, timezone.now() + dt.timedelta(hours=3), status=Status.CONFIRMED
    )
    an_appointment(
        billed,
        patient,
        timezone.now() + dt.timedelta(days=5),
        status=Status.CONFIRMED,
        room=billed.rooms[1],
    )
    page = login(patient.user).get(reverse("booking:close_account"))
    text = " ".join(page.content.decode().split())
    assert "Cancelling now costs 40.00 CAD." in text
    assert text.count("Cancelling now costs") == 1
    assert soon.local_starts_at.strftime("%-d %b %Y") in text
