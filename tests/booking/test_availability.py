"""The slot search, against hand-worked cases (pure functions: no database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from booking.availability import (
    Busy,
    Interval,
    LocationRules,
    NonexistentLocalTime,
    PractitionerCalendar,
    Rooms,
    SlotQuery,
    aware,
    aware_strict,
    free_slots,
    on_the_grid,
    slot_problems,
)

TORONTO = ZoneInfo("America/Toronto")
UTC = dt.UTC
EVERY_DAY = range(7)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TORONTO)


def rules(buffer=0, notice=0, horizon_days=365, holidays=(), opening=(8, 18)) -> LocationRules:
    return LocationRules(
        location_id=1,
        zone=TORONTO,
        opening={d: (dt.time(opening[0]), dt.time(opening[1])) for d in EVERY_DAY},
        holidays=frozenset(holidays),
        buffer=dt.timedelta(minutes=buffer),
        min_notice=dt.timedelta(minutes=notice),
        horizon=dt.timedelta(days=horizon_days),
    )


def calendar(hours=(9, 12), busy=(), **fields) -> PractitionerCalendar:
    return PractitionerCalendar(
        practitioner_id=fields.pop("practitioner_id", 7),
        weekly={d: [(dt.time(hours[0]), dt.time(hours[1]))] for d in EVERY_DAY},
        busy=Busy(busy),
        **fields,
    )


def rooms(*busy_per_room) -> Rooms:
    busy_per_room = busy_per_room or ((),)
    return Rooms({n + 1: Busy(b) for n, b in enumerate(busy_per_room)})


LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=UTC)


def query(start, end, minutes=60, now=LONG_AGO, **fields) -> SlotQuery:
    fields.setdefault("for_patient", False)
    return SlotQuery(
        window_start=start, window_end=end, length=dt.timedelta(minutes=minutes), now=now, **fields
    )


def starts(slots) -> list[str]:
    return [s.starts_at.astimezone(TORONTO).strftime("%m-%d %H:%M") for s in slots]


MONDAY = (2030, 1, 7)  # EST, UTC-5


def test_hourly_slots_every_quarter_hour_inside_working_hours():
    slots = free_slots(query(local(*MONDAY, 0), local(*MONDAY, 23)), rules(), [calendar()], rooms())
    assert starts(slots) == [f"01-07 {h:02}:{m:02}" for h in (9, 10) for m in (0, 15, 30, 45)] + [
        "01-07 11:00"
    ]
    assert slots[0].starts_at == utc(2030, 1, 7, 14, 0)  # 9:00 EST
    assert slots[0].ends_at == utc(2030, 1, 7, 15, 0)
    assert (slots[0].practitioner_id, slots[0].room_id, slots[0].location_id) == (7, 1, 1)


def test_an_appointment_and_its_buffer_block_the_slots_around_it():
    # Busy 10:00–11:05 (an hour plus a 5-minute buffer); our own buffer is 5 minutes too.
    busy = [Interval(local(*MONDAY, 10).astimezone(UTC), local(*MONDAY, 11, 5).astimezone(UTC))]
    slots = free_slots(
        query(local(*MONDAY, 0), local(*MONDAY, 23), minutes=30),
        rules(buffer=5),
        [calendar(busy=busy)],
        rooms(),
    )
    # 9:15 + 30 min + 5 min buffer = 9:50 (free); 9:30 would run into 10:00.
    assert starts(slots) == ["01-07 09:00", "01-07 09:15", "01-07 11:15", "01-07 11:30"]


def test_working_hours_are_cut_to_opening_hours():
    slots = free_slots(
        query(local(*MONDAY, 0), local(*MONDAY, 23)),
        rules(opening=(10, 12)),
        [calendar(hours=(9, 17))],
        rooms(),
    )
    assert starts(slots)[0] == "01-07 10:00" and starts(slots)[-1] == "01-07 11:00"


def test_no_slots_on_a_holiday_unless_extra_hours_are_set():
    window = query(local(*MONDAY, 0), local(*MONDAY, 23))
    assert free_slots(window, rules(holidays=[dt.date(*MONDAY)]), [calendar()], rooms()) == []
    extra = [Interval(local(*MONDAY, 13).astimezone(UTC), local(*MONDAY, 15).astimezone(UTC))]
    slots = free_slots(window, rules(holidays=[dt.date(*MONDAY)]), [calendar(extra=extra)], rooms())
    assert starts(slots) == [
        "01-07 13:00",
        "01-07 13:15",
        "01-07 13:30",
        "01-07 13:45",
        "01-07 14:00",
    ]


def test_back_to_back_weekly_hours_are_one_stretch_of_work():
    # A morning and an afternoon entered as 9–12 and 12–15: an hour from 11:30 is working time.
    back_to_back = PractitionerCalendar(
        practitioner_id=7,
        weekly={d: [(dt.time(9), dt.time(12)), (dt.time(12), dt.time(15))] for d in EVERY_DAY},
    )
    slots = free_slots(
        query(local(*MONDAY, 0), local(*MONDAY, 23)), rules(), [back_to_back], rooms()
    )
    assert "01-07 11:30" in starts(slots)
    assert len(slots) == 21  # 9:00 to 14:00, every quarter hour
    eleven_thirty = local(*MONDAY, 11, 30).astimezone(UTC)
    problems, _ = slot_problems(
        starts_at=eleven_thirty,
        query=query(eleven_thirty, eleven_thirty),
        rules=rules(),
        calendar=back_to_back,
        rooms=rooms(),
    )
    assert problems == []


def test_time_off_removes_slots():
    off = [Interval(local(*MONDAY, 9).astimezone(UTC), local(*MONDAY, 11).astimezone(UTC))]
    slots = free_slots(
        query(local(*MONDAY, 0), local(*MONDAY, 23)), rules(), [calendar(time_off=off)], rooms()
    )
    assert starts(slots) == ["01-07 11:00"]


def test_needling_needs_a_certification_current_on_the_local_date():
    cal = calendar(certified=[(dt.date(2029, 1, 1), dt.date(2030, 1, 7))])
    window = query(local(*MONDAY, 0), local(2030, 1, 8, 23), needs_certification=True)
    slots = free_slots(window, rules(), [cal], rooms())
    assert {s[:5] for s in starts(slots)} == {"01-07"}  # expired after Monday
    assert free_slots(window, rules(), [calendar()], rooms()) == []  # never certified


def test_patients_respect_minimum_notice_and_horizon_but_staff_do_not():
    now = local(*MONDAY, 9, 40).astimezone(UTC)
    window = query(local(*MONDAY, 0), local(2030, 1, 9, 23), now=now, for_patient=True)
    slots = free_slots(window, rules(notice=60, horizon_days=1), [calendar()], rooms())
    # Not before 10:40 (rounded up to 10:45), not after Tuesday 9:40.
    assert starts(slots) == [
        "01-07 10:45",
        "01-07 11:00",
        "01-08 09:00",
        "01-08 09:15",
        "01-08 09:30",
    ]
    staff = query(local(*MONDAY, 0), local(2030, 1, 9, 23), now=now)
    # From 9:45 (the first time not yet past) to Wednesday 11:00: 6 + 9 + 9.
    assert len(free_slots(staff, rules(notice=60, horizon_days=1), [calendar()], rooms())) == 24


def test_staff_are_not_offered_a_time_already_past():
    # Booking checks refuse a past time for staff too, so the search must not offer one, even
    # for a window that starts before now.
    now = local(*MONDAY, 9, 40).astimezone(UTC)
    slots = free_slots(
        query(local(*MONDAY, 0), local(*MONDAY, 23), now=now), rules(), [calendar()], rooms()
    )
    assert starts(slots) == ["01-07 09:45", "01-07 10:00", "01-07 10:15", "01-07 10:30"] + [
        "01-07 10:45",
        "01-07 11:00",
    ]
    problems, _ = slot_problems(
        starts_at=local(*MONDAY, 9, 30).astimezone(UTC),
        query=query(local(*MONDAY, 0), local(*MONDAY, 23), now=now),
        rules=rules(),
        calendar=calendar(),
        rooms=rooms(),
    )
    assert problems == ["This time is in the past."]


def test_the_horizon_ends_just_before_its_last_instant_for_search_and_check_alike():
    # Horizon one day from Monday 9:00: the search stops before Tuesday 9:00, so the check
    # must refuse Tuesday 9:00 too (it used to accept it: "later than", not "at or after").
    now = local(*MONDAY, 9).astimezone(UTC)
    window = query(local(*MONDAY, 0), local(2030, 1, 9, 23), now=now, for_patient=True)
    slots = free_slots(window, rules(horizon_days=1), [calendar()], rooms())
    assert starts(slots)[-1] == "01-07 11:00"  # Tuesday's hours start at 9:00: too far
    tuesday_nine = local(2030, 1, 8, 9).astimezone(UTC)
    problems, _ = slot_problems(
        starts_at=tuesday_nine,
        query=window,
        rules=rules(horizon_days=1),
        calendar=calendar(),
        rooms=rooms(),
    )
    assert problems == ["This time is too far ahead: online booking opens 1 day ahead."]


def test_a_free_room_is_needed_and_the_first_free_one_is_given():
    window = query(local(*MONDAY, 9), local(*MONDAY, 10))
    whole_morning = [
        Interval(local(*MONDAY, 8).astimezone(UTC), local(*MONDAY, 12).astimezone(UTC))
    ]
    slots = free_slots(window, rules(), [calendar()], rooms(whole_morning, ()))
    assert {s.room_id for s in slots} == {2}
    assert free_slots(window, rules(), [calendar()], rooms(whole_morning, whole_morning)) == []


def test_the_patient_cannot_be_in_two_places():
    busy = Busy([Interval(local(*MONDAY, 10).astimezone(UTC), local(*MONDAY, 11).astimezone(UTC))])
    slots = free_slots(
        query(local(*MONDAY, 0), local(*MONDAY, 23)), rules(), [calendar()], rooms(), busy
    )
    assert starts(slots) == ["01-07 09:00", "01-07 11:00"]


def test_several_practitioners_come_out_in_time_order():
    slots = free_slots(
        query(local(*MONDAY, 9), local(*MONDAY, 10)),
        rules(),
        [calendar(practitioner_id=2, hours=(9, 10)), calendar(practitioner_id=1, hours=(9, 10))],
        rooms((), ()),
    )
    assert [(s.practitioner_id, s.room_id) for s in slots] == [(1, 1), (2, 1)]


# --- Daylight saving in America/Toronto: spring forward 2026-03-08, fall back 2026-11-01 ---


@pytest.mark.parametrize(
    ("day_before", "day", "utc_hour_before", "utc_hour_on"),
    [((2026, 3, 7), (2026, 3, 8), 14, 13), ((2026, 10, 31), (2026, 11, 1), 13, 14)],
)
def test_slots_stay_at_nine_local_across_a_daylight_saving_change(
    day_before, day, utc_hour_before, utc_hour_on
):
    slots = free_slots(
        query(local(*day_before, 0), local(*day, 23)), rules(), [calendar()], rooms()
    )
    first_each_day = {}
    for slot in slots:
        first_each_day.setdefault(slot.starts_at.astimezone(TORONTO).date(), slot)
    assert first_each_day[dt.date(*day_before)].starts_at.hour == utc_hour_before
    assert first_each_day[dt.date(*day)].starts_at.hour == utc_hour_on
    assert {s.starts_at.astimezone(TORONTO).strftime("%H:%M") for s in first_each_day.values()} == {
        "09:00"
    }
    assert len(slots) == 18  # 9 a day on both days


def test_hours_across_the_spring_forward_gap_lose_an_hour():
    day = dt.date(2026, 3, 8)
    cal = calendar(hours=(1, 4))
    slots = free_slots(
        query(local(2026, 3, 8, 0), local(2026, 3, 8, 12), step=dt.timedelta(hours=1)),
        rules(opening=(0, 23)),
        [cal],
        rooms(),
    )
    # 1:00 EST to 4:00 EDT is two real hours: slots at 1:00 EST and 3:00 EDT.
    assert [s.starts_at for s in slots] == [utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)]
    assert aware(day, dt.time(4), TORONTO) - aware(day, dt.time(1), TORONTO) == dt.timedelta(
        hours=2
    )


def test_hours_from_a_time_the_clocks_skip_start_when_the_clocks_jump():
    # Spring forward, 14 March 2027: 2:00 EST is followed by 3:00 EDT. Hours "from 2:05" start
    # at the change (3:00 EDT), as the docstring of `aware` says, not at 3:05 EDT (2:05 read
    # with the old offset), and slots stay on the quarter-hour grid.
    day = dt.date(2027, 3, 14)
    assert aware(day, dt.time(2, 30), TORONTO) == utc(2027, 3, 14, 7)
    assert aware(day, dt.time(2, 5), TORONTO) == utc(2027, 3, 14, 7)
    assert aware(day, dt.time(1, 30), TORONTO) == utc(2027, 3, 14, 6, 30)  # before: unchanged
    cal = PractitionerCalendar(practitioner_id=7, weekly={6: [(dt.time(2, 5), dt.time(4))]})
    slots = free_slots(
        query(local(2027, 3, 14, 0), local(2027, 3, 14, 12), minutes=15),
        rules(opening=(0, 23)),
        [cal],
        rooms(),
    )
    assert [s.starts_at.astimezone(TORONTO).strftime("%H:%M %Z") for s in slots] == [
        "03:00 EDT",
        "03:15 EDT",
        "03:30 EDT",
        "03:45 EDT",
    ]
    hourly = free_slots(
        query(local(2027, 3, 14, 0), local(2027, 3, 14, 12), step=dt.timedelta(hours=1)),
        rules(opening=(0, 23)),
        [PractitionerCalendar(practitioner_id=7, weekly={6: [(dt.time(2, 30), dt.time(5))]})],
        rooms(),
    )
    # On the clock's hours (not 3:30 and 4:30, 2:30 read with the old offset).
    assert [s.starts_at.astimezone(TORONTO).strftime("%H:%M %Z") for s in hourly] == [
        "03:00 EDT",
        "04:00 EDT",
    ]


def test_the_hour_that_does_not_exist_is_refused():
    with pytest.raises(NonexistentLocalTime, match="clocks go forward"):
        aware_strict(dt.date(2026, 3, 8), dt.time(2, 30), TORONTO)
    assert aware_strict(dt.date(2026, 3, 8), dt.time(3, 30), TORONTO) == utc(2026, 3, 8, 7, 30)
    # Fall back: 1:30 happens twice; the first (daylight time) is taken.
    assert aware_strict(dt.date(2026, 11, 1), dt.time(1, 30), TORONTO) == utc(2026, 11, 1, 5, 30)


# --- Explaining why a chosen slot is refused ---


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        (local(*MONDAY, 8), "not working at this location"),
        (local(2030, 1, 6, 9, 10), "is in the past"),
    ],
)
def test_a_refused_slot_says_why(start, problem):
    now = local(2030, 1, 7, 0).astimezone(UTC)
    problems, _ = slot_problems(
        starts_at=start.astimezone(UTC),
        query=query(start, start, now=now, for_patient=False),
        rules=rules(),
        calendar=calendar(),
        rooms=rooms(),
    )
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "start",
    [local(*MONDAY, 9, 10), local(*MONDAY, 9, 15, 30), local(*MONDAY, 9, 15, 0, 1)],
    ids=["a minute off", "a second off", "a microsecond off"],
)
def test_a_slot_off_the_grid_is_refused_for_patients(start):
    problems, _ = slot_problems(
        starts_at=start.astimezone(UTC),
        query=query(start, start, now=local(*MONDAY, 0).astimezone(UTC), for_patient=True),
        rules=rules(),
        calendar=calendar(),
        rooms=rooms(),
    )
    assert problems == [
        "Online, appointments start at the times offered (every 15 minutes); "
        "please choose one of them."
    ]


def test_the_grid_is_the_locations_wall_clock():
    assert on_the_grid(local(*MONDAY, 9, 30), dt.timedelta(minutes=30))
    assert not on_the_grid(local(*MONDAY, 9, 15), dt.timedelta(minutes=30))
    # Kathmandu is UTC+5:45: its 9:00 is 3:15 in UTC, off a half-hour grid there.
    kathmandu = dt.datetime(2030, 1, 7, 9, 0, tzinfo=ZoneInfo("Asia/Kathmandu"))
    assert on_the_grid(kathmandu, dt.timedelta(minutes=30))
    assert not on_the_grid(kathmandu.astimezone(UTC), dt.timedelta(minutes=30))


def test_a_slot_off_the_grid_is_fine_for_staff():
    start = local(*MONDAY, 9, 10).astimezone(UTC)
    problems, room = slot_problems(
        starts_at=start,
        query=query(start, start, for_patient=False),
        rules=rules(),
        calendar=calendar(),
        rooms=rooms(),
    )
    assert (problems, room) == ([], 1)
