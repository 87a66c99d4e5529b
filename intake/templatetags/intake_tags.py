"""Small display helpers for intake pages."""

from __future__ import annotations

from django import template

from intake.zones import patient_zone

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
def time_zone(patient):
    """The zone a patient's times are shown in (for `{% timezone patient|time_zone %}`)."""
    return patient_zone(patient)


@register.filter
def or_unanswered(value):
    return "Not answered" if value in (None, "") else value


@register.simple_tag
def note_url(kind, action: str, note) -> str:
    """The address of `action` (detail, edit, sign, amend, discard) on a note of `kind` (an
    assessment or a session note): `{% note_url kind 'edit' note %}`."""
    return kind.url(action, note)
