"""Times shown in a location's own time zone, whatever the server's or the viewer's.

Django's `date` filter converts to the active time zone first; these filters format in the
zone of the location the time belongs to, with its abbreviation (EST, EDT...)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import template
from django.utils import dateformat

register = template.Library()

DEFAULT_FORMAT = "D j M Y, g:i A T"


def _zone(where) -> zoneinfo.ZoneInfo:
    if isinstance(where, zoneinfo.ZoneInfo):
        return where
    if isinstance(where, str):
        return zoneinfo.ZoneInfo(where)
    return where.zone  # a Location


@register.filter
def at_location(value: dt.datetime | None, where, fmt: str = DEFAULT_FORMAT) -> str:
    """`{{ appointment.starts_at|at_location:appointment.location }}` -> 'Tue 1 Dec 2026, 10:00 AM EST'."""
    if not value:
        return ""
    return dateformat.format(value.astimezone(_zone(where)), fmt)


@register.simple_tag
def local_time(value: dt.datetime | None, where, fmt: str = DEFAULT_FORMAT) -> str:
    """`{% local_time appointment.starts_at appointment.location "g:i A" %}` with any format."""
    return at_location(value, where, fmt)
