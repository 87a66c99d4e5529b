"""What the results dashboard shows: the period and scope asked for, and each line's figures,
with how many patients each rests on (figures on fewer than SMALL_NUMBERS are not shown).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from intake.clinical.models import AdverseEvent

SMALL_NUMBERS = 5

# The articles' figures (../shared/domain.md): Forever Fit quoting a 2025 patient-satisfaction
# study of dry needling, and its 2025 study of gait.
REFERENCES = {
    "improved_pain_mobility": (70, "about 70% reported improved pain and mobility"),
    "improved_strength": (38, "38% noticed improved strength"),
    "improved_walking": (46, "about 46% noticed improved gait or walking"),
    "recommend": (46, "46% were extremely likely to recommend dry needling"),
}
ADVERSE_TYPES = [e for e in AdverseEvent if e != AdverseEvent.NONE]


@dataclass(frozen=True)
class Period:
    start: dt.date  # first local date included
    end: dt.date  # last local date included

    @property
    def months(self) -> list[dt.date]:
        """The first day of each month the period touches, oldest first."""
        month, months = self.start.replace(day=1), []
        while month <= self.end:
            months.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return months

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def utc_bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """A UTC window surely holding every local date of the period, whatever the zone (the
        exact local-date test is made in SQL; this one lets the start-time indexes help)."""
        low = dt.datetime.combine(self.start, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
        high = dt.datetime.combine(self.end, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
        return low, high


@dataclass(frozen=True)
class Scope:
    """What the figures are about: a location and/or a practitioner, or everything."""

    location_id: int | None = None
    practitioner_id: int | None = None


@dataclass(frozen=True)
class Figure:
    """`count` of `base`, resting on `patients` patients."""

    count: int
    base: int
    patients: int

    @property
    def too_few(self) -> bool:
        return self.patients < SMALL_NUMBERS

    @property
    def share(self) -> float | None:
        """A percentage, or None when nothing to divide or too few patients to say."""
        if not self.base or self.too_few:
            return None
        return round(100 * self.count / self.base, 1)


@dataclass(frozen=True)
class Change:
    """The mean change of first-step pain (end minus baseline) and its standard deviation."""

    mean: float | None
    sd: float | None
    patients: int

    @property
    def too_few(self) -> bool:
        return self.patients < SMALL_NUMBERS


@dataclass(frozen=True)
class Utilisation:
    booked_minutes: int
    working_minutes: int

    @property
    def share(self) -> float | None:
        if not self.working_minutes:
            return None
        return round(100 * self.booked_minutes / self.working_minutes, 1)


@dataclass
class Line:
    """Every figure for one line of the report: the whole scope, a location or a practitioner."""

    kind: str  # "total", "location", "practitioner"
    key: int | None
    name: str
    courses_started: int = 0
    courses_patients: int = 0
    completed: int = 0
    abandoned: int = 0
    ongoing: int = 0
    completion: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    pain_fell_2: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    change: Change = field(default_factory=lambda: Change(None, None, 0))
    improved_pain_mobility: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    improved_walking: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    improved_strength: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    recommend: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    appointments: int = 0
    no_show: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    late_cancel: Figure = field(default_factory=lambda: Figure(0, 0, 0))
    sessions_recorded: int = 0
    adverse: list[tuple[str, Figure]] = field(default_factory=list)  # (event label, figure)
    aftercare_checks: int = 0
    aftercare: dict[str, Figure] = field(default_factory=dict)
    utilisation: Utilisation = field(default_factory=lambda: Utilisation(0, 0))

    @property
    def is_empty(self) -> bool:
        return not (self.courses_started or self.appointments or self.sessions_recorded)


@dataclass
class Report:
    period: Period
    scope: Scope
    total: Line
    locations: list[Line]
    practitioners: list[Line]
    # A line per local month of the period, oldest first, for the dashboard's charts: the
    # course figures (a course counts in the month its first session falls) and attendance.
    months: list[Line] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return self.total.is_empty

    @property
    def lines(self) -> list[Line]:
        return [self.total, *self.locations, *self.practitioners]
