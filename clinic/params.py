"""Numbers and slugs carried in a page's form or address (`version=`, `patient=`, `location=`…).

A hand-made or damaged value is read as missing, never a 500: the view then answers as it
does when the number is absent (a stale-form message, a 404, the default choice).
"""

import re


def whole_number(value) -> int | None:
    """`value` as an int, or None when it is absent or not a whole number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def positive_whole_number(value) -> int | None:
    """`value` as an int of 1 or more (a record id, a session number), or None otherwise: no
    record or session is numbered 0 or below, so such a value is as good as missing."""
    number = whole_number(value)
    return number if number is not None and number > 0 else None


def slug(value) -> str | None:
    """`value` as a slug (letters, digits, hyphens, underscores: how a location is named in
    addresses), or None otherwise: a forged one (a NUL character, which PostgreSQL cannot
    even compare) is as good as missing."""
    return value if isinstance(value, str) and re.fullmatch(r"[-\w]+", value) else None
