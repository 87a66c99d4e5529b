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
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from clinic.models import Service

UTC = dt.UTC


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a daylight-saving change (e.g. 2:30 on spring-forward day)."""


def aware(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The instant at wall-clock `wall` on `day` in `zone`, in UTC.

    A wall time inside a spring-forward gap maps to the instant just after the gap, when the
    clocks jump past it (hours "from 2:30" start at 3:00); one that happens twice in the
    autumn maps to its first occurrence."""
    local = dt.datetime.combine(day, wall, tzinfo=zone)
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment
    # Skipped: read with the offset after the change it falls before the change, read with
    # the one before it falls after; the change itself is the first second in between that
    # has the new offset.
    before = _ts(local.replace(fold=1).astimezone(UTC))
    after = _ts(moment)
    offset = moment.astimezone(zone).utcoffset()
    while before < after:
        middle = (before + after) // 2
        if _from_ts(middle).astimezone(zone).utcoffset() == offset:
            after = middle
        else:
            before = middle + 1
    return _from_ts(after)


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


def _ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def _from_ts(seconds: int) -> dt.datetime:
    # Several times faster than datetime.fromtimestamp(seconds, UTC) for thousands of slots.
    return EPOCH + dt.timedelta(seconds=seconds)


class Busy:
    """Sorted, merged busy intervals with a fast overlap test.

    Kept as whole seconds since the epoch: the slot search tests thousands of candidates,
    and integer comparisons are several times faster than datetime ones."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[Interval] = ()):
        self.starts, self.ends = self._merged(sorted((_ts(i.start), _ts(i.end)) for i in intervals))

    @classmethod
    def from_seconds(cls, pairs: Iterable[tuple[int, int]]) -> Busy:
        """From (start, end) pairs in seconds since the epoch, as the selectors load them."""
        busy = cls.__new__(cls)
        busy.starts, busy.ends = cls._merged(sorted(pairs))
        return busy

    @staticmethod
    def _merged(pairs: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
        starts: list[int] = []
        ends: list[int] = []
        for start, end in pairs:
            if ends and start <= ends[-1]:
                if end > ends[-1]:
                    ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
        return starts, ends

    def overlaps_ts(self, start: int, end: int) -> bool:
        # The first interval ending after `start` is the only one that can overlap.
        index = bisect_right(self.ends, start)
        return index < len(self.starts) and self.starts[index] < end

    def overlaps(self, start: dt.datetime, end: dt.datetime) -> bool:
        return self.overlaps_ts(_ts(start), _ts(end))

    @property
    def intervals(self) -> list[Interval]:
        return [
            Interval(_from_ts(a), _from_ts(b)) for a, b in zip(self.starts, self.ends, strict=True)
        ]

    def __bool__(self) -> bool:
        return bool(self.starts)


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

    def __post_init__(self) -> None:
        self.extra_seconds = Busy(self.extra)
        self.time_off_seconds = Busy(self.time_off)

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

    @classmethod
    def for_service(
        cls,
        service: Service,
        minutes: int,
        window_start: dt.datetime,
        window_end: dt.datetime,
        *,
        now: dt.datetime,
        for_patient: bool,
        step: dt.timedelta | None = None,
    ) -> SlotQuery:
        """Slots of `minutes` for `service` from `window_start` to `window_end`: needling
        only with a practitioner certified that day."""
        return cls(
            window_start=window_start,
            window_end=window_end,
            length=dt.timedelta(minutes=minutes),
            now=now,
            needs_certification=service.needs_dry_needling_certification,
            for_patient=for_patient,
            step=step or cls.step,
        )


class Slot(NamedTuple):
    """A free time: a practitioner and a room at a location. Kept in seconds since the epoch
    (a search finds thousands; only the few shown need datetimes)."""

    start: int
    end: int
    practitioner_id: int
    room_id: int
    location_id: int

    @property
    def starts_at(self) -> dt.datetime:
        return _from_ts(self.start)

    @property
    def ends_at(self) -> dt.datetime:
        return _from_ts(self.end)


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


class _Instants:
    """Wall-clock times of local dates as (seconds since the epoch, UTC offset in seconds),
    remembered: every practitioner's 9:00 on a day is the same instant."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone
        self.cache: dict[tuple[dt.date, dt.time], tuple[int, int]] = {}

    def __call__(self, day: dt.date, wall: dt.time) -> tuple[int, int]:
        key = (day, wall)
        found = self.cache.get(key)
        if found is None:
            seconds = _ts(aware(day, wall, self.zone))
            # The clock's own offset then (not the wall time's: a skipped one is moved to
            # the change), so that slots sit on the clock's grid.
            found = self.cache[key] = (seconds, self.offset_at(seconds))
        return found

    def offset_at(self, seconds: int) -> int:
        return int(_from_ts(seconds).astimezone(self.zone).utcoffset().total_seconds())


def _working_spans(
    day: dt.date, rules: LocationRules, calendar: PractitionerCalendar, instant: _Instants
) -> list[tuple[int, int, int]]:
    """(start, end, UTC offset) spans, in seconds, when the practitioner works at the location
    on the local date `day`: weekly hours within opening hours unless it is a holiday, plus
    extra hours, minus time off."""
    weekday = day.weekday()
    spans: list[tuple[int, int, int]] = []
    opening = rules.opening.get(weekday)
    if opening and day not in rules.holidays:
        opens, closes = opening
        for start, end in calendar.weekly.get(weekday, ()):
            start, end = max(start, opens), min(end, closes)
            if start < end:
                first, offset = instant(day, start)
                spans.append((first, instant(day, end)[0], offset))
    extra = calendar.extra_seconds
    if extra:
        day_start = instant(day, dt.time.min)[0]
        day_end = instant(day + dt.timedelta(days=1), dt.time.min)[0]
        # Extra hours are set explicitly for a date, so they count even on a closed day.
        for a, b in zip(extra.starts, extra.ends, strict=True):
            if a < day_end and day_start < b:
                a, b = max(a, day_start), min(b, day_end)
                spans.append((a, b, instant.offset_at(a)))
    if len(spans) > 1:
        # Back-to-back weekly hours (9–12, 12–15) and extra hours next to them are one
        # stretch of work: an appointment may run across the seam.
        spans.sort()
        merged: list[tuple[int, int, int]] = []
        for span in spans:
            if merged and span[0] <= merged[-1][1]:
                if span[1] > merged[-1][1]:
                    merged[-1] = (merged[-1][0], span[1], merged[-1][2])
            else:
                merged.append(span)
        spans = merged
    off = calendar.time_off_seconds
    if off:
        cut: list[tuple[int, int, int]] = []
        for start, end, offset in spans:
            for a, b in zip(off.starts, off.ends, strict=True):
                if b <= start or a >= end:
                    continue
                if a > start:
                    cut.append((start, a, offset))
                start = max(start, b)
                if start >= end:
                    break
            if start < end:
                cut.append((start, end, offset))
        spans = cut
    return spans


def working_intervals(
    day: dt.date, rules: LocationRules, calendar: PractitionerCalendar
) -> list[Interval]:
    """When `calendar`'s practitioner works at the location on the local date `day`."""
    return [
        Interval(_from_ts(start), _from_ts(end))
        for start, end, _ in _working_spans(day, rules, calendar, _Instants(rules.zone))
    ]


def _local_days(query: SlotQuery, zone: ZoneInfo) -> list[dt.date]:
    first = query.window_start.astimezone(zone).date()
    last = query.window_end.astimezone(zone).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


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
    buffer ends (nor travelling), a room is free for as long, the patient is free, it is
    not past, and — for patients — it respects the minimum notice and the horizon."""
    earliest = query.window_start
    latest = query.window_end
    if query.for_patient:
        earliest = max(earliest, query.now + rules.min_notice)
        latest = min(latest, query.now + rules.horizon)
    else:
        earliest = max(earliest, query.now)  # staff cannot book the past either
    if earliest >= latest:
        return []
    length = int(query.length.total_seconds())
    block = length + int(rules.buffer.total_seconds())
    step = int(query.step.total_seconds())
    earliest_ts, latest_ts = _ts(earliest), _ts(latest)
    days = _local_days(query, rules.zone)
    instant = _Instants(rules.zone)
    found: list[tuple[int, int, int]] = []  # (start, practitioner, room), in seconds
    append = found.append
    free_room = rooms.free_room_ts
    patient_busy = patient_busy if patient_busy else None
    for calendar in calendars:
        busy_starts, busy_ends = calendar.busy.starts, calendar.busy.ends
        busy_count = len(busy_starts)
        practitioner_id = calendar.practitioner_id
        for day in days:
            if query.needs_certification and not calendar.is_certified_on(day):
                continue
            for span_start, span_end, offset in _working_spans(day, rules, calendar, instant):
                last_start = min(span_end - length, latest_ts - 1)
                lower = max(span_start, earliest_ts)
                index = bisect_right(busy_ends, lower)  # the first busy time ending after `lower`
                # Walk the free gaps between busy times; in each gap every grid time that
                # leaves room for the appointment and its buffer is a candidate.
                while lower <= last_start:
                    lower += -(lower + offset) % step  # onto the local wall-clock grid
                    upper = last_start
                    if index < busy_count:
                        upper = min(upper, busy_starts[index] - block)
                    for start in range(lower, upper + 1, step):
                        if patient_busy is None or not patient_busy.overlaps_ts(
                            start, start + length
                        ):
                            room_id = free_room(start, start + block)
                            if room_id is not None:
                                append((start, practitioner_id, room_id))
                    if index >= busy_count:
                        break
                    lower = max(lower, busy_ends[index])
                    index += 1
    found.sort()
    location_id = rules.location_id
    return [Slot(start, start + length, pid, room, location_id) for start, pid, room in found]


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
        # As in `free_slots` (and the patient pages' windows): the horizon's instant is out.
        if starts_at >= query.now + rules.horizon:
            problems.append(
                f"This time is too far ahead: online booking opens {_describe(rules.horizon)} ahead."
            )
        # The pages and $find offer times on the local clock's grid only; a time typed into a
        # tampered form or a made-up Slot id (10:07, or 10:00:30) would leave the practitioner
        # gaps no one can book. Staff may still book any minute by phone.
        if not on_the_grid(starts_at.astimezone(rules.zone), query.step):
            problems.append(
                "Online, appointments start at the times offered (every "
                f"{_describe(query.step)}); please choose one of them."
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


def on_the_grid(local: dt.datetime, step: dt.timedelta) -> bool:
    """Whether a local wall-clock time is one of the grid's (every `step` from midnight)."""
    since_midnight = dt.timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    return since_midnight % step == dt.timedelta(0)


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
