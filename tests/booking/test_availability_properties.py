"""The slot search against a brute-force oracle, on worlds Hypothesis makes up.

Hypothesis draws a location (Toronto or Maryland time, dates around both 2027 daylight-saving
changes and elsewhere in 2027–28), its opening hours, holidays, buffer, notice and horizon;
practitioners with weekly hours (sometimes back to back), extra hours, time off and
certifications; rooms; appointments here and at other locations with their travel times; the
patient's own appointments; and a search. The oracle below knows nothing of
`booking.availability`: it restates the clinic's booking rules (docs: domain.md, "Booking
rules") and decides each minute on its own, walking the clock minute by minute. Then:

- every slot `free_slots` offers keeps every rule;
- every time on the slot grid that keeps every rule is offered, for every practitioner;
- `slot_problems` refuses exactly the times the oracle refuses, and each reason it gives names
  a rule the oracle agrees is broken.

The rules, as the oracle reads them:

- A practitioner works here when their weekly hours here and the location's opening hours both
  say so on that local date, unless it is a holiday here; or in extra hours here (which count
  even on a holiday); and never in time off (anywhere). Wall-clock times are read off the clock
  on the wall: a shift "from 9:00" starts at the first instant the clock shows 9:00 or later
  that day (so a time skipped by spring-forward starts when the clocks jump past it, and one
  that happens twice in the autumn is its first occurrence). The whole appointment, not its
  buffer, must be in working time, and within the local date it starts on: a working day
  ends at midnight, even inside extra hours that run past it (the engine builds each local
  day's hours on their own; no clinic books across midnight).
- The practitioner and a room are busy from an appointment's start until its buffer ends
  (its location's buffer). A new appointment needs them until its own buffer ends here.
  Between an appointment at another location and one here, after the earlier one's buffer,
  the practitioner also needs the travel time between the two (30 minutes unless set).
  (Turning appointments into busy times is `load_availability`'s job; `engine_inputs` does it
  the same way here, so these tests prove the pure functions, not that query.)
- The patient cannot be in two appointments at once (no buffer or travel for them).
- Needling needs a certification current on the local date the appointment starts.
- Patients book no sooner than the minimum notice after now, and before the horizon after
  now (8 weeks ahead is already too far, as the patient pages' windows have it); staff book
  anything not in the past.
- Slots are offered on the location's wall-clock grid (every `step` minutes from midnight)
  within the searched window; staff may ask for any minute, patients only for one on the grid.

No database and no wall clock: each example passes its own `now`.
"""

from __future__ import annotations

import datetime as dt
from itertools import accumulate

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from booking.availability import free_slots, slot_problems
from tests.booking.availability_strategies import (
    DAY,
    HERE,
    ZONES,
    Practitioner,
    World,
    engine_inputs,
    instant,
    minutes_of,
    worlds,
)

# Derandomized so CI sees the same examples on every run; the autouse clock fixture is
# function-scoped, which is fine here: nothing below reads the clock.
PROPERTIES = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What each of slot_problems' reasons claims, as a rule the oracle can check.
REASONS = {
    "too soon to book online": {"notice"},
    "too far ahead": {"horizon"},
    "appointments start at the times offered": {"off grid"},
    "in the past": {"past"},
    "location is closed on": {"holiday", "not working"},
    "not working at this location": {"not working"},
    "no dry-needling certification": {"certification"},
    "practitioner is busy": {"practitioner busy"},
    "patient already has an appointment": {"patient busy"},
    "No treatment room is free": {"no room"},
    "That room is not at this location": {"room not here"},
    "That room is taken": {"room taken"},
}


class Oracle:
    """Decides each minute from the rules alone, minute by minute."""

    def __init__(self, world: World):
        self.world = world
        # Every minute that a slot, its buffer and travel can touch, with some room to spare.
        self.lo = world.window_start - 2 * DAY
        self.hi = world.window_end + 2 * DAY
        zone = world.zone
        # The clock on the wall at every minute: its local date and minute of the day.
        self.reading: list[tuple[dt.date, int]] = []
        for minute in range(self.lo, self.hi):
            local = instant(minute).astimezone(zone)
            self.reading.append((local.date(), local.hour * 60 + local.minute))
        first_date = self.reading[0][0] + dt.timedelta(days=1)  # whole days only
        last_date = self.reading[-1][0] - dt.timedelta(days=1)
        self.dates = [
            first_date + dt.timedelta(days=n) for n in range((last_date - first_date).days + 1)
        ]
        self.day_minutes: dict[dt.date, list[int]] = {d: [] for d in self.dates}
        for index, (date, _) in enumerate(self.reading):
            if date in self.day_minutes:
                self.day_minutes[date].append(self.lo + index)
        self.idle = {p.id: self._idle_prefix(p) for p in world.practitioners}

    def when_clock_shows(self, date: dt.date, minute_of_day: int) -> int:
        """The first minute of `date` at which the clock shows `minute_of_day` or later."""
        for minute in self.day_minutes[date]:
            if self.reading[minute - self.lo][1] >= minute_of_day:
                return minute
        return self.day_minutes[date][-1] + 1  # never that late today: the day's end

    def _clock_span(self, date, start: dt.time, end: dt.time) -> range:
        return range(
            self.when_clock_shows(date, start.hour * 60 + start.minute),
            self.when_clock_shows(date, end.hour * 60 + end.minute),
        )

    def _idle_prefix(self, practitioner) -> list[int]:
        """Prefix sums of the minutes the practitioner does not work here."""
        world = self.world
        working = [False] * (self.hi - self.lo)

        def mark(minutes, value):
            for minute in minutes:
                if self.lo <= minute < self.hi:
                    working[minute - self.lo] = value

        for date in self.dates:
            opening = world.opening.get(date.weekday())
            if date in world.holidays or opening is None:
                continue
            open_minutes = set(self._clock_span(date, *opening))
            for start, end in practitioner.weekly.get(date.weekday(), ()):
                mark((m for m in self._clock_span(date, start, end) if m in open_minutes), True)
        for start, end in practitioner.extra:
            mark(range(start, end), True)
        for start, end in practitioner.time_off:
            mark(range(start, end), False)
        return [0, *accumulate(0 if w else 1 for w in working)]

    def on_grid(self, minute: int) -> bool:
        return self.reading[minute - self.lo][1] % self.world.step == 0

    def broken(self, practitioner_id: int, start: int, chosen_room: int | None = None) -> set[str]:
        """The rules a booking with this practitioner at `start` would break."""
        world = self.world
        end = start + world.length
        blocked_until = end + world.buffer  # practitioner and room, here
        broken = set()
        if world.for_patient:
            if start < world.now + world.min_notice:
                broken.add("notice")
            if start >= world.now + world.horizon_days * DAY:
                broken.add("horizon")
            if not self.on_grid(start):
                broken.add("off grid")
        elif start < world.now:
            broken.add("past")

        idle = self.idle[practitioner_id]
        date = self.reading[start - self.lo][0]
        if idle[end - self.lo] - idle[start - self.lo]:
            broken.add("not working")
        if self.reading[end - 1 - self.lo][0] != date:
            broken.add("not working")  # past midnight: the next local day's hours are its own
        if date in world.holidays:
            broken.add("holiday")
        practitioner = next(p for p in world.practitioners if p.id == practitioner_id)
        if world.needs_certification and not any(
            valid_from <= date <= valid_until for valid_from, valid_until in practitioner.certified
        ):
            broken.add("certification")

        for a in world.appointments:
            if a.practitioner_id == practitioner_id:
                if a.location_id == HERE:
                    clash = a.start < blocked_until and start < a.blocks_until
                else:
                    travel = world.travel_to(a.location_id)
                    clash = not (
                        blocked_until + travel <= a.start or a.blocks_until + travel <= start
                    )
                if clash:
                    broken.add("practitioner busy")
            if world.with_patient and a.ours and a.start < end and start < a.end:
                broken.add("patient busy")

        def room_free(room: int) -> bool:
            return not any(
                a.location_id == HERE
                and a.room_id == room
                and a.start < blocked_until
                and start < a.blocks_until
                for a in world.appointments
            )

        if chosen_room is None:
            if not any(room_free(r) for r in world.rooms):
                broken.add("no room")
        elif chosen_room not in world.rooms:
            broken.add("room not here")
        elif not room_free(chosen_room):
            broken.add("room taken")
        return broken

    def bookable(self, practitioner_id: int, start: int, chosen_room: int | None = None) -> bool:
        return not (self.broken(practitioner_id, start, chosen_room) - {"holiday"})


def every_day(hours):
    return {weekday: hours for weekday in range(7)}


# Worlds on two edges the generator reaches only now and then, kept as fixed examples (each
# once found a disagreement between the search, the check and the rules).
EDGE_WORLD = dict(
    zone=ZONES[0],
    window_start=minutes_of(dt.datetime(2027, 3, 13, 5, tzinfo=dt.UTC)),  # Saturday midnight
    window_end=minutes_of(dt.datetime(2027, 3, 16, 4, tzinfo=dt.UTC)),
    length=15,
    step=15,
    needs_certification=False,
    with_patient=False,
    opening=every_day((dt.time(0), dt.time(23))),
    holidays=frozenset(),
    buffer=0,
    min_notice=0,
    horizon_days=1,
    rooms=[1],
    travel={2: None, 3: None},
)
# A patient at Saturday 10:00 EST: Sunday 11:00 EDT is exactly a day later, the horizon.
HORIZON_EDGE = World(
    **EDGE_WORLD,
    for_patient=True,
    now=minutes_of(dt.datetime(2027, 3, 13, 15, tzinfo=dt.UTC)),
    practitioners=[Practitioner(1, every_day([(dt.time(9), dt.time(18))]), [], [], [])],
)
# Staff on spring-forward Sunday: hours "from 2:30" start when the clocks jump to 3:00.
SKIPPED_HOUR = World(
    **EDGE_WORLD,
    for_patient=False,
    now=0,
    practitioners=[Practitioner(1, every_day([(dt.time(2, 30), dt.time(18))]), [], [], [])],
)


def offered(world: World):
    given_ = engine_inputs(world)
    return free_slots(
        given_.query, given_.rules, given_.calendars, given_.rooms, given_.patient_busy
    )


def describe(world: World, practitioner_id: int, start: int) -> str:
    local = instant(start).astimezone(world.zone)
    return f"practitioner {practitioner_id} at {local:%Y-%m-%d %H:%M %Z}"


@PROPERTIES
@given(worlds())
@example(world=HORIZON_EDGE)
@example(world=SKIPPED_HOUR)
def test_every_offered_slot_keeps_every_rule(world):
    oracle = Oracle(world)
    slots = offered(world)
    seen = set()
    for slot in slots:
        start = minutes_of(slot.starts_at)
        where = describe(world, slot.practitioner_id, start)
        assert slot.starts_at.second == 0, where
        assert world.window_start <= start < world.window_end, where
        assert oracle.on_grid(start), where
        assert minutes_of(slot.ends_at) == start + world.length, where
        assert slot.location_id == HERE
        assert oracle.broken(slot.practitioner_id, start) - {"holiday"} == set(), where
        assert oracle.broken(slot.practitioner_id, start, slot.room_id) - {"holiday"} == set(), (
            f"{where}: room {slot.room_id} is not free"
        )
        assert (start, slot.practitioner_id) not in seen, f"{where} offered twice"
        seen.add((start, slot.practitioner_id))
    assert [s.start for s in slots] == sorted(s.start for s in slots)


@PROPERTIES
@given(worlds())
@example(world=HORIZON_EDGE)
@example(world=SKIPPED_HOUR)
def test_every_bookable_time_on_the_grid_is_offered(world):
    oracle = Oracle(world)
    have = {(s.practitioner_id, minutes_of(s.starts_at)) for s in offered(world)}
    for practitioner in world.practitioners:
        for start in range(world.window_start, world.window_end):
            if oracle.on_grid(start) and oracle.bookable(practitioner.id, start):
                assert (practitioner.id, start) in have, (
                    f"{describe(world, practitioner.id, start)} is bookable but not offered"
                )


def minutes_to_ask_about(world: World, picks: list[int]) -> list[int]:
    """A spread of minutes around the window, on and off the grid, the edges of the notice and
    the horizon, and some Hypothesis picks."""
    first, last = world.window_start - 90, world.window_end + 90
    spread = range(first, last, 23)
    edges = [
        edge + nudge
        for edge in (world.now, world.now + world.min_notice, world.now + world.horizon_days * DAY)
        for nudge in (-1, 0, 1)
        if first <= edge + nudge < last
    ]
    return [*spread, *edges, *(first + pick % (last - first) for pick in picks)]


@PROPERTIES
@given(worlds(), st.lists(st.integers(0, 10**6), max_size=15))
@example(world=HORIZON_EDGE, picks=[])
@example(world=SKIPPED_HOUR, picks=[])
def test_a_refused_time_is_refused_for_a_rule_that_is_broken(world, picks):
    oracle = Oracle(world)
    given_ = engine_inputs(world)
    calendars = {c.practitioner_id: c for c in given_.calendars}
    for practitioner in world.practitioners:
        for start in minutes_to_ask_about(world, picks):
            where = describe(world, practitioner.id, start)
            problems, room = slot_problems(
                starts_at=instant(start),
                query=given_.query,
                rules=given_.rules,
                calendar=calendars[practitioner.id],
                rooms=given_.rooms,
                patient_busy=given_.patient_busy,
                room_id=world.chosen_room,
            )
            broken = oracle.broken(practitioner.id, start, world.chosen_room)
            if not problems:
                assert broken - {"holiday"} == set(), f"{where}: accepted, but breaks {broken}"
                assert oracle.bookable(practitioner.id, start, room), f"{where}: room {room}"
                continue
            assert broken - {"holiday"}, f"{where}: refused ({problems}) but breaks no rule"
            for problem in problems:
                claims = [rules for text, rules in REASONS.items() if text in problem]
                assert claims, f"{where}: a reason the oracle does not know: {problem!r}"
                assert claims[0] <= broken, f"{where}: {problem!r}, but the rules broken: {broken}"


def test_the_oracle_reads_the_clock_on_the_wall():
    """The oracle's own footing, checked by hand: spring-forward skips 2:00–2:59."""
    world = World(
        zone=ZONES[0],
        window_start=minutes_of(dt.datetime(2027, 3, 14, 5, tzinfo=dt.UTC)),
        window_end=minutes_of(dt.datetime(2027, 3, 15, 4, tzinfo=dt.UTC)),
        now=0,
        length=15,
        step=15,
        needs_certification=False,
        for_patient=False,
        with_patient=False,
        opening={6: (dt.time(0), dt.time(23))},
        holidays=frozenset(),
        buffer=0,
        min_notice=0,
        horizon_days=1,
        practitioners=[
            Practitioner(1, {6: [(dt.time(2, 30), dt.time(4))]}, [], [], []),
        ],
        rooms=[1],
        travel={},
    )
    oracle = Oracle(world)
    three_edt = minutes_of(dt.datetime(2027, 3, 14, 7, tzinfo=dt.UTC))
    assert oracle.when_clock_shows(dt.date(2027, 3, 14), 2 * 60 + 30) == three_edt
    assert oracle.bookable(1, three_edt)
    assert not oracle.bookable(1, three_edt - 15)
    assert oracle.bookable(1, three_edt + 45) and not oracle.bookable(1, three_edt + 60)
