"""Small display helpers for intake pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.filter
def answer(value) -> str:
    """A yes/no answer as the patient gave it."""
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return "Not answered"


@register.filter
def time_zone(patient) -> str:
    """The zone a patient's times are shown in: their preferred location's."""
    location = getattr(patient, "preferred_location", None)
    return location.time_zone if location else settings.TIME_ZONE


@register.filter
def or_unanswered(value):
    return "Not answered" if value in (None, "") else value
