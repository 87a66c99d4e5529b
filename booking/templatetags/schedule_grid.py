"""`{% schedule_grid grid ... %}`: the body of a schedule grid (booking.desk.grid.Grid).

Rendered in plain Python rather than with template tags or `format_html`: a busy day has a
thousand items (150 appointments, free-time links every half hour in 30 columns), and the
per-variable cost of either put the day view well over its 100 ms budget. Every value that
comes from data goes through `_e` (HTML escaping, quotes included).
"""

from __future__ import annotations

from html import escape as _e

from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from booking.desk.grid import Grid, Item

register = template.Library()

# Reversing once and filling in each appointment's id is much cheaper than 150 reverses.
_PLACEHOLDER = "987654321"


def _appointment(item: Item, by: str, detail_base: str) -> str:
    entry = item.entry
    a = entry.appointment
    status = _e(a.status)
    session = f" · <strong>{_e(a.session_label)}</strong>" if a.course_id else ""
    where = _e(a.practitioner.name if by == "rooms" else a.room.name)
    badges = " ".join(
        f'<span class="badge badge-{_e(b.key)}">{_e(b.label)}</span>' for b in entry.badges
    )
    links = []
    if entry.chart_url:
        links.append(f'<a href="{_e(entry.chart_url)}">Chart</a>')
    if entry.note_url:
        links.append(f'<a href="{_e(entry.note_url)}">{_e(entry.note_label)}</a>')
    more = f'<span class="d-block mt-1">{" · ".join(links)}</span>' if links else ""
    proposed = " (time proposed)" if a.proposed_by_clinic else ""
    url = _e(detail_base.replace(_PLACEHOLDER, str(a.pk)))
    return (
        f'<div class="sched-appt status-{status} gr-{item.row} gs-{item.span}">'
        f'<a href="{url}"><span class="sched-time">{_e(entry.starts)}–{_e(entry.ends)}</span> '
        f'<strong class="d-block">{_e(a.patient.full_name)}</strong></a>'
        f'<span class="d-block">{_e(a.service.name)}{session} · {where}</span>'
        f'<span class="badge status-{status}">{_e(a.get_status_display())}{proposed}</span> '
        f"{badges}{more}</div>"
    )


def _item(item: Item, by: str, detail_base: str) -> str:
    place = f"gr-{item.row} gs-{item.span}"
    if item.kind == "appointment":
        return _appointment(item, by, detail_base)
    if item.kind == "free":
        return (
            f'<a class="sched-free {place}" href="{_e(item.url)}"><span aria-hidden="true">'
            f'<span class="plus">+</span> {_e(item.label)}</span>'
            f'<span class="visually-hidden">{_e(item.hint)}</span></a>'
        )
    if item.kind == "shift":
        label = f'<span class="sched-shift-label">{_e(item.label)}</span>' if item.label else ""
        return f'<div class="sched-shift {place}">{label}</div>'
    css = {"time_off": "sched-off", "away": "sched-away"}[item.kind]
    return f'<div class="{css} {place}">{_e(item.label)}</div>'


@register.simple_tag
def schedule_grid(grid: Grid, *, label: str, zone_name: str, by: str = "", wide: bool = False):
    """The grid: the hours down the side, then one column per practitioner, room or day."""
    fill = f'<div class="sched-fill gr-1 gs-{grid.rows}"></div>'
    hours = "".join(
        f'<div class="sched-hour gr-{h.row} gs-{h.span}">{_e(h.label)}</div>' for h in grid.hours
    )
    parts = [
        f'<div class="sched" role="region" aria-label="{_e(label)}" tabindex="0">',
        f'<div class="sched-axis" aria-hidden="true"><div class="sched-head">{_e(zone_name)}'
        f'</div><div class="sched-body">{fill}{hours}</div></div>',
    ]
    width = " sched-col-wide" if wide else ""
    detail_base = reverse("booking:appointment_detail", args=[_PLACEHOLDER])
    for n, column in enumerate(grid.columns, start=1):
        title = _e(column.title)
        if column.url:
            title = f'<a href="{_e(column.url)}">{title}</a>'
        items = "".join(_item(item, by, detail_base) for item in column.items)
        parts.append(
            f'<section class="sched-col{width}" aria-labelledby="col-{n}">'
            f'<div class="sched-head"><h2 id="col-{n}">{title}</h2>'
            f'<div class="text-body-secondary">{_e(column.subtitle)}</div></div>'
            f'<div class="sched-body">{fill}{items}</div></section>'
        )
    parts.append("</div>")
    return mark_safe("".join(parts))  # every data value above is escaped with _e
