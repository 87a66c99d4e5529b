"""How the results dashboard writes a figure: a percentage with what it rests on, or why there
is none. Filters rather than included templates: the dashboard writes hundreds of them."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from booking.reports.figures import SMALL_NUMBERS, Figure

register = template.Library()


@register.filter
def figure(value: Figure) -> str:
    """'62.5% 10 of 16 · 16 patients', 'Fewer than 5 patients (3): too few to say', or
    'No patients yet'."""
    if not value.patients:
        return mark_safe('<span class="text-body-secondary">No patients yet</span>')
    if value.too_few:
        return format_html(
            '<span class="text-body-secondary">Fewer than {} patients ({}): too few to say</span>',
            SMALL_NUMBERS,
            value.patients,
        )
    if value.share is None:
        return mark_safe('<span class="text-body-secondary">—</span>')
    return format_html(
        '<strong>{}%</strong> <span class="small text-body-secondary">{} of {} · {} patient{}</span>',
        value.share,
        value.count,
        value.base,
        value.patients,
        "" if value.patients == 1 else "s",
    )


@register.filter
def share(value: Figure) -> str:
    """The short form for the table of lines, still saying what it rests on: '62.5%' over
    '16 patients', '< 5 patients (3)' or '—'."""
    if not value.patients or (value.share is None and not value.too_few):
        return "—"
    if value.too_few:
        return format_html(
            '<span class="text-body-secondary">&lt; {} patients ({})</span>',
            SMALL_NUMBERS,
            value.patients,
        )
    return format_html(
        '{}% <span class="d-block small text-body-secondary">{} patient{}</span>',
        value.share,
        value.patients,
        "" if value.patients == 1 else "s",
    )
