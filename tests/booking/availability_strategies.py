"""Hypothesis strategies for `test_availability_properties.py`: random but plausible worlds
of one location's schedule, and the plain inputs `booking.availability` takes for them.

A world is kept in whole minutes since the epoch (UTC) wherever it speaks of instants, so the
brute-force oracle can walk it minute by minute. `engine_inputs` turns it into what
`booking.selectors.load_availability` would hand the engine: appointments here block the
practitioner and their room until their buffer ends; appointments at another location block the
practitioner from the travel time before them until the travel time after their buffer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from booking.availability import (
    Busy,
    Interval,
    LocationRules,
    PractitionerCalendar,
    Rooms,
    SlotQuery,
)
from clinic.models import DEFAULT_TRAVEL_MINUTES

UTC = dt.UTC
ZONES = (ZoneInfo("America/Toronto"), ZoneInfo("America/New_York"))
SPRING_FORWARD = dt.date(2027, 3, 14)
FALL_BACK = dt.date(2027, 11, 7)
HERE = 1  # the location whose availability is searched
ELSEWHERE = (2, 3)  # other locations the practitioners also work at
ANOTHER_PRACTITIONER = 99  # works here too, but is not searched: only takes rooms and patients
BOGUS_ROOM = 404  # a room id that is not at this location
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
DAY = 24 * 60


def minutes_of(moment: dt.datetime) -> int:
    return int((moment - EPOCH).total_seconds()) // 60


def instant(minute: int) -> dt.datetime:
    return EPOCH + dt.timedelta(minutes=minute)


def wall(minute_of_day: int) -> dt.time:
    return dt.time(minute_of_day // 60, minute_of_day % 60)


@dataclass(frozen=True)
class Appointment:
    practitioner_id: int
    location_id: int
    start: int  # minutes since the epoch
    minutes: int
    buffer: int  # the buffer of the location it is at
    room_id: int | None  # rooms only matter here
    ours: bool  # the searching patient's own appointment

    @property
    def end(self) -> int:
        return self.start + self.minutes

    @property
    def blocks_until(self) -> int:
        return self.end + self.buffer


@dataclass(frozen=True)
class Practitioner:
    id: int
    weekly: dict[int, list[tuple[dt.time, dt.time]]]  # weekday -> hours here, wall clock
    extra: list[tuple[int, int]]  # extra hours here, minutes since the epoch
    time_off: list[tuple[int, int]]  # anywhere
    certified: list[tuple[dt.date, dt.date]]  # valid from, valid until (inclusive)


@dataclass(frozen=True)
class World:
    zone: ZoneInfo
    window_start: int
    window_end: int
    now: int
    length: int
    step: int
    needs_certification: bool
    for_patient: bool
    with_patient: bool
    opening: dict[int, tuple[dt.time, dt.time]]
    holidays: frozenset[dt.date]
    buffer: int
    min_notice: int
    horizon_days: int
    practitioners: list[Practitioner]
    rooms: list[int]
    travel: dict[int, int | None]  # other location -> minutes from here (None: the default)
    appointments: list[Appointment] = field(default_factory=list)
    chosen_room: int | None = None  # a room asked for by name, as staff may

    def travel_to(self, location_id: int) -> int:
        minutes = self.travel[location_id]
        return DEFAULT_TRAVEL_MINUTES if minutes is None else minutes


# --- Strategies ---------------------------------------------------------------------------

# Wall-clock times on a five-minute grid: mostly in the working day, but the daylight-saving
# hours (1:00 to 3:00) are drawn often too: they are where a wall-clock time can be skipped or
# happen twice.
wall_minutes = st.one_of(
    st.integers(6 * 12, 21 * 12).map(lambda n: n * 5),
    st.integers(6 * 4, 21 * 4).map(lambda n: n * 15),
    st.integers(0, DAY // 5 - 1).map(lambda n: n * 5),
    st.integers(60 // 5, 180 // 5).map(lambda n: n * 5),
)


@st.composite
def hours(draw, pieces: int) -> list[tuple[dt.time, dt.time]]:
    """Up to `pieces` non-overlapping spans of a day, sometimes back to back."""
    cuts = sorted(draw(st.sets(wall_minutes, min_size=2, max_size=pieces + 1)))
    spans = list(zip(cuts, cuts[1:], strict=False))
    if len(spans) > 1 and draw(st.booleans()):
        spans = spans[::2]  # with a gap between them, not back to back
    return [(wall(a), wall(b)) for a, b in spans]


def sometimes(strategy):
    """`strategy`, or now and then nothing (Hypothesis favours the first choice)."""
    return st.one_of(strategy, st.just([]))


# A clinic's usual day, its whole day, or any span.
opening_hours = st.one_of(
    st.sampled_from([(7, 20), (8, 18), (0, 23)]).map(lambda h: [(dt.time(h[0]), dt.time(h[1]))]),
    hours(1),
)


anchor_days = st.one_of(
    st.integers(-3, 3).map(lambda n: SPRING_FORWARD + dt.timedelta(days=n)),
    st.integers(-3, 3).map(lambda n: FALL_BACK + dt.timedelta(days=n)),
    st.dates(dt.date(2027, 1, 1), dt.date(2028, 12, 31)),
    st.just(dt.date(2028, 2, 29)),
)


def intervals_near(start: int, end: int, longest: int, most: int):
    return st.lists(
        st.tuples(st.integers(start, end), st.integers(5, longest)).map(
            lambda pair: (pair[0], pair[0] + pair[1])
        ),
        max_size=most,
    )


@st.composite
def worlds(draw) -> World:
    zone = draw(st.sampled_from(ZONES))
    anchor = draw(anchor_days)
    midnight = minutes_of(dt.datetime.combine(anchor, dt.time(), tzinfo=zone))
    window_start = midnight + draw(st.one_of(st.just(0), st.integers(0, DAY - 1)))
    window_end = window_start + draw(st.integers(60, 3 * DAY))
    around = (window_start - DAY, window_end + DAY)
    length = draw(st.sampled_from([15, 20, 30, 45, 60]))
    step = draw(st.sampled_from([15, 15, 30]))
    min_notice = draw(st.sampled_from([0, 60, 120, 24 * 60]))
    horizon_days = draw(st.integers(1, 10))
    some_time_in_window = window_start + draw(st.integers(0, window_end - window_start))
    now = draw(
        st.sampled_from(
            [
                some_time_in_window,
                # so that the notice or the horizon ends inside the window
                some_time_in_window - min_notice,
                some_time_in_window - horizon_days * DAY,
                window_start + draw(st.integers(-3 * DAY, 2 * DAY)),
            ]
        )
    )
    if draw(st.booleans()):
        now -= now % step  # on the grid, so the notice and horizon edges are slot times

    opening = {weekday: span[0] for weekday in range(7) if (span := draw(sometimes(opening_hours)))}
    days = [anchor + dt.timedelta(days=n) for n in range(-2, 5)]
    holidays = frozenset(draw(st.lists(st.sampled_from(days), max_size=2)))

    practitioners = []
    for pid in range(1, draw(st.integers(1, 3)) + 1):
        weekly = {
            weekday: spans
            for weekday in range(7)
            if (spans := draw(sometimes(st.one_of(hours(2), hours(3)))))
        }
        certified = [
            (anchor + dt.timedelta(days=a), anchor + dt.timedelta(days=a + n))
            for a, n in draw(st.lists(st.tuples(st.integers(-4, 4), st.integers(1, 3)), max_size=2))
        ]
        practitioners.append(
            Practitioner(
                id=pid,
                weekly=weekly,
                extra=draw(intervals_near(*around, longest=10 * 60, most=2)),
                time_off=draw(intervals_near(*around, longest=2 * DAY, most=2)),
                certified=certified,
            )
        )

    rooms = list(range(1, draw(st.integers(1, 3)) + 1))
    travel = {location: draw(st.one_of(st.none(), st.integers(0, 240))) for location in ELSEWHERE}
    buffer = draw(st.sampled_from([0, 5, 10, 15, 30, 120]))
    elsewhere_buffer = {location: draw(st.sampled_from([0, 5, 10])) for location in ELSEWHERE}

    appointments = []
    for _ in range(draw(st.integers(0, 8))):
        pid = draw(st.sampled_from([p.id for p in practitioners] + [ANOTHER_PRACTITIONER]))
        location = draw(st.sampled_from((HERE, HERE, *ELSEWHERE)))
        appointments.append(
            Appointment(
                practitioner_id=pid,
                location_id=location,
                start=draw(st.integers(*around)),
                minutes=draw(st.sampled_from([15, 20, 30, 45, 60, 90])),
                buffer=buffer if location == HERE else elsewhere_buffer[location],
                room_id=draw(st.sampled_from(rooms)) if location == HERE else None,
                ours=draw(st.booleans()),
            )
        )
    for_patient = draw(st.booleans())
    return World(
        zone=zone,
        window_start=window_start,
        window_end=window_end,
        now=now,
        length=length,
        step=step,
        needs_certification=draw(st.booleans()),
        for_patient=for_patient,
        with_patient=draw(st.booleans()),
        opening=opening,
        holidays=holidays,
        buffer=buffer,
        min_notice=min_notice,
        horizon_days=horizon_days,
        practitioners=practitioners,
        rooms=rooms,
        travel=travel,
        appointments=appointments,
        chosen_room=None
        if for_patient
        else draw(st.one_of(st.none(), st.sampled_from([*rooms, BOGUS_ROOM]))),
    )


# --- What the engine is given -----------------------------------------------------------------


@dataclass
class EngineInputs:
    query: SlotQuery
    rules: LocationRules
    calendars: list[PractitionerCalendar]
    rooms: Rooms
    patient_busy: Busy | None


def engine_inputs(world: World) -> EngineInputs:
    """The world as `load_availability` hands it to the pure functions."""
    seconds = 60
    busy: dict[int, list[tuple[int, int]]] = {p.id: [] for p in world.practitioners}
    room_busy: dict[int, list[tuple[int, int]]] = {r: [] for r in world.rooms}
    patient_busy = []
    for a in world.appointments:
        if a.practitioner_id in busy:
            gap = 0 if a.location_id == HERE else world.travel_to(a.location_id)
            busy[a.practitioner_id].append(
                ((a.start - gap) * seconds, (a.blocks_until + gap) * seconds)
            )
        if a.location_id == HERE:
            room_busy[a.room_id].append((a.start * seconds, a.blocks_until * seconds))
        if a.ours:
            patient_busy.append((a.start * seconds, a.end * seconds))

    def spans(pairs):
        return [Interval(instant(a), instant(b)) for a, b in pairs]

    return EngineInputs(
        query=SlotQuery(
            window_start=instant(world.window_start),
            window_end=instant(world.window_end),
            length=dt.timedelta(minutes=world.length),
            now=instant(world.now),
            needs_certification=world.needs_certification,
            for_patient=world.for_patient,
            step=dt.timedelta(minutes=world.step),
        ),
        rules=LocationRules(
            location_id=HERE,
            zone=world.zone,
            opening=dict(world.opening),
            holidays=world.holidays,
            buffer=dt.timedelta(minutes=world.buffer),
            min_notice=dt.timedelta(minutes=world.min_notice),
            horizon=dt.timedelta(days=world.horizon_days),
        ),
        calendars=[
            PractitionerCalendar(
                practitioner_id=p.id,
                weekly={d: list(s) for d, s in p.weekly.items()},
                extra=spans(p.extra),
                time_off=spans(p.time_off),
                certified=list(p.certified),
                busy=Busy.from_seconds(busy[p.id]),
            )
            for p in world.practitioners
        ],
        rooms=Rooms({r: Busy.from_seconds(room_busy[r]) for r in world.rooms}),
        patient_busy=Busy.from_seconds(patient_busy) if world.with_patient else None,
    )
