"""Times typed on a location's clock, on the two nights a year the clock jumps: the hour that
happens twice is read, the hour that never happens is a field error, never a 500."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.dates import LocalDateTimeField, local_instant

TORONTO = ZoneInfo("America/Toronto")
FALL_BACK = dt.datetime(2027, 11, 7, 1, 30)  # 05:30 UTC, then again 06:30 UTC
SPRING_FORWARD = dt.datetime(2027, 3, 14, 2, 30)  # never on Toronto's clocks


def test_an_ordinary_time_is_that_instant():
    assert local_instant(dt.datetime(2027, 6, 9, 10, 0), TORONTO) == dt.datetime(
        2027, 6, 9, 14, 0, tzinfo=dt.UTC
    )


def test_the_hour_that_happens_twice_is_the_first_unless_the_saved_time_is_the_second():
    first = dt.datetime(2027, 11, 7, 5, 30, tzinfo=dt.UTC)
    second = dt.datetime(2027, 11, 7, 6, 30, tzinfo=dt.UTC)
    assert local_instant(FALL_BACK, TORONTO) == first
    assert local_instant(FALL_BACK, TORONTO, known=second) == second
    assert local_instant(FALL_BACK, TORONTO, known=first) == first
    # A saved time of another day does not pick the occurrence.
    assert local_instant(FALL_BACK, TORONTO, known=second + dt.timedelta(days=1)) == first


def test_the_hour_that_never_happens_is_refused_with_a_reason():
    with pytest.raises(ValidationError) as refused:
        local_instant(SPRING_FORWARD, TORONTO)
    assert "clocks go forward" in refused.value.messages[0]


def test_the_form_field_reads_the_location_clock_and_refuses_the_missing_hour():
    field = LocalDateTimeField(input_formats=["%Y-%m-%dT%H:%M"])
    with timezone.override(TORONTO):
        assert field.clean("2027-11-07T01:30") == dt.datetime(2027, 11, 7, 5, 30, tzinfo=dt.UTC)
        field.known = dt.datetime(2027, 11, 7, 6, 30, tzinfo=dt.UTC)
        assert field.clean("2027-11-07T01:30") == field.known
        with pytest.raises(ValidationError) as refused:
            field.clean("2027-03-14T02:30")
        assert "does not exist here" in refused.value.messages[0]
        with pytest.raises(ValidationError):
            field.clean("not a time")
