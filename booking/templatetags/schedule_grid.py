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


# Each status as a box shows it, however short the box: a mark, its name in words for screen
# readers and in the box's tooltip.
STATUS_SHORT = {
    "requested": "Req",
    "confirmed": "Conf",
    "checked_in": "In",
    "completed": "Done",
    "cancelled": "Canc",
    "no_show": "No-show",
}


def _appointment(item: Item, by: str, detail_base: str, drop_base: str) -> str:
    """One appointment's box. Its first line holds what a short box must still show: the
    status and every badge as compact marks (their words hidden for screen readers), a
    problem that stops the check-in marked apart; the box's colour is the service's. The rest
    follows, and all of it shows on hover or keyboard focus (schedule.css)."""
    entry = item.entry
    a = entry.appointment
    status = _e(a.status)
    proposed = " (time proposed)" if a.proposed_by_clinic else ""
    status_words = f"{a.get_status_display()}{proposed}"
    blocking = [b for b in entry.badges if b.blocks_check_in]
    marks = [
        f'<span class="flag status-{status}" aria-hidden="true">'
        f"{_e(STATUS_SHORT.get(a.status, a.status))}</span>"
    ]
    marks += [
        f'<span class="flag badge-{_e(b.key)}" aria-hidden="true">{_e(b.short)}</span>'
        for b in entry.badges
    ]
    stop = '<span class="flag flag-stop" aria-hidden="true">!</span>' if blocking else ""
    words = ". ".join([status_words, *(b.label for b in entry.badges)])
    session = f" · <strong>{_e(a.session_label)}</strong>" if a.course_id else ""
    where = a.practitioner.name if by == "rooms" else a.room.name
    links = []
    if entry.chart_url:
        links.append(f'<a href="{_e(entry.chart_url)}">Chart</a>')
    if entry.note_url:
        links.append(f'<a href="{_e(entry.note_url)}">{_e(entry.note_label)}</a>')
    more = f'<span class="d-block mt-1">{" · ".join(links)}</span>' if links else ""
    url = _e(detail_base.replace(_PLACEHOLDER, str(a.pk)))
    tooltip = " · ".join(
        [
            f"{entry.starts}–{entry.ends} {a.patient.full_name}",
            a.service.name + (f" {a.session_label}" if a.course_id else ""),
            where,
            status_words,
            *(f"{b.label}: {b.detail}" if b.detail else b.label for b in entry.badges),
        ]
    )
    blocked = " sched-blocked" if blocking else ""
    drag = ""
    if drop_base and a.is_movable:
        drag = f' draggable="true" data-move="{_e(drop_base.replace(_PLACEHOLDER, str(a.pk)))}"'
    return (
        f'<div class="sched-appt status-{status} svc-{_e(a.service.kind)}{blocked} '
        f'gr-{item.row} gs-{item.span}" title="{_e(tooltip)}"{drag}>'
        f'<span class="sched-flags">{stop}{"".join(marks)}</span>'
        f'<a href="{url}"><span class="sched-time">{_e(entry.starts)}–{_e(entry.ends)}</span> '
        f'<strong class="d-block">{_e(a.patient.full_name)}</strong>'
        f'<span class="visually-hidden">{_e(words)}.</span></a>'
        f'<span class="d-block">{_e(a.service.name)}{session} · {_e(where)}</span>'
        f"{more}</div>"
    )


def _item(item: Item, by: str, detail_base: str, drop_base: str) -> str:
    place = f"gr-{item.row} gs-{item.span}"
    if item.kind == "appointment":
        return _appointment(item, by, detail_base, drop_base)
    if item.kind == "free" and not item.url:  # shows where a service fits; booked elsewhere
        return (
            f'<div class="sched-free sched-fits {place}"><span aria-hidden="true">'
            f"{_e(item.label)}</span>"
            f'<span class="visually-hidden">{_e(item.hint)}</span></div>'
        )
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
def schedule_grid(
    grid: Grid,
    *,
    label: str,
    zone_name: str,
    by: str = "",
    wide: bool = False,
    movable: bool = False,
):
    """The grid: the hours down the side, then one column per practitioner, room or day.
    `movable`: appointments can be dragged onto another time or column (the day view; the
    script in static/js/desk-schedule.js asks `desk_move_drop` before anything moves)."""
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
    drop_base = reverse("booking:desk_move_drop", args=[_PLACEHOLDER]) if movable else ""
    rows = f' data-rows="{grid.rows}" data-first-minute="{grid.first_minute}"' if movable else ""
    for n, column in enumerate(grid.columns, start=1):
        title = _e(column.title)
        if column.url:
            title = f'<a href="{_e(column.url)}">{title}</a>'
        items = "".join(_item(item, by, detail_base, drop_base) for item in column.items)
        drop = f' data-drop="{_e(column.drop)}"' if movable and column.drop else ""
        parts.append(
            f'<section class="sched-col{width}" aria-labelledby="col-{n}"{drop}>'
            f'<div class="sched-head"><h2 id="col-{n}">{title}</h2>'
            f'<div class="text-body-secondary">{_e(column.subtitle)}</div></div>'
            f'<div class="sched-body"{rows}>{fill}{items}</div></section>'
        )
    parts.append("</div>")
    return mark_safe("".join(parts))  # every data value above is escaped with _e
