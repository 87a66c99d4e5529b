"""The front desk's schedule: a location's day (by practitioner or by room) and week, a
practitioner's day and week across their locations, the printable list of a day, and the
badges every appointment carries.

Loading is done in a fixed number of queries whatever the number of practitioners or
appointments (`load_location_day`, `load_location_week`, `load_practitioner_days`); laying
the grid out is plain Python on what was loaded, like `booking.availability`. Times are the
wall-clock times of each appointment's location.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Q
from django.urls import reverse

from booking import gates
from booking.availability import Busy, Interval, aware, working_intervals
from booking.models import ACTIVE_STATUSES, LONGEST_APPOINTMENT, Appointment, Status
from booking.selectors import Availability, load_availability
from clinic.models import Location, Practitioner, ServiceKind, User

ROW_MINUTES = 5  # one grid row
FREE_PIECE_MINUTES = 30  # free time is offered in pieces starting on the hour and half hour
SHORTEST_BOOKING = 15  # minutes: free time shorter than the shortest service is not offered
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


# --- Badges ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    key: str  # a CSS class suffix, and what tests look for
    label: str
    detail: str = ""


@dataclass(frozen=True)
class PatientHistory:
    first_seen_at: dt.datetime | None  # the first visit the patient came to
    late_cancellations: int  # cancelled by the patient inside the notice period
    no_shows: int


NO_HISTORY = PatientHistory(None, 0, 0)


def patient_histories(patient_ids: Iterable[int]) -> dict[int, PatientHistory]:
    """What the badges need from each patient's past appointments, in one query."""
    ids = set(patient_ids)
    if not ids:
        return {}
    rows = (
        Appointment.objects.filter(patient_id__in=ids)
        .order_by()
        .values("patient_id")
        .annotate(
            first_seen_at=Min(
                "starts_at", filter=Q(status__in=[Status.CHECKED_IN, Status.COMPLETED])
            ),
            late=Count("pk", filter=Q(late_cancellation=True, cancelled_by="patient")),
            no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
        )
    )
    return {
        row["patient_id"]: PatientHistory(row["first_seen_at"], row["late"], row["no_shows"])
        for row in rows
    }


def appointment_badges(
    appointment: Appointment,
    overview: gates.IntakeOverview,
    history: PatientHistory,
) -> list[Badge]:
    """The warnings the front desk needs at a glance. Screening reasons are health information:
    they are shown on the appointment's own page (which is access-logged), not here."""
    badges = []
    if not overview.submitted:
        badges.append(
            Badge("intake", "Intake not finished")
            if overview.draft_in_progress
            else Badge("intake", "Intake missing")
        )
    if overview.flagged_for_review:
        badges.append(Badge("flagged", "Flagged for review"))
    if not overview.consent_current:
        badges.append(
            Badge("consent", "Consent out of date")
            if overview.submitted
            else Badge("consent", "Consent not signed")
        )
    if appointment.status in ON_GRID and (
        history.first_seen_at is None or appointment.starts_at <= history.first_seen_at
    ):
        badges.append(Badge("first", "First visit"))
    missed = history.late_cancellations + history.no_shows
    if missed:
        parts = []
        if history.late_cancellations:
            n = history.late_cancellations
            parts.append(f"{n} late cancellation{'s' if n != 1 else ''}")
        if history.no_shows:
            parts.append(f"{history.no_shows} no-show{'s' if history.no_shows != 1 else ''}")
        badges.append(Badge("late", f"Late-cancel history ({missed})", ", ".join(parts)))
    return badges


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
    entry.chart_url = gates.intake_url("patient_chart", appointment.patient_id)
    if appointment.status not in ON_GRID:
        return
    kind = appointment.service.kind
    if kind == ServiceKind.DRY_NEEDLING:
        entry.note_url = gates.intake_url(
            "session_note_start",
            appointment.patient_id,
            appointment=appointment.pk,
            session=appointment.session_number,
        )
        entry.note_label = "Session note"
    elif kind in (ServiceKind.ASSESSMENT, ServiceKind.REASSESSMENT):
        entry.note_url = gates.intake_url(
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


def _minute(moment: dt.datetime, zone: ZoneInfo, day: dt.date) -> int:
    """Minutes after local midnight of `day` (clamped to the day)."""
    local = moment.astimezone(zone)
    minutes = (local.date() - day).days * DAY_MINUTES + local.hour * 60 + local.minute
    return min(max(minutes, 0), DAY_MINUTES)


def _intervals_minus(
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


def _free_items(
    free: list[tuple[int, int]],
    zone: ZoneInfo,
    day: dt.date,
    url: Callable[[dt.datetime], str],
    hint: Callable[[str], str],
) -> list[Item]:
    """Free time cut into pieces starting on the hour and half hour (the first one at the next
    5 minutes), each a link to book from that time; a piece is offered only if at least the
    shortest service fits from its start before the free time ends."""
    items = []
    for start, end in free:
        origin = dt.datetime.fromtimestamp(start, tz=zone)
        first = _minute(origin, zone, day)
        last = first + (end - start) // 60
        cursor = -(-first // ROW_MINUTES) * ROW_MINUTES
        while last - cursor >= SHORTEST_BOOKING:
            boundary = min((cursor // FREE_PIECE_MINUTES + 1) * FREE_PIECE_MINUTES, last)
            at = dt.datetime.fromtimestamp(start + (cursor - first) * 60, tz=dt.UTC)
            label = clock(dt.time(cursor // 60 % 24, cursor % 60))
            items.append(Item("free", cursor, boundary, label=label, hint=hint(label), url=url(at)))
            cursor = boundary
    return items


def _booking_link(base: str, **fixed) -> Callable[[dt.datetime], str]:
    """`base?practitioner=…&at=2026-11-24T14:30:00Z` (UTC; a query string needs no escaping
    of it, which matters for the hundreds of links of a busy day)."""
    prefix = f"{base}?{urlencode(fixed)}&at="

    def link(at: dt.datetime) -> str:
        return f"{prefix}{at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"

    return link


# --- A location's day -------------------------------------------------------------------------


@dataclass
class LocationDay:
    location: Location
    day: dt.date
    now: dt.datetime
    availability: Availability
    appointments: list[Appointment]  # every appointment at the location that day, any status
    away: dict[int, list[tuple[dt.datetime, dt.datetime, str]]]  # practitioner -> elsewhere
    described: Described

    @property
    def entries(self) -> list[Entry]:
        return [self.described.entries[a.pk] for a in self.appointments]

    @property
    def on_grid(self) -> list[Entry]:
        return [e for e in self.entries if e.appointment.status in ON_GRID]

    @property
    def off_grid(self) -> list[Entry]:
        """Cancelled appointments and no-shows: listed beside the grid, not drawn on it."""
        return [e for e in self.entries if e.appointment.status not in ON_GRID]

    @property
    def opening(self) -> tuple[int, int] | None:
        return _opening_minutes(self.availability, self.day)

    @property
    def is_closed(self) -> bool:
        return self.opening is None


def _schedule_appointments(**filters):
    return (
        Appointment.objects.filter(**filters)
        .select_related("location", "patient", "service", "course", "room", "practitioner__user")
        .order_by("starts_at", "pk")
    )


# What the schedule shows of an appointment and its patient: loading less makes a busy day's
# 150 rows noticeably cheaper to turn into objects.
_DAY_FIELDS = (
    *(f.name for f in Appointment._meta.concrete_fields if f.name != "patient_note"),
    "patient__first_name",
    "patient__last_name",
    "patient__date_of_birth",
    "patient__phone",
    "patient__email",
    "service__kind",
    "service__name",
    "service__allowed_minutes",
    "service__default_minutes",
    "course__sessions_planned",
    "room__name",
    "room__location_id",
)


def _day_appointments(location: Location, start, end, practitioners: dict[int, Practitioner]):
    """The location's appointments between `start` and `end`, with the location and the
    practitioners already loaded put in place instead of being loaded again for every row.
    One query, and a second only if someone no longer working here has appointments."""
    appointments = list(
        Appointment.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
        .select_related("patient", "service", "course", "room")
        .only(*_DAY_FIELDS)
        .order_by("starts_at", "pk")
    )
    missing = {a.practitioner_id for a in appointments} - set(practitioners)
    if missing:
        practitioners = practitioners | {
            p.pk: p for p in Practitioner.objects.filter(pk__in=missing).select_related("user")
        }
    for appointment in appointments:
        appointment.location = location
        appointment.practitioner = practitioners[appointment.practitioner_id]
    return appointments


def load_location_day(
    location: Location, day: dt.date, *, now: dt.datetime | None = None
) -> LocationDay:
    """Everything the day view of `location` shows, in 12 queries plus intake's fixed number:
    the availability load (9), the day's appointments, where its practitioners are elsewhere
    that day, and the patients' past visits for the badges."""
    from django.utils import timezone

    now = now or timezone.now()
    start, end = day_bounds(day, location.zone)
    availability = load_availability(location=location, window_start=start, window_end=end, now=now)
    appointments = _day_appointments(location, start, end, availability.practitioners)
    practitioner_ids = set(availability.practitioners) | {a.practitioner_id for a in appointments}
    away: dict[int, list] = defaultdict(list)
    for pid, starts_at, ends_at, where in (
        Appointment.objects.filter(
            practitioner_id__in=practitioner_ids,
            status__in=ACTIVE_STATUSES,
            starts_at__lt=end,
            ends_at__gt=start,
            starts_at__gt=start
            - LONGEST_APPOINTMENT,  # so the (practitioner, starts_at) index applies
        )
        .exclude(location=location)
        .order_by()
        .values_list("practitioner_id", "starts_at", "ends_at", "location__name")
    ):
        away[pid].append((starts_at, ends_at, where))
    return LocationDay(
        location=location,
        day=day,
        now=now,
        availability=availability,
        appointments=appointments,
        away=dict(away),
        described=describe(appointments),
    )


def _shift_items(intervals: list[Interval], zone: ZoneInfo, day: dt.date, label: str = ""):
    return [
        Item("shift", _minute(i.start, zone, day), _minute(i.end, zone, day), label=label)
        for i in intervals
    ]


def _time_off_items(calendar, zone: ZoneInfo, day: dt.date) -> list[Item]:
    start, end = day_bounds(day, zone)
    return [
        Item(
            "time_off", _minute(off.start, zone, day), _minute(off.end, zone, day), label="Time off"
        )
        for off in calendar.time_off
        if off.overlaps(start, end)
    ]


def day_grid(
    day: LocationDay,
    *,
    by: str = "practitioners",
    book_url: str = "",
    practitioner_url: Callable[[Practitioner], str] | None = None,
) -> Grid:
    """The day as columns: one per practitioner working or booked that day, or one per room."""
    if by == "rooms":
        columns = _room_columns(day, book_url)
    else:
        columns = _practitioner_columns(day, book_url, practitioner_url)
    return lay_out(columns, hours=day.opening)


def _practitioner_columns(
    day: LocationDay, book_url: str, practitioner_url: Callable | None
) -> list[Column]:
    zone, rules = day.location.zone, day.availability.rules
    practitioners = dict(day.availability.practitioners)
    booked: dict[int, list[Entry]] = defaultdict(list)
    for entry in day.on_grid:
        practitioners.setdefault(entry.appointment.practitioner_id, entry.appointment.practitioner)
        booked[entry.appointment.practitioner_id].append(entry)
    not_before = int(day.now.timestamp())
    columns = []
    for pid, practitioner in sorted(practitioners.items(), key=lambda p: (p[1].name, p[0])):
        calendar = day.availability.calendars.get(pid)
        shifts = working_intervals(day.day, rules, calendar) if calendar else []
        if not shifts and not booked[pid]:
            continue
        hours = ", ".join(
            f"{clock(i.start.astimezone(zone))}–{clock(i.end.astimezone(zone))}" for i in shifts
        )
        certified = calendar is not None and calendar.is_certified_on(day.day)
        column = Column(
            title=practitioner.name,
            subtitle=" · ".join(filter(None, [hours or "Not working", "DN" if certified else ""])),
            url=practitioner_url(practitioner) if practitioner_url else "",
        )
        column.items += _shift_items(shifts, zone, day.day)
        if calendar:
            column.items += _time_off_items(calendar, zone, day.day)
        for starts_at, ends_at, where in day.away.get(pid, ()):
            column.items.append(
                Item(
                    "away",
                    _minute(starts_at, zone, day.day),
                    _minute(ends_at, zone, day.day),
                    label=f"At {where}",
                )
            )
        column.items += [_appointment_item(e, zone, day.day) for e in booked[pid]]
        if calendar and book_url:
            free = _intervals_minus(
                [(int(i.start.timestamp()), int(i.end.timestamp())) for i in shifts],
                calendar.busy,
                not_before,
            )
            column.items += _free_items(
                free,
                zone,
                day.day,
                _booking_link(book_url, practitioner=pid),
                lambda at, name=practitioner.name: f"Book {at} with {name}",
            )
        columns.append(column)
    return columns


def _room_columns(day: LocationDay, book_url: str) -> list[Column]:
    zone = day.location.zone
    booked: dict[int, list[Entry]] = defaultdict(list)
    rooms = {room.pk: room for room in day.availability.room_list}
    for entry in day.on_grid:
        rooms.setdefault(entry.appointment.room_id, entry.appointment.room)
        booked[entry.appointment.room_id].append(entry)
    hours = day.availability.rules.opening.get(day.day.weekday())
    open_span = []
    if not day.is_closed and hours:
        open_span = [
            (
                int(aware(day.day, hours[0], zone).timestamp()),
                int(aware(day.day, hours[1], zone).timestamp()),
            )
        ]
    not_before = int(day.now.timestamp())
    columns = []
    for rid, room in sorted(rooms.items(), key=lambda r: (r[1].name, r[0])):
        column = Column(title=room.name)
        column.items += [_appointment_item(e, zone, day.day) for e in booked[rid]]
        busy = day.availability.rooms.busy.get(rid)
        if busy is not None and book_url:
            column.items += _free_items(
                _intervals_minus(open_span, busy, not_before),
                zone,
                day.day,
                _booking_link(book_url, room=rid),
                lambda at, name=room.name: f"Book {at} in {name}",
            )
        columns.append(column)
    return columns


def _appointment_item(entry: Entry, zone: ZoneInfo, day: dt.date) -> Item:
    appointment = entry.appointment
    return Item(
        "appointment",
        _minute(appointment.starts_at, zone, day),
        _minute(appointment.ends_at, zone, day),
        entry=entry,
    )


# --- A location's week ----------------------------------------------------------------------


@dataclass
class WeekCell:
    day: dt.date
    entries: list[Entry]
    free_minutes: int | None  # None: past, or not working that day
    working: bool

    @property
    def free_label(self) -> str:
        hours, minutes = divmod(self.free_minutes or 0, 60)
        return f"{hours} h {minutes:02d}" if hours else f"{minutes} min"


@dataclass
class WeekRow:
    practitioner: Practitioner
    certified: bool
    cells: list[WeekCell]


@dataclass
class LocationWeek:
    location: Location
    days: list[dt.date]
    rows: list[WeekRow]
    off_grid: list[Entry]


def load_location_week(
    location: Location, first_day: dt.date, *, now: dt.datetime | None = None
) -> LocationWeek:
    """Practitioners down the side, seven days across, each cell the day's appointments and
    the free time left to book; in 11 queries plus intake's fixed number."""
    from django.utils import timezone

    now = now or timezone.now()
    days = [first_day + dt.timedelta(days=n) for n in range(7)]
    start, _ = day_bounds(days[0], location.zone)
    _, end = day_bounds(days[-1], location.zone)
    availability = load_availability(location=location, window_start=start, window_end=end, now=now)
    appointments = _day_appointments(location, start, end, availability.practitioners)
    described = describe(appointments)
    practitioners = dict(availability.practitioners)
    by_cell: dict[tuple[int, dt.date], list[Entry]] = defaultdict(list)
    off_grid = []
    for appointment in appointments:
        entry = described.entries[appointment.pk]
        if appointment.status not in ON_GRID:
            off_grid.append(entry)
            continue
        practitioners.setdefault(appointment.practitioner_id, appointment.practitioner)
        by_cell[appointment.practitioner_id, entry.local_date].append(entry)
    not_before = int(now.timestamp())
    rows = []
    for pid, practitioner in sorted(practitioners.items(), key=lambda p: (p[1].name, p[0])):
        calendar = availability.calendars.get(pid)
        cells = []
        for day in days:
            shifts = working_intervals(day, availability.rules, calendar) if calendar else []
            free = None
            if shifts:
                pieces = _intervals_minus(
                    [(int(i.start.timestamp()), int(i.end.timestamp())) for i in shifts],
                    calendar.busy,
                    not_before,
                )
                free = sum(b - a for a, b in pieces if b - a >= SHORTEST_BOOKING * 60) // 60
            cells.append(WeekCell(day, by_cell.get((pid, day), []), free, bool(shifts)))
        if any(c.working or c.entries for c in cells):
            certified = calendar is not None and any(calendar.is_certified_on(d) for d in days)
            rows.append(WeekRow(practitioner, certified, cells))
    return LocationWeek(location, days, rows, off_grid)


# --- A practitioner's days across their locations -------------------------------------------


@dataclass
class PractitionerDays:
    practitioner: Practitioner
    days: list[dt.date]
    locations: list[Location]
    availability: dict[int, Availability]  # by location id
    appointments: list[Appointment]  # at the locations the viewer may see
    elsewhere: list[tuple[dt.datetime, dt.datetime, Location]]  # busy at other locations
    described: Described
    now: dt.datetime

    @property
    def zone(self) -> ZoneInfo:
        return self.locations[0].zone if self.locations else ZoneInfo("UTC")


def load_practitioner_days(
    practitioner: Practitioner,
    *,
    locations: list[Location],
    first_day: dt.date,
    days: int,
    now: dt.datetime | None = None,
    clinical_links: bool = False,
) -> PractitionerDays:
    """One practitioner's appointments and free time over `days` days at `locations` (those
    the viewer may see); elsewhere they only show as busy. 9 queries per location, plus 2,
    plus intake's fixed number."""
    from django.utils import timezone

    now = now or timezone.now()
    dates = [first_day + dt.timedelta(days=n) for n in range(days)]
    availability = {}
    window_start, window_end = None, None
    for location in locations:
        start, _ = day_bounds(dates[0], location.zone)
        _, end = day_bounds(dates[-1], location.zone)
        availability[location.pk] = load_availability(
            location=location,
            window_start=start,
            window_end=end,
            practitioner_ids=[practitioner.pk],
            now=now,
        )
        window_start = min(window_start or start, start)
        window_end = max(window_end or end, end)
    if window_start is None:
        window_start, window_end = day_bounds(dates[0], ZoneInfo("UTC"))
        window_end = window_start + dt.timedelta(days=days)
    visible = {location.pk for location in locations}
    appointments, elsewhere = [], []
    for appointment in _schedule_appointments(
        practitioner=practitioner, starts_at__gte=window_start, starts_at__lt=window_end
    ):
        if appointment.location_id in visible:
            appointments.append(appointment)
        elif appointment.status in ON_GRID:
            elsewhere.append((appointment.starts_at, appointment.ends_at, appointment.location))
    return PractitionerDays(
        practitioner=practitioner,
        days=dates,
        locations=locations,
        availability=availability,
        appointments=appointments,
        elsewhere=elsewhere,
        described=describe(appointments, clinical_links=clinical_links),
        now=now,
    )


def practitioner_grid(
    loaded: PractitionerDays,
    *,
    book_url: Callable[[Location], str] | None = None,
    per: str = "location",
) -> Grid:
    """`per="location"`: one column per location for a single day; `per="day"`: one column
    per day (a week), items from all the practitioner's locations."""
    pid = loaded.practitioner.pk
    not_before = int(loaded.now.timestamp())
    columns: list[Column] = []
    opening: list[tuple[int, int]] = []
    multi = len(loaded.locations) > 1
    for day in loaded.days:
        day_columns: dict[int, Column] = {}
        for location in loaded.locations:
            availability = loaded.availability[location.pk]
            calendar = availability.calendars.get(pid)
            zone = location.zone
            shifts = working_intervals(day, availability.rules, calendar) if calendar else []
            here = [
                loaded.described.entries[a.pk]
                for a in loaded.appointments
                if a.location_id == location.pk
                and a.status in ON_GRID
                and a.local_starts_at.date() == day
            ]
            if not shifts and not here:
                continue
            key = location.pk if per == "location" else 0
            column = day_columns.get(key)
            if column is None:
                column = day_columns[key] = Column(
                    title=location.name if per == "location" else f"{day:%a %-d %b}",
                )
            hours = ", ".join(
                f"{clock(i.start.astimezone(zone))}–{clock(i.end.astimezone(zone))}" for i in shifts
            )
            if per == "location":
                column.subtitle = hours or "Not working"
            elif hours:
                prefix = f"{location.name} " if multi else ""
                column.subtitle = "; ".join(filter(None, [column.subtitle, prefix + hours]))
            column.items += _shift_items(shifts, zone, day, location.name if multi else "")
            if calendar:
                column.items += _time_off_items(calendar, zone, day)
            column.items += [_appointment_item(e, zone, day) for e in here]
            if calendar and book_url:
                free = _intervals_minus(
                    [(int(i.start.timestamp()), int(i.end.timestamp())) for i in shifts],
                    calendar.busy,
                    not_before,
                )
                column.items += _free_items(
                    free,
                    zone,
                    day,
                    _booking_link(book_url(location), practitioner=pid),
                    lambda at, where=location.name: f"Book {at} at {where}",
                )
            if (minutes := _opening_minutes(availability, day)) is not None:
                opening.append(minutes)
        for starts_at, ends_at, where in loaded.elsewhere:
            zone = where.zone
            if starts_at.astimezone(zone).date() != day:
                continue
            item = Item(
                "away",
                _minute(starts_at, zone, day),
                _minute(ends_at, zone, day),
                label=f"At {where}",
            )
            if per == "day":
                day_columns.setdefault(0, Column(title=f"{day:%a %-d %b}")).items.append(item)
            else:
                day_columns.setdefault(-where.pk, Column(title=where.name)).items.append(item)
        if per == "day":
            columns.append(day_columns.get(0) or Column(title=f"{day:%a %-d %b}", subtitle="Off"))
        else:
            columns += day_columns.values()
    hours = (min(a for a, _ in opening), max(b for _, b in opening)) if opening else None
    return lay_out(columns, hours=hours)


def _opening_minutes(availability: Availability, day: dt.date) -> tuple[int, int] | None:
    """The location's opening hours on `day`, in minutes after local midnight (None: closed)."""
    hours = availability.rules.opening.get(day.weekday())
    if hours is None or day in availability.rules.holidays:
        return None
    opens, closes = hours
    return opens.hour * 60 + opens.minute, closes.hour * 60 + closes.minute


# --- Timing, for the benchmark ------------------------------------------------------------------


def day_view_timing(location: Location, repeats: int) -> tuple[list[float], int]:
    """Render the day view of `location` `repeats` times as a manager would see it, on its
    busiest day of the coming week; return each render's milliseconds and the queries one
    render makes."""
    from django.db import connection, reset_queries
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from booking import desk_views
    from clinic.models import Role

    today = location.today()
    start, _ = day_bounds(today, location.zone)
    _, end = day_bounds(today + dt.timedelta(days=7), location.zone)
    per_day: dict[dt.date, int] = defaultdict(int)
    for starts_at in Appointment.objects.filter(
        location=location, starts_at__gte=start, starts_at__lt=end
    ).values_list("starts_at", flat=True):
        per_day[starts_at.astimezone(location.zone).date()] += 1
    day = max(per_day, key=per_day.get) if per_day else today
    manager = User(email="benchmark@example.org", role=Role.MANAGER, first_name="Benchmark")
    factory = RequestFactory()
    path = reverse("booking:location_day", args=[location.slug])

    def render() -> int:
        request = factory.get(path, {"date": day.isoformat()})
        request.user = manager
        request.COOKIES = {}
        response = desk_views.location_day(request, slug=location.slug)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    render()  # warm the template cache
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        render()
        timings.append((time.perf_counter() - started) * 1000)
    # The query log is a bounded deque: once a long run has filled it, a capture would
    # count nothing, so start from an empty one.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        render()
    return timings, len(captured)


# --- The grid's placement classes ---------------------------------------------------------------


def grid_css() -> str:
    """The contents of static/css/schedule-grid.css: `gr-N` starts an item on row N and `gs-N`
    makes it span N rows of ROW_MINUTES. Generated, because CSS cannot read a number from a
    class name and the Content Security Policy forbids `style=` attributes; a test keeps the
    file in step with this function."""
    rows = DAY_MINUTES // ROW_MINUTES
    lines = [
        "/* Generated by booking.schedule.grid_css(): grid rows of "
        f"{ROW_MINUTES} minutes. Do not edit by hand. */"
    ]
    lines += [f".gr-{n}{{grid-row-start:{n}}}" for n in range(1, rows + 1)]
    lines += [f".gs-{n}{{grid-row-end:span {n}}}" for n in range(1, rows + 1)]
    return "\n".join(lines) + "\n"
