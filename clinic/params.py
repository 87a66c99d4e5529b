"""Numbers carried in a page's form or address (`version=`, `patient=`, `practitioner=`…).

A hand-made or damaged value is read as missing, never a 500: the view then answers as it
does when the number is absent (a stale-form message, a 404, the default choice).
"""


def whole_number(value) -> int | None:
    """`value` as an int, or None when it is absent or not a whole number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
