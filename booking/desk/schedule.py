"""What a schedule page shows, loaded in a fixed number of queries: a location's day (by
practitioner or by room) and week, and a practitioner's days across their locations, each
turned into the grid of `booking.desk.grid`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from booking.availability import Interval, working_intervals
from booking.desk.badges import for_the_badges
from booking.desk.free_time import FreeStarts, Offer, free_starts, start_items
from booking.desk.grid import (
    ON_GRID,
    SHORTEST_BOOKING,
    Column,
    Described,
    Entry,
    Grid,
    Item,
    appointment_item,
    booking_link,
    clock,
    day_bounds,
    describe,
    intervals_minus,
    lay_out,
    minute_of_day,
    opening_minutes,
    shift_items,
    time_off_items,
)
from booking.models import ACTIVE_STATUSES, LONGEST_APPOINTMENT, Appointment
from booking.selectors import Availability, load_availability
from clinic.models import Location, Practitioner


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
        return opening_minutes(self.availability, self.day)

    @property
    def is_closed(self) -> bool:
        return self.opening is None


def _schedule_appointments(**filters):
    return for_the_badges(
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
        for_the_badges(
            Appointment.objects.filter(location=location, starts_at__gte=start, starts_at__lt=end)
            .select_related("patient", "service", "course", "room")
            .only(*_DAY_FIELDS)
            .order_by("starts_at", "pk")
        )
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


def day_grid(
    day: LocationDay,
    *,
    by: str = "practitioners",
    book_url: str = "",
    practitioner_url: Callable[[Practitioner], str] | None = None,
    offer: Offer | None = None,
) -> Grid:
    """The day as columns: one per practitioner working or booked that day, or one per room.
    With `book_url` and an `offer`, free boxes link to booking the offer where it fits
    (`booking.desk.free_time`)."""
    free = None
    if book_url and offer is not None:
        start, end = day_bounds(day.day, day.location.zone)
        free = free_starts(day.availability, offer, start, end, day.now)
        book_url = (
            f"{book_url}?{urlencode({'service': offer.service.kind, 'minutes': offer.minutes})}"
        )
    if by == "rooms":
        columns = _room_columns(day, book_url, offer, free)
    else:
        columns = _practitioner_columns(day, book_url, practitioner_url, offer, free)
    return lay_out(columns, hours=day.opening)


def _offer_url(book_url: str, offer: Offer) -> str:
    return f"{book_url}?{urlencode({'service': offer.service.kind, 'minutes': offer.minutes})}"


def _shift_hours(shifts: list[Interval], zone: ZoneInfo) -> str:
    """A practitioner's working hours that day, as a column's subtitle names them."""
    return ", ".join(
        f"{clock(i.start.astimezone(zone))}–{clock(i.end.astimezone(zone))}" for i in shifts
    )


def _practitioner_columns(
    day: LocationDay,
    book_url: str,
    practitioner_url: Callable | None,
    offer: Offer | None,
    free: FreeStarts | None,
) -> list[Column]:
    zone, rules = day.location.zone, day.availability.rules
    practitioners = dict(day.availability.practitioners)
    booked: dict[int, list[Entry]] = defaultdict(list)
    for entry in day.on_grid:
        practitioners.setdefault(entry.appointment.practitioner_id, entry.appointment.practitioner)
        booked[entry.appointment.practitioner_id].append(entry)
    columns = []
    for pid, practitioner in sorted(practitioners.items(), key=lambda p: (p[1].name, p[0])):
        calendar = day.availability.calendars.get(pid)
        shifts = working_intervals(day.day, rules, calendar) if calendar else []
        if not shifts and not booked[pid]:
            continue
        hours = _shift_hours(shifts, zone)
        certified = calendar is not None and calendar.is_certified_on(day.day)
        column = Column(
            title=practitioner.name,
            subtitle=" · ".join(filter(None, [hours or "Not working", "DN" if certified else ""])),
            url=practitioner_url(practitioner) if practitioner_url else "",
            drop=f"practitioner={pid}",
        )
        column.items += shift_items(shifts, zone, day.day)
        if calendar:
            column.items += time_off_items(calendar, zone, day.day)
        for starts_at, ends_at, where in day.away.get(pid, ()):
            column.items.append(
                Item(
                    "away",
                    minute_of_day(starts_at, zone, day.day),
                    minute_of_day(ends_at, zone, day.day),
                    label=f"At {where}",
                )
            )
        _add_booked_and_free(
            column,
            day,
            booked[pid],
            offer,
            None if free is None else free.by_practitioner.get(pid, []),
            booking_link(book_url, practitioner=pid),
            f"with {practitioner.name}",
        )
        columns.append(column)
    return columns


def _room_columns(
    day: LocationDay, book_url: str, offer: Offer | None, free: FreeStarts | None
) -> list[Column]:
    booked: dict[int, list[Entry]] = defaultdict(list)
    rooms = {room.pk: room for room in day.availability.room_list}
    for entry in day.on_grid:
        rooms.setdefault(entry.appointment.room_id, entry.appointment.room)
        booked[entry.appointment.room_id].append(entry)
    columns = []
    for rid, room in sorted(rooms.items(), key=lambda r: (r[1].name, r[0])):
        column = Column(title=room.name, drop=f"room={rid}")
        _add_booked_and_free(
            column,
            day,
            booked[rid],
            offer,
            None if free is None else free.by_room.get(rid, []),
            booking_link(book_url, room=rid),
            f"in {room.name}",
        )
        columns.append(column)
    return columns


def _add_booked_and_free(
    column: Column,
    day: LocationDay,
    booked: list[Entry],
    offer: Offer | None,
    starts: list[int] | None,
    link: Callable[[dt.datetime], str],
    where: str,
) -> None:
    """A column's appointments, then, when a time is being offered, its free `starts`, each a
    `link` to book there."""
    column.items += [appointment_item(e, day.location.zone, day.day) for e in booked]
    if offer is not None and starts is not None:
        column.items += start_items(starts, offer, day.availability, day.day, link, where)


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
                pieces = intervals_minus(
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
    offer: Offer | None = None,
) -> Grid:
    """`per="location"`: one column per location for a single day; `per="day"`: one column
    per day (a week), items from all the practitioner's locations."""
    pid = loaded.practitioner.pk
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
            hours = _shift_hours(shifts, zone)
            if per == "location":
                column.subtitle = hours or "Not working"
            elif hours:
                prefix = f"{location.name} " if multi else ""
                column.subtitle = "; ".join(filter(None, [column.subtitle, prefix + hours]))
            column.items += shift_items(shifts, zone, day, location.name if multi else "")
            if calendar:
                column.items += time_off_items(calendar, zone, day)
            column.items += [appointment_item(e, zone, day) for e in here]
            if calendar and book_url and offer is not None:
                start, end = day_bounds(day, zone)
                free = free_starts(availability, offer, start, end, loaded.now)
                column.items += start_items(
                    free.by_practitioner.get(pid, []),
                    offer,
                    availability,
                    day,
                    booking_link(_offer_url(book_url(location), offer), practitioner=pid),
                    f"at {location.name}",
                )
            if (minutes := opening_minutes(availability, day)) is not None:
                opening.append(minutes)
        for starts_at, ends_at, where in loaded.elsewhere:
            zone = where.zone
            if starts_at.astimezone(zone).date() != day:
                continue
            item = Item(
                "away",
                minute_of_day(starts_at, zone, day),
                minute_of_day(ends_at, zone, day),
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
