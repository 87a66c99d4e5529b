"""Read-only queries of the organisation that several pages share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from clinic.models import (
    Certification,
    Holiday,
    Location,
    OpeningHours,
    Practitioner,
    ScheduleException,
    WorkingHours,
)


@dataclass
class Shift:
    practitioner: Practitioner
    starts_at: dt.time
    ends_at: dt.time
    certified: bool
    time_off: list[ScheduleException] = field(default_factory=list)


@dataclass
class LocationDay:
    """What a location looks like on one of its days: open or not, and who works."""

    location: Location
    date: dt.date
    opening: OpeningHours | None
    holiday: Holiday | None
    shifts: list[Shift]

    @property
    def is_open(self) -> bool:
        return self.opening is not None and self.holiday is None


def location_days(locations: QuerySet[Location], date_for) -> list[LocationDay]:
    """One `LocationDay` per location, for the date `date_for(location)` gives (each location's
    own "today"), in a fixed number of queries whatever the number of locations."""
    locations = list(locations)
    dates = {loc.pk: date_for(loc) for loc in locations}
    weekdays = {d.weekday() for d in dates.values()}
    ids = list(dates)

    openings = {
        (o.location_id, o.weekday): o
        for o in OpeningHours.objects.filter(location_id__in=ids, weekday__in=weekdays)
    }
    holidays = {
        (h.location_id, h.date): h
        for h in Holiday.objects.filter(location_id__in=ids, date__in=set(dates.values()))
    }
    hours = (
        WorkingHours.objects.filter(location_id__in=ids, weekday__in=weekdays)
        .select_related("practitioner__user")
        .prefetch_related(
            Prefetch("practitioner__certifications", queryset=Certification.objects.all())
        )
        .order_by("starts_at")
    )
    earliest, latest = min(dates.values(), default=None), max(dates.values(), default=None)
    time_off = (
        list(
            ScheduleException.objects.filter(
                kind=ScheduleException.Kind.TIME_OFF,
                starts_at__date__lte=latest + dt.timedelta(days=1),
                ends_at__date__gte=earliest - dt.timedelta(days=1),
            )
        )
        if locations
        else []
    )

    days = []
    for location in locations:
        date = dates[location.pk]
        day_start = dt.datetime.combine(date, dt.time.min, tzinfo=location.zone)
        day_end = day_start + dt.timedelta(days=1)
        shifts = [
            Shift(
                practitioner=h.practitioner,
                starts_at=h.starts_at,
                ends_at=h.ends_at,
                certified=h.practitioner.is_certified_on(date),
                time_off=[
                    t
                    for t in time_off
                    if t.practitioner_id == h.practitioner_id
                    and t.location_id in (None, location.pk)
                    and t.starts_at < day_end
                    and t.ends_at > day_start
                ],
            )
            for h in hours
            if h.location_id == location.pk and h.weekday == date.weekday()
        ]
        days.append(
            LocationDay(
                location=location,
                date=date,
                opening=openings.get((location.pk, date.weekday())),
                holiday=holidays.get((location.pk, date)),
                shifts=shifts,
            )
        )
    return days
