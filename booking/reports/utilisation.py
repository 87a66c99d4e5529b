"""Utilisation: the minutes practitioners were available for bookings, from their weekly
hours, extra hours, holidays and time off (computed per weekday and corrected for special
days, not looped over data).

Available means what the availability engine would offer (`booking.selectors`): weekly hours
within opening hours, plus extra hours, less holidays and time off, of practitioners who are
active and still work at that location, at locations that are open for booking. Hours left
behind by a practitioner who no longer works somewhere are not time anyone could book.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import F

from booking.availability import (
    Interval,
    LocationRules,
    PractitionerCalendar,
    working_intervals,
)
from booking.reports.figures import Period, Scope
from booking.selectors import location_rules
from clinic.models import (
    Holiday,
    Location,
    OpeningHours,
    ScheduleException,
    WorkingHours,
)

# --- Utilisation: working minutes from the practitioners' hours (no data-size loop) ----------


def working_minutes(period: Period, scope: Scope) -> dict[tuple[int, int], int]:
    """{(practitioner id, location id): minutes available in the period}, from weekly hours
    within opening hours, holidays, extra hours and time off — the availability rules.
    Four queries; the loop is over days × practitioners' locations, not over data."""
    hours = WorkingHours.objects.filter(
        practitioner__user__is_active=True,
        practitioner__user__locations=F("location"),
        location__is_active=True,
    )
    if scope.location_id:
        hours = hours.filter(location_id=scope.location_id)
    if scope.practitioner_id:
        hours = hours.filter(practitioner_id=scope.practitioner_id)
    weekly: dict[tuple[int, int], dict[int, list]] = defaultdict(lambda: defaultdict(list))
    location_ids = set()
    for pid, lid, weekday, start, end in hours.values_list(
        "practitioner_id", "location_id", "weekday", "starts_at", "ends_at"
    ):
        weekly[(pid, lid)][weekday].append((start, end))
        location_ids.add(lid)
    if not weekly:
        return {}
    low, high = period.utc_bounds()
    locations = {loc.pk: loc for loc in Location.objects.filter(pk__in=location_ids)}
    opening = defaultdict(list)
    for row in OpeningHours.objects.filter(location_id__in=location_ids):
        opening[row.location_id].append(row)
    holidays = defaultdict(list)
    for row in Holiday.objects.filter(
        location_id__in=location_ids, date__gte=period.start, date__lte=period.end
    ):
        holidays[row.location_id].append(row)
    extra: dict[tuple[int, int], list] = defaultdict(list)
    time_off: dict[int, list] = defaultdict(list)
    for pid, kind, lid, start, end in ScheduleException.objects.filter(
        practitioner_id__in={pid for pid, _ in weekly}, starts_at__lt=high, ends_at__gt=low
    ).values_list("practitioner_id", "kind", "location_id", "starts_at", "ends_at"):
        if kind == ScheduleException.Kind.TIME_OFF:
            time_off[pid].append(Interval(start, end))
        else:
            extra[(pid, lid)].append(Interval(start, end))
    rules: dict[int, LocationRules] = {
        lid: location_rules(loc, opening[lid], holidays[lid]) for lid, loc in locations.items()
    }
    minutes: dict[tuple[int, int], int] = {}
    clock_changes: dict[str, set[dt.date]] = {}
    weekdays: dict[int, int] = defaultdict(int)
    for day in period.days:
        weekdays[day.weekday()] += 1
    for (pid, lid), days in weekly.items():
        calendar = PractitionerCalendar(
            practitioner_id=pid,
            weekly=dict(days),
            extra=extra[(pid, lid)],
            time_off=time_off[pid],
        )
        zone = rules[lid].zone
        if zone.key not in clock_changes:
            clock_changes[zone.key] = _clock_changes(period, zone)
        special = clock_changes[zone.key] | _special_days(
            period, rules[lid], calendar.extra + calendar.time_off
        )
        usual = _usual_minutes(rules[lid], calendar)
        # Ordinary days count their weekday's usual minutes; the special ones are worked out.
        total = sum(usual.get(weekday, 0) * count for weekday, count in weekdays.items())
        for day in special:
            total -= usual.get(day.weekday(), 0)
            for interval in working_intervals(day, rules[lid], calendar):
                total += (interval.end - interval.start).total_seconds() / 60
        minutes[(pid, lid)] = int(total)
    return minutes


def _usual_minutes(rules: LocationRules, calendar: PractitionerCalendar) -> dict[int, float]:
    """Minutes worked on an ordinary day of each weekday: weekly hours within opening hours."""
    usual = {}
    for weekday, spans in calendar.weekly.items():
        opening = rules.opening.get(weekday)
        if not opening:
            continue
        opens, closes = opening
        usual[weekday] = sum(
            max(
                0,
                (
                    dt.datetime.combine(dt.date.min, min(end, closes))
                    - dt.datetime.combine(dt.date.min, max(start, opens))
                ).total_seconds()
                / 60,
            )
            for start, end in spans
        )
    return usual


def _clock_changes(period: Period, zone) -> set[dt.date]:
    """The local dates of the period on which the clocks change in `zone`. Day by day: a
    zone may change twice within a week (Recife, October 2000)."""
    changes = set()
    offset = dt.datetime.combine(period.start, dt.time.min, tzinfo=zone).utcoffset()
    for day in period.days:
        following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        if following.utcoffset() != offset:
            changes.add(day)
            offset = following.utcoffset()
    return changes


def _special_days(period: Period, rules: LocationRules, exceptions: list[Interval]) -> set:
    """Local dates whose minutes are not their weekday's usual ones (besides the days the
    clocks change): holidays, and days touched by extra hours or time off."""
    zone = rules.zone
    special = {day for day in rules.holidays if period.start <= day <= period.end}
    for interval in exceptions:
        day = max(interval.start.astimezone(zone).date(), period.start)
        last = min(interval.end.astimezone(zone).date(), period.end)
        while day <= last:
            special.add(day)
            day += dt.timedelta(days=1)
    return special
