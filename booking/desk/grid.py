"""Laying out a day as a grid: appointments, shifts, time off and free time as items on rows of
ROW_MINUTES, in columns (practitioners or rooms), and the CSS the rows need.

Pure functions of what `booking.desk.schedule` loaded: no queries here, except the badges of
the appointments described.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from booking import gates, intake_links
from booking.availability import Busy, Interval, aware
from booking.desk.badges import NO_HISTORY, Badge, appointment_badges, patient_histories
from booking.models import ACTIVE_STATUSES, Appointment
from booking.selectors import Availability
from clinic.models import ServiceKind

ROW_MINUTES = 5  # one grid row
SHORTEST_BOOKING = 15  # minutes: the week view counts no free time shorter than this
DAY_MINUTES = 24 * 60
DEFAULT_HOURS = (8 * 60, 18 * 60)  # shown when a day has nothing in it

# Statuses drawn on the grid (they occupy their time); the others are listed beside it.
ON_GRID = frozenset(ACTIVE_STATUSES)


def clock(moment: dt.datetime | dt.time) -> str:
    """'9:30 AM', as the `g:i A` date format writes it, without a template."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants of local midnight at the start and end of `day` (23 or 25 hours apart on
    daylight-saving days)."""
    return aware(day, dt.time.min, zone), aware(day + dt.timedelta(days=1), dt.time.min, zone)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Entry:
    """An appointment as the schedule shows it."""

    appointment: Appointment
    badges: list[Badge]
    starts: str  # local wall-clock time, e.g. '9:30 AM'
    ends: str
    chart_url: str | None = None  # for practitioners: the patient's chart...
    note_url: str | None = None  # ...and the note this appointment calls for
    note_label: str = ""

    @property
    def local_date(self) -> dt.date:
        return self.appointment.local_starts_at.date()


@dataclass
class Described:
    entries: dict[int, Entry]  # by appointment id


def describe(appointments: list[Appointment], *, clinical_links: bool = False) -> Described:
    """Badges and times for `appointments` (with patient, service, course and location
    loaded), in one query plus intake's fixed number."""
    patient_ids = {a.patient_id for a in appointments}
    histories = patient_histories(patient_ids)
    overviews = gates.intake_overview(patient_ids) if patient_ids else {}
    entries = {}
    for appointment in appointments:
        zone = appointment.location.zone
        entry = Entry(
            appointment=appointment,
            badges=appointment_badges(
                appointment,
                overviews[appointment.patient_id],
                histories.get(appointment.patient_id, NO_HISTORY),
            ),
            starts=clock(appointment.starts_at.astimezone(zone)),
            ends=clock(appointment.ends_at.astimezone(zone)),
        )
        if clinical_links:
            _add_clinical_links(entry)
        entries[appointment.pk] = entry
    return Described(entries)


def _add_clinical_links(entry: Entry) -> None:
    """The chart and the note to write, for the practitioner's own schedule (links appear once
    intake provides those pages)."""
    appointment = entry.appointment
    entry.chart_url = intake_links.intake_url("patient_chart", appointment.patient_id)
    if appointment.status not in ON_GRID:
        return
    kind = appointment.service.kind
    if kind == ServiceKind.DRY_NEEDLING:
        entry.note_url = intake_links.intake_url(
            "session_note_start",
            appointment.patient_id,
            appointment=appointment.pk,
            session=appointment.session_number,
        )
        entry.note_label = "Session note"
    elif kind in (ServiceKind.ASSESSMENT, ServiceKind.REASSESSMENT):
        entry.note_url = intake_links.intake_url(
            "assessment_start", appointment.patient_id, appointment=appointment.pk
        )
        entry.note_label = "Assessment note"


# --- The grid -------------------------------------------------------------------------------


@dataclass
class Item:
    """Something drawn in a column, from `start` to `end` minutes after the column's local
    midnight: an appointment, free time to book, a shift, time off, or time away."""

    kind: str  # "appointment" | "free" | "shift" | "time_off" | "away"
    start: int
    end: int
    entry: Entry | None = None
    label: str = ""
    hint: str = ""  # what a screen reader says for a free-time link
    url: str = ""
    row: int = 0
    span: int = 0


@dataclass
class Column:
    title: str
    subtitle: str = ""
    url: str = ""
    items: list[Item] = field(default_factory=list)
    drop: str = ""  # what an appointment dropped here moves to: "practitioner=5", "room=3"

    @property
    def appointments(self) -> list[Item]:
        return [item for item in self.items if item.kind == "appointment"]


@dataclass
class Grid:
    columns: list[Column]
    hours: list[Item]  # the time labels down the side
    rows: int
    first_minute: int

    @property
    def is_empty(self) -> bool:
        return not self.columns


_ORDER = {"shift": 0, "time_off": 1, "away": 2, "appointment": 3, "free": 3}


def lay_out(columns: list[Column], *, hours: tuple[int, int] | None = None) -> Grid:
    """Give every item its grid rows, from the earliest hour anything starts (or the opening
    hour) to the latest it ends. Items are kept in time order, so keyboard order follows it."""
    starts = [i.start for c in columns for i in c.items if i.kind != "time_off"]
    ends = [i.end for c in columns for i in c.items if i.kind != "time_off"]
    if hours:
        starts.append(hours[0])
        ends.append(hours[1])
    if not starts:
        starts, ends = [DEFAULT_HOURS[0]], [DEFAULT_HOURS[1]]
    first = max(0, min(starts) // 60 * 60)
    last = min(DAY_MINUTES, -(-max(ends) // 60) * 60)
    if last <= first:
        last = min(DAY_MINUTES, first + 60)
    for column in columns:
        placed = []
        for item in column.items:
            start, end = max(item.start, first), min(item.end, last)
            if end <= start:
                continue
            item.row = (start - first) // ROW_MINUTES + 1
            item.span = max(1, -(-(end - start) // ROW_MINUTES))
            placed.append(item)
        placed.sort(key=lambda i: (i.start, _ORDER[i.kind]))
        column.items = placed
    labels = [
        Item(
            "hour",
            minute,
            minute + 60,
            label=clock(dt.time(minute // 60 % 24)),
            row=(minute - first) // ROW_MINUTES + 1,
            span=60 // ROW_MINUTES,
        )
        for minute in range(first, last, 60)
    ]
    return Grid(columns, labels, (last - first) // ROW_MINUTES, first)


def minute_of_day(moment: dt.datetime, zone: ZoneInfo, day: dt.date) -> int:
    """Minutes after local midnight of `day` (clamped to the day)."""
    local = moment.astimezone(zone)
    minutes = (local.date() - day).days * DAY_MINUTES + local.hour * 60 + local.minute
    return min(max(minutes, 0), DAY_MINUTES)


def intervals_minus(
    intervals: Iterable[tuple[int, int]], busy: Busy, not_before: int
) -> list[tuple[int, int]]:
    """Parts of `intervals` (seconds since the epoch) that are not busy and not before
    `not_before`."""
    free = []
    for start, end in intervals:
        start = max(start, not_before)
        for b_start, b_end in zip(busy.starts, busy.ends, strict=True):
            if b_end <= start:
                continue
            if b_start >= end:
                break
            if b_start > start:
                free.append((start, b_start))
            start = max(start, b_end)
            if start >= end:
                break
        if start < end:
            free.append((start, end))
    return free


def booking_link(base: str, **fixed) -> Callable[[dt.datetime], str]:
    """`base?practitioner=…&at=2026-11-24T14:30:00Z` (UTC; a query string needs no escaping
    of it, which matters for the hundreds of links of a busy day)."""
    prefix = f"{base}{'&' if '?' in base else '?'}{urlencode(fixed)}&at="

    def link(at: dt.datetime) -> str:
        return f"{prefix}{at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"

    return link


# --- A location's day -------------------------------------------------------------------------


def shift_items(intervals: list[Interval], zone: ZoneInfo, day: dt.date, label: str = ""):
    return [
        Item(
            "shift", minute_of_day(i.start, zone, day), minute_of_day(i.end, zone, day), label=label
        )
        for i in intervals
    ]


def time_off_items(calendar, zone: ZoneInfo, day: dt.date) -> list[Item]:
    start, end = day_bounds(day, zone)
    return [
        Item(
            "time_off",
            minute_of_day(off.start, zone, day),
            minute_of_day(off.end, zone, day),
            label="Time off",
        )
        for off in calendar.time_off
        if off.overlaps(start, end)
    ]


def appointment_item(entry: Entry, zone: ZoneInfo, day: dt.date) -> Item:
    appointment = entry.appointment
    return Item(
        "appointment",
        minute_of_day(appointment.starts_at, zone, day),
        minute_of_day(appointment.ends_at, zone, day),
        entry=entry,
    )


# --- A location's week ----------------------------------------------------------------------


def opening_minutes(availability: Availability, day: dt.date) -> tuple[int, int] | None:
    """The location's opening hours on `day`, in minutes after local midnight (None: closed)."""
    hours = availability.rules.opening.get(day.weekday())
    if hours is None or day in availability.rules.holidays:
        return None
    opens, closes = hours
    return opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute


# --- Timing, for the benchmark ------------------------------------------------------------------


def grid_css() -> str:
    """The contents of static/css/schedule-grid.css: `gr-N` starts an item on row N and `gs-N`
    makes it span N rows of ROW_MINUTES. Generated, because CSS cannot read a number from a
    class name and the Content Security Policy forbids `style=` attributes; a test keeps the
    file in step with this function."""
    rows = DAY_MINUTES // ROW_MINUTES
    lines = [
        "/* Generated by booking.desk.grid.grid_css(): grid rows of "
        f"{ROW_MINUTES} minutes. Do not edit by hand. */"
    ]
    lines += [f".gr-{n}{{grid-row-start:{n}}}" for n in range(1, rows + 1)]
    lines += [f".gs-{n}{{grid-row-end:span {n}}}" for n in range(1, rows + 1)]
    return "\n".join(lines) + "\n"
