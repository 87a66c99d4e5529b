"""Field validators shared by the clinic's models and forms."""

import datetime as dt
import re
import zoneinfo

from django.core.exceptions import ValidationError

from clinic.dates import clinic_today

_PHONE_PUNCTUATION = re.compile(r"[\s().\-]")


def phone_digits(value: str) -> str:
    """The phone number with its formatting removed ('+1 (416) 555-0134' -> '+14165550134')."""
    return _PHONE_PUNCTUATION.sub("", value or "")


def validate_phone(value: str) -> None:
    """A North American number of 10 digits (optionally 1 first), or an international +number."""
    digits = phone_digits(value)
    if digits.startswith("+"):
        ok = digits[1:].isdigit() and 8 <= len(digits) - 1 <= 15
    else:
        ok = digits.isdigit() and (
            len(digits) == 10 or (len(digits) == 11 and digits.startswith("1"))
        )
    if not ok:
        raise ValidationError(
            "Enter a phone number such as 416-555-0134 or +44 20 7946 0958.",
            code="invalid_phone",
        )


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            "%(value)s is not a known time zone; use a name such as America/Toronto.",
            code="unknown_time_zone",
            params={"value": value},
        ) from None


def validate_not_in_future(value) -> None:
    # On the clinic's clock: the server's UTC date is already tomorrow every evening.
    if value and value > clinic_today():
        raise ValidationError("This date is in the future.", code="future_date")


# The database refuses earlier birth dates (constraint patient_born_after_1900); a form says so
# on the field first.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def validate_born_after_1900(value) -> None:
    if value and value < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            "Enter a date of birth from 1 January 1900 on.", code="born_before_1900"
        )
