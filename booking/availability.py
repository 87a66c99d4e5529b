"""Free slots, computed in plain Python.

`booking.selectors.load_availability` loads everything a window needs in a fixed number of
queries and turns it into the plain data below; the functions here do no database work, so
they are fast and can be tested with hand-worked cases. The booking services check a slot
again, and PostgreSQL's constraints have the last word, when an appointment is written.

All datetimes are aware. Weekly hours are wall-clock times at the location, turned into
instants day by day with the location's time zone, so that slots stay at 9:00 local time
on both sides of a daylight-saving change.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a daylight-saving change (e.g. 2:30 on spring-forward day)."""


def aware(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The instant at wall-clock `wall` on `day` in `zone`, in UTC.

    A wall time inside a spring-forward gap maps to the instant just after the gap
    (fold=0 semantics), which keeps working-hour intervals the right length."""
    return dt.datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def aware_strict(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Like `aware`, but refuses a wall time that does not exist on that day."""
    local = dt.datetime.combine(day, wall, tzinfo=zone)
    back = local.astimezone(UTC).astimezone(zone)
    if (back.date(), back.time().replace(tzinfo=None)) != (day, wall.replace(tzinfo=None)):
        raise NonexistentLocalTime(
            f"{wall:%H:%M} does not exist on {day:%d %B %Y} in {zone.key}: the clocks go forward."
        )
    return local.astimezone(UTC)


@dataclass(frozen=True, order=True)
class Interval:
    start: dt.datetime
    end: dt.datetime

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.start < end and start < self.end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping intervals covering the same time."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """`intervals` minus `holes`; both sorted and merged."""
    result: list[Interval] = []
    for interval in intervals:
        start = interval.start
        for hole in holes:
            if hole.end <= start or hole.start >= interval.end:
                continue
            if hole.start > start:
                result.append(Interval(start, hole.start))
            start = max(start, hole.end)
            if start >= interval.end:
                break
        if start < interval.end:
            result.append(Interval(start, interval.end))
    return result


def _ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


class Busy:
    """Sorted, merged busy intervals with a fast overlap test.

    Kept as whole seconds since the epoch: the slot search tests thousands of candidates,
    and integer comparisons are several times faster than datetime ones."""

    __slots__ = ("ends", "intervals", "starts")

    def __init__(self, intervals: Iterable[Interval] = ()):
        self.intervals = merge(intervals)
        self.starts = [_ts(i.start) for i in self.intervals]
        self.ends = [_ts(i.end) for i in self.intervals]

    def overlaps_ts(self, start: int, end: int) -> bool:
        # The first interval ending after `start` is the only one that can overlap.
        index = bisect_right(self.ends, start)
        return index < len(self.starts) and self.starts[index] < end

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.overlaps_ts(_ts(start), _ts(end))

    def __bool__(self) -> bool:
        return bool(self.intervals)


@dataclass(frozen=True)
class LocationRules:
    location_id: int
    zone: ZoneInfo
    opening: dict[int, tuple[dt.time, dt.time]]  # weekday -> (opens, closes), local time
    holidays: frozenset[dt.date]
    buffer: dt.timedelta
    min_notice: dt.timedelta
    horizon: dt.timedelta


@dataclass
class PractitionerCalendar:
    """One practitioner as seen from one location for the window."""

    practitioner_id: int
    weekly: dict[int, list[tuple[dt.time, dt.time]]]  # weekday -> hours at this location
    extra: list[Interval] = field(default_factory=list)  # extra hours at this location
    time_off: list[Interval] = field(default_factory=list)
    certified: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    # Appointments and others' holds (until their buffer ends) anywhere; those at other
    # locations widened by the travel time on both sides.
    busy: Busy = field(default_factory=Busy)

    def is_certified_on(self, day: dt.date) -> bool:
        return any(start <= day <= end for start, end in self.certified)


@dataclass(frozen=True)
class SlotQuery:
    window_start: dt.datetime
    window_end: dt.datetime
    length: dt.timedelta
    now: dt.datetime
    needs_certification: bool = False
    for_patient: bool = True  # apply the minimum notice and the horizon
    step: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    practitioner_id: int
    room_id: int
    location_id: int


@dataclass
class Rooms:
    """The location's rooms in the order they are given out, with their busy time."""

    busy: dict[int, Busy]  # room id -> busy

    def free_room_ts(self, start: int, end: int) -> int | None:
        for room_id, busy in self.busy.items():
            if not busy.overlaps_ts(start, end):
                return room_id
        return None

    def free_room(self, start: dt.datetime, end: dt.datetime) -> int | None:
        return self.free_room_ts(_ts(start), _ts(end))


def working_intervals(
    day: dt.date, rules: LocationRules, calendar: PractitionerCalendar
) -> list[Interval]:
    """When `calendar`'s practitioner works at the location on the local date `day`."""
    weekday = day.weekday()
    intervals: list[Interval] = []
    opening = rules.opening.get(weekday)
    if opening and day not in rules.holidays:
        opens, closes = opening
        for start, end in calendar.weekly.get(weekday, ()):
            start, end = max(start, opens), min(end, closes)
            if start < end:
                intervals.append(
                    Interval(aware(day, start, rules.zone), aware(day, end, rules.zone))
                )
    day_start = aware(day, dt.time.min, rules.zone)
    day_end = aware(day + dt.timedelta(days=1), dt.time.min, rules.zone)
    # Extra hours are set explicitly for a date, so they count even on a closed day.
    for extra in calendar.extra:
        if extra.overlaps(day_start, day_end):
            intervals.append(Interval(max(extra.start, day_start), min(extra.end, day_end)))
    return subtract(merge(intervals), merge(calendar.time_off))


def _local_days(query: SlotQuery, zone: ZoneInfo) -> list[dt.date]:
    first = query.window_start.astimezone(zone).date()
    last = query.window_end.astimezone(zone).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _first_on_grid(start: dt.datetime, step: dt.timedelta, zone: ZoneInfo) -> dt.datetime:
    """The first instant at or after `start` that falls on the local wall-clock grid of `step`."""
    local = start.astimezone(zone)
    step_minutes = int(step.total_seconds() // 60)
    minutes = local.hour * 60 + local.minute
    over = minutes % step_minutes
    if over == 0 and local.second == 0 and local.microsecond == 0:
        return start
    bump = dt.timedelta(
        minutes=step_minutes - over, seconds=-local.second, microseconds=-local.microsecond
    )
    return start + bump


def free_slots(
    query: SlotQuery,
    rules: LocationRules,
    calendars: Iterable[PractitionerCalendar],
    rooms: Rooms,
    patient_busy: Busy | None = None,
) -> list[Slot]:
    """Every free slot of `query.length` in the window, earliest first.

    A slot is free when the practitioner works then at this location (weekly hours within
    opening hours, not a holiday, plus extra hours, minus time off), is certified on that
    local date if the service needs it, is not busy anywhere until the new appointment's
    buffer ends (nor travelling), a room is free for as long, the patient is free, and —
    for patients — it respects the minimum notice and the horizon."""
    earliest = query.window_start
    latest = query.window_end
    if query.for_patient:
        earliest = max(earliest, query.now + rules.min_notice)
        latest = min(latest, query.now + rules.horizon)
    if earliest >= latest:
        return []
    patient_busy = patient_busy or Busy()
    length = int(query.length.total_seconds())
    block = length + int(rules.buffer.total_seconds())
    step = int(query.step.total_seconds())
    latest_ts = _ts(latest)
    days = _local_days(query, rules.zone)
    found: list[tuple[int, int, int]] = []  # (start, practitioner, room), in seconds
    for calendar in calendars:
        busy = calendar.busy
        for day in days:
            if query.needs_certification and not calendar.is_certified_on(day):
                continue
            for interval in working_intervals(day, rules, calendar):
                start = _ts(_first_on_grid(max(interval.start, earliest), query.step, rules.zone))
                last_start = min(_ts(interval.end) - length, latest_ts - 1)
                while start <= last_start:
                    if not busy.overlaps_ts(start, start + block) and not patient_busy.overlaps_ts(
                        start, start + length
                    ):
                        room_id = rooms.free_room_ts(start, start + block)
                        if room_id is not None:
                            found.append((start, calendar.practitioner_id, room_id))
                    start += step
    found.sort()
    location_id = rules.location_id
    return [
        Slot(
            starts_at=(moment := dt.datetime.fromtimestamp(start, UTC)),
            ends_at=moment + query.length,
            practitioner_id=practitioner_id,
            room_id=room_id,
            location_id=location_id,
        )
        for start, practitioner_id, room_id in found
    ]


def slot_problems(
    *,
    starts_at: dt.datetime,
    query: SlotQuery,
    rules: LocationRules,
    calendar: PractitionerCalendar,
    rooms: Rooms,
    patient_busy: Busy | None = None,
    room_id: int | None = None,
) -> tuple[list[str], int | None]:
    """Why the slot at `starts_at` cannot be booked (empty when it can), and the room to use.

    Uses the same rules as `free_slots`, for a start time that need not be on the grid."""
    problems: list[str] = []
    end = starts_at + query.length
    block = query.length + rules.buffer
    day = starts_at.astimezone(rules.zone).date()
    if query.for_patient:
        if starts_at < query.now + rules.min_notice:
            problems.append(
                "This time is too soon to book online"
                f" (at least {_describe(rules.min_notice)} notice); please phone the clinic."
            )
        if starts_at > query.now + rules.horizon:
            problems.append(
                f"This time is too far ahead: online booking opens {_describe(rules.horizon)} ahead."
            )
    elif starts_at < query.now:
        problems.append("This time is in the past.")
    if day in rules.holidays and not any(e.overlaps(starts_at, end) for e in calendar.extra):
        problems.append(f"The location is closed on {day:%A %d %B}.")
    elif not any(
        i.start <= starts_at and end <= i.end for i in working_intervals(day, rules, calendar)
    ):
        problems.append("The practitioner is not working at this location at that time.")
    if query.needs_certification and not calendar.is_certified_on(day):
        problems.append("The practitioner has no dry-needling certification current on that date.")
    if calendar.busy.overlaps(starts_at, starts_at + block):
        problems.append(
            "The practitioner is busy then (another appointment, its buffer, or travel between "
            "locations)."
        )
    if patient_busy is not None and patient_busy.overlaps(starts_at, end):
        problems.append("The patient already has an appointment at that time.")
    if room_id is not None:
        busy = rooms.busy.get(room_id)
        chosen = (
            room_id
            if busy is not None and not busy.overlaps(starts_at, starts_at + block)
            else None
        )
        if busy is None:
            problems.append("That room is not at this location.")
        elif chosen is None:
            problems.append("That room is taken at that time.")
    else:
        chosen = rooms.free_room(starts_at, starts_at + block)
        if chosen is None:
            problems.append("No treatment room is free at that time.")
    return problems, chosen


def _describe(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (60 * 24 * 7) == 0 and minutes >= 60 * 24 * 7:
        weeks = minutes // (60 * 24 * 7)
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    if minutes % (60 * 24) == 0 and minutes >= 60 * 24:
        days = minutes // (60 * 24)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"
