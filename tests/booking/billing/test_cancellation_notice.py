"""A cancellation policy's notice is counted on the location's wall clock: 24 hours before 10:00
on the Monday after the clocks change is 10:00 on the Sunday, whatever the hours in between."""

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
    policy = billing_world.cancellation_policy(clinic.location, late_cancellation_fee="40")
    assert policy.deadline(visit.astimezone(dt.UTC)) == free_until
    assert not policy.is_late(visit, free_until)
    assert policy.is_late(visit, free_until + dt.timedelta(seconds=1))


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
