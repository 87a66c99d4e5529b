"""Dates and times typed by people or carried in a page's address (`?date=`, `?from=`, `?at=`…).

One reader for every view and form: a value no clinic calendar needs (year 1, year 9999, a
thirtieth of February, text) is refused here, as a plain 400 or a field error, instead of
overflowing later in a view's date arithmetic (a week after 9999-12-31) as a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.core.exceptions import BadRequest, ValidationError

# The calendar the clinic works in: patients are born from 1900 on (the database refuses earlier
# birth dates), and nothing is booked or reported beyond 2100. Far enough from year 1 and 9999
# that any arithmetic the pages do (a week, a year back, a time zone) stays representable.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2100, 12, 31)


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


def date_in_query(query: Mapping, name: str, default: dt.date | None = None) -> dt.date | None:
    """The date in `?name=`, or `default` when it is absent or empty; a 400 when it is not a
    date of the clinic's calendar (a hand-made or damaged address)."""
    text = query.get(name) or ""
    if not text:
        return default
    try:
        return parse_date(text)
    except ValueError:
        raise BadRequest(f"The {name!r} in the address is not a date we can show.") from None


def instant_in_query(query: Mapping, name: str) -> dt.datetime | None:
    """The aware date and time in `?name=`, or None when it is absent or empty; a 400 when it
    is not one of the clinic's calendar with its UTC offset."""
    text = query.get(name) or ""
    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        raise BadRequest(f"The {name!r} in the address is not a time we can show.") from None
