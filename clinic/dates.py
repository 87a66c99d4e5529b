"""Dates and times typed by people or carried in a page's address (`?date=`, `?from=`, `?at=`…).

One reader for every view and form: a value no clinic calendar needs (year 1, year 9999, a
thirtieth of February, text) is refused here, as a plain 400 or a field error, instead of
overflowing later in a view's date arithmetic (a week after 9999-12-31) as a 500.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from typing import TypeVar

from django import forms
from django.conf import settings
from django.core.exceptions import BadRequest, ValidationError
from django.forms.fields import BaseTemporalField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The calendar the clinic works in: patients are born from 1900 on (the database refuses earlier
# birth dates), and nothing is booked or reported beyond 2100. Far enough from year 1 and 9999
# that any arithmetic the pages do (a week, a year back, a time zone) stays representable.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)

T = TypeVar("T")


def clinic_today() -> dt.date:
    """Today on the clinic's own clock (CLINIC_TIME_ZONE), for what belongs to no one location
    (the manager's overview, a certification, the reports' default period): the server's UTC
    date is already tomorrow every evening in the clinics' time zones."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE))


def in_calendar(day: dt.date) -> bool:
    return EARLIEST <= day <= LATEST


def validate_in_calendar(value: dt.date | dt.datetime | None) -> None:
    """Form and model field validator: a date between 1900 and 2100."""
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not in_calendar(day):
        raise ValidationError(
            "Enter a date between %(earliest)s and %(latest)s.",
            code="out_of_calendar",
            params={"earliest": EARLIEST.year, "latest": LATEST.year},
        )


def parse_date(text: str) -> dt.date:
    """A YYYY-MM-DD date within the clinic's calendar; ValueError otherwise."""
    day = dt.date.fromisoformat(text)
    if not in_calendar(day):
        raise ValueError(f"{day} is outside {EARLIEST.year}–{LATEST.year}")
    return day


def parse_instant(text: str) -> dt.datetime:
    """An ISO date and time with its UTC offset, within the clinic's calendar; ValueError
    otherwise (a time without an offset is ambiguous across the locations' time zones)."""
    at = dt.datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    if not in_calendar(at.date()):
        raise ValueError(f"{at} is outside {EARLIEST.year}–{LATEST.year}")
    return at


def _in_query(query: Mapping, name: str, parse: Callable[[str], T], what: str) -> T | None:
    """What `parse` reads in `?name=`, or None when it is absent or empty; a 400 saying it is
    not `what` we can show when `parse` refuses it (a hand-made or damaged address)."""
    text = query.get(name) or ""
    if not text:
        return None
    try:
        return parse(text)
    except ValueError:
        raise BadRequest(f"The {name!r} in the address is not {what} we can show.") from None


def date_in_query(query: Mapping, name: str, default: dt.date | None = None) -> dt.date | None:
    """The date in `?name=`, or `default` when it is absent or empty; a 400 when it is not a
    date of the clinic's calendar (a hand-made or damaged address)."""
    day = _in_query(query, name, parse_date, "a date")
    return default if day is None else day


def instant_in_query(query: Mapping, name: str) -> dt.datetime | None:
    """The aware date and time in `?name=`, or None when it is absent or empty; a 400 when it
    is not one of the clinic's calendar with its UTC offset."""
    return _in_query(query, name, parse_instant, "a time")


def local_instant(naive: dt.datetime, zone, *, known: dt.datetime | None = None) -> dt.datetime:
    """The instant a wall-clock time names in `zone`. In the hour the clocks go back the time
    happens twice: it is `known` when that is one of the two (an unchanged saved value), else
    the first. In the hour the clocks go forward it never happens: ValidationError."""
    # In UTC at once: Python never finds a time of the repeated hour equal to one in another zone.
    first = naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    if first.astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(
            "%(time)s does not exist here: the clocks go forward an hour that night. "
            "Enter the time on the clock after the change.",
            code="nonexistent",
            params={"time": f"{naive:%Y-%m-%d %H:%M}"},
        )
    if known is not None and known.astimezone(dt.UTC) in (first, second):
        return known.astimezone(dt.UTC)
    return first


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed on the location's clock (the current time zone). Django's own field
    refuses a time in the hour the clocks go back as ambiguous, so a session held then could not
    be recorded, nor its note amended; this one reads it as `local_instant` does. Set `known` to
    the saved value so an unchanged time keeps its instant."""

    known: dt.datetime | None = None

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            naive = value
        else:
            try:
                naive = parse_datetime(value.strip())
            except ValueError:
                raise ValidationError(self.error_messages["invalid"], code="invalid") from None
            naive = naive or BaseTemporalField.to_python(self, value)
        if timezone.is_aware(naive):
            return naive
        try:
            return local_instant(naive, timezone.get_current_timezone(), known=self.known)
        except OverflowError:  # the last hours of year 9999 west of UTC are in year 10000
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
