"""The clinic's results: courses, attendance, outcomes, adverse events and utilisation for a
period, for the whole clinic, each location and each practitioner, computed in PostgreSQL.

Each figure says how many patients it rests on; a figure resting on fewer than
`SMALL_NUMBERS` patients is shown as such, never as a percentage. No figure divides by zero:
shares are computed here from counts, and are None when there is nothing to divide.

Why SQL rather than the ORM for the aggregations: a course's figures need a first level of
aggregation (its sessions: first one, attended, still booked) and then a second (over the
courses), and the page needs the total, each location and each practitioner at once.
PostgreSQL does both in one pass with a CTE and `GROUPING SETS`, whatever the number of
courses; the ORM can express neither. The queries are fixed text with parameters; table names
come from the models. Definitions (also written on the page):

- a course counts in the period in which its first session falls (in that location's time),
  at the location of its session 1, for the practitioner who prescribed it;
- completed: as many sessions attended as planned; abandoned: fewer attended than planned and
  none left booked (the rest cancelled or missed); the others are still going on;
- pain at course end: the end-of-course questionnaire's first-step pain, compared with the
  baseline, the questionnaire the course was prescribed from;
- no-show rate: no-shows among appointments that were due and reached an outcome (attended or
  missed); late-cancellation rate: late cancellations among all appointments of the period;
- utilisation: minutes booked (every appointment not cancelled, no-shows included: the time
  was kept) over the minutes practitioners worked by their hours, holidays, time off and
  extra hours.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from booking.availability import (
    Interval,
    LocationRules,
    PractitionerCalendar,
    working_intervals,
)
from booking.models import Appointment, Course
from booking.selectors import location_rules
from clinic.models import (
    Holiday,
    Location,
    OpeningHours,
    Patient,
    Practitioner,
    ScheduleException,
    WorkingHours,
)
from intake.clinical.models import AdverseEvent, AssessmentNote, CheckIn, TreatmentNote
from intake.questionnaire.models import Intake

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

    @property
    def is_empty(self) -> bool:
        return self.total.is_empty

    @property
    def lines(self) -> list[Line]:
        return [self.total, *self.locations, *self.practitioners]


# --- The queries -----------------------------------------------------------------------------


def _tables() -> dict[str, str]:
    return {
        "appointment": Appointment._meta.db_table,
        "course": Course._meta.db_table,
        "location": Location._meta.db_table,
        "assessment": AssessmentNote._meta.db_table,
        "intake": Intake._meta.db_table,
        "checkin": CheckIn._meta.db_table,
        "note": TreatmentNote._meta.db_table,
        "amendment": TreatmentNote.amendments.field.model._meta.db_table,
        "patient": Patient._meta.db_table,
    }


# Which line a row of GROUPING SETS ((), (location), (practitioner)) belongs to.
_LINE_OF_ROW = """
    CASE WHEN GROUPING(location_id) = 0 THEN 'location'
         WHEN GROUPING(practitioner_id) = 0 THEN 'practitioner'
         ELSE 'total' END AS line,
    CASE WHEN GROUPING(location_id) = 0 THEN location_id ELSE practitioner_id END AS key
"""
_GROUPS = "GROUP BY GROUPING SETS ((), (location_id), (practitioner_id))"


def _in_period(moment: str, location: str) -> str:
    """SQL: `moment` falls in the period in the local time of `location` (an id; NULL for
    UTC). Each location's period is passed as UTC instants (its local midnights), so rows are
    compared with two timestamps instead of being converted to local time one by one; a
    CASE on the location id picks them (cheaper per row than looking them up in an array)."""
    return f"{{period_case:{moment}:{location}}}"


def _period_case(moment: str, location: str, location_ids: list[int]) -> str:
    branches = " ".join(
        f"WHEN {pk} THEN {moment} >= %(lo_{pk})s AND {moment} < %(hi_{pk})s" for pk in location_ids
    )
    utc = f"{moment} >= %(lo_0)s AND {moment} < %(hi_0)s"
    return f"(CASE {location} {branches} ELSE {utc} END)" if branches else f"({utc})"


# A course's sessions, all of them (a course's status needs the sessions after the period too).
_SESSIONS = """
sessions AS (
    SELECT a.course_id,
           MIN(a.starts_at) AS first_start,
           MIN(a.location_id) FILTER (WHERE a.session_number = 1) AS location_id,
           COUNT(*) FILTER (WHERE a.status = 'completed') AS attended,
           COUNT(*) FILTER (WHERE a.status IN ('requested', 'confirmed', 'checked_in')) AS booked
      FROM {appointment} a
     WHERE a.course_id IS NOT NULL
     GROUP BY a.course_id
)"""

COURSES_SQL = (
    "WITH"
    + _SESSIONS
    + """,
started AS MATERIALIZED (
    SELECT s.*
      FROM sessions s
     WHERE """
    + _in_period("s.first_start", "s.location_id")
    + """
       AND (%(location)s::bigint IS NULL OR s.location_id = %(location)s)
), facts AS MATERIALIZED (
    -- Each course's baseline and end-of-course answers, joined in bulk (hash joins): the
    -- planner cannot know how many courses a period holds, and probing them one by one is
    -- many times slower.
    SELECT c.id, c.patient_id, c.practitioner_id, c.sessions_planned,
           i.pain_first_steps AS baseline,
           e.pain_first_steps AS at_end,
           e.id IS NOT NULL AS answered,
           e.improved_pain_mobility, e.improved_strength, e.improved_walking, e.recommend
      FROM {course} c
      LEFT JOIN {assessment} n ON n.id = c.assessment_id
      LEFT JOIN {intake} i ON i.id = n.intake_id
      LEFT JOIN {checkin} e ON e.course_id = c.id AND e.kind = 'end_of_course'
           AND NOT EXISTS (SELECT 1 FROM {checkin} x WHERE x.supersedes_id = e.id)
     WHERE c.created_at < %(high)s
       AND (%(practitioner)s::bigint IS NULL OR c.practitioner_id = %(practitioner)s)
), courses AS (
    SELECT f.id, f.patient_id, f.practitioner_id, s.location_id,
           s.attended >= f.sessions_planned AS completed,
           s.attended < f.sessions_planned AND s.booked = 0 AS abandoned,
           f.baseline, f.at_end, f.answered,
           f.improved_pain_mobility, f.improved_strength, f.improved_walking, f.recommend
      FROM started s
      JOIN facts f ON f.id = s.course_id
)
SELECT {line_of_row},
       COUNT(*) AS started,
       COUNT(DISTINCT patient_id) AS patients,
       COUNT(*) FILTER (WHERE completed) AS completed,
       COUNT(*) FILTER (WHERE abandoned) AS abandoned,
       COUNT(DISTINCT patient_id) FILTER (WHERE completed OR abandoned) AS ended_patients,
       COUNT(*) FILTER (WHERE baseline IS NOT NULL AND at_end IS NOT NULL) AS pain_n,
       COUNT(DISTINCT patient_id) FILTER (WHERE baseline IS NOT NULL AND at_end IS NOT NULL)
           AS pain_patients,
       COUNT(*) FILTER (WHERE baseline - at_end >= 2) AS fell_2,
       AVG(at_end - baseline)::float AS mean_change,
       STDDEV_SAMP(at_end - baseline)::float AS sd_change,
       -- The end-of-course questions are asked together: the patients who answered.
       COUNT(DISTINCT patient_id) FILTER (WHERE answered) AS answered_patients,
       COUNT(improved_pain_mobility) AS pain_mobility_n,
       COUNT(*) FILTER (WHERE improved_pain_mobility) AS pain_mobility_yes,
       COUNT(improved_walking) AS walking_n,
       COUNT(*) FILTER (WHERE improved_walking) AS walking_yes,
       COUNT(improved_strength) AS strength_n,
       COUNT(*) FILTER (WHERE improved_strength) AS strength_yes,
       COUNT(recommend) AS recommend_n,
       COUNT(*) FILTER (WHERE recommend >= 9) AS recommend_yes
  FROM courses
 {groups}
"""
)

# Appointments, sessions and after-care checks are many: they are first summed per patient
# (and location and practitioner), then the lines count distinct patients over those sums.
APPOINTMENTS_SQL = (
    """WITH per_patient AS (
    SELECT a.location_id, a.practitioner_id, a.patient_id,
           COUNT(*) AS appointments,
           COUNT(*) FILTER (WHERE a.status IN ('completed', 'no_show')) AS due,
           COUNT(*) FILTER (WHERE a.status = 'no_show') AS no_shows,
           COUNT(*) FILTER (WHERE a.status = 'cancelled' AND a.late_cancellation) AS late_cancels,
           SUM(a.ends_at - a.starts_at) FILTER (WHERE a.status <> 'cancelled') AS booked
      FROM {appointment} a
     WHERE a.starts_at >= %(low)s AND a.starts_at < %(high)s
       AND """
    + _in_period("a.starts_at", "a.location_id")
    + """
       AND (%(location)s::bigint IS NULL OR a.location_id = %(location)s)
       AND (%(practitioner)s::bigint IS NULL OR a.practitioner_id = %(practitioner)s)
     GROUP BY a.location_id, a.practitioner_id, a.patient_id
)
SELECT {line_of_row},
       SUM(appointments)::bigint AS appointments,
       COUNT(DISTINCT patient_id) AS patients,
       SUM(due)::bigint AS due,
       COUNT(DISTINCT patient_id) FILTER (WHERE due > 0) AS due_patients,
       SUM(no_shows)::bigint AS no_shows,
       SUM(late_cancels)::bigint AS late_cancels,
       COALESCE(EXTRACT(EPOCH FROM SUM(booked)) / 60, 0)::bigint AS booked_minutes
  FROM per_patient
 {groups}
"""
)

# Adverse events of the sessions recorded in the period: a note's current list is its last
# amendment's, if an amendment changed it, else its own.
ADVERSE_SQL = (
    """WITH amended AS (
    SELECT DISTINCT ON (m.note_id) m.note_id,
           ARRAY(SELECT jsonb_array_elements_text(m.changes -> 'adverse_events' -> 'to'))::varchar[]
               AS events
      FROM {amendment} m
     WHERE m.changes ? 'adverse_events'
     ORDER BY m.note_id, m.number DESC
), notes AS (
    SELECT t.location_id, t.author_id AS practitioner_id, t.patient_id,
           COALESCE(am.events, t.adverse_events) AS events
      FROM {note} t
      LEFT JOIN amended am ON am.note_id = t.id
     WHERE t.signed_at IS NOT NULL
       AND t.performed_at >= %(low)s AND t.performed_at < %(high)s
       AND """
    + _in_period("t.performed_at", "t.location_id")
    + """
       AND (%(location)s::bigint IS NULL OR t.location_id = %(location)s)
       AND (%(practitioner)s::bigint IS NULL OR t.author_id = %(practitioner)s)
), per_patient AS (
    SELECT location_id, practitioner_id, patient_id, COUNT(*) AS sessions,
           {adverse_sums}
      FROM notes
     GROUP BY location_id, practitioner_id, patient_id
)
SELECT {line_of_row},
       SUM(sessions)::bigint AS sessions,
       COUNT(DISTINCT patient_id) AS patients,
       {adverse_columns}
  FROM per_patient
 {groups}
"""
)

AFTERCARE_SQL = (
    """WITH per_patient AS (
    SELECT c.location_id, c.practitioner_id, c.patient_id,
           COUNT(*) AS checks,
           COUNT(*) FILTER (WHERE c.soreness IN ('moderate', 'severe')) AS sore,
           COUNT(*) FILTER (WHERE c.bruising) AS bruising,
           COUNT(*) FILTER (WHERE c.worrying) AS worrying
      FROM {checkin} c
     WHERE c.kind = 'after_care'
       AND NOT EXISTS (SELECT 1 FROM {checkin} x WHERE x.supersedes_id = c.id)
       AND c.reported_at >= %(low)s AND c.reported_at < %(high)s
       AND """
    + _in_period("c.reported_at", "c.location_id")
    + """
       AND (%(location)s::bigint IS NULL OR c.location_id = %(location)s)
       AND (%(practitioner)s::bigint IS NULL OR c.practitioner_id = %(practitioner)s)
     GROUP BY c.location_id, c.practitioner_id, c.patient_id
)
SELECT {line_of_row},
       SUM(checks)::bigint AS checks,
       COUNT(DISTINCT patient_id) AS patients,
       SUM(sore)::bigint AS sore,
       SUM(bruising)::bigint AS bruising,
       SUM(worrying)::bigint AS worrying
  FROM per_patient
 {groups}
"""
)


def _adverse_sums() -> str:
    return ",\n           ".join(
        f"COUNT(*) FILTER (WHERE '{e.value}' = ANY(events)) AS {e.value}" for e in ADVERSE_TYPES
    )


def _adverse_columns() -> str:
    return ",\n       ".join(f"SUM({e.value})::bigint AS {e.value}" for e in ADVERSE_TYPES)


def _rows(sql: str, params: dict) -> dict[tuple[str, int | None], dict]:
    text = re.sub(
        r"\{period_case:([^:}]+):([^:}]+)\}",
        lambda m: _period_case(m.group(1), m.group(2), params["location_ids"]),
        sql,
    ).format(
        **_tables(),
        line_of_row=_LINE_OF_ROW,
        groups=_GROUPS,
        adverse_sums=_adverse_sums(),
        adverse_columns=_adverse_columns(),
    )
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        names = [column.name for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {(row["line"], row["key"]): row for row in rows}


def _params(period: Period, scope: Scope) -> dict:
    """The query parameters: the period as each location's UTC instants (one query for the
    locations' time zones), and the scope."""
    low, high = period.utc_bounds()
    zones = [(0, dt.UTC)] + [
        (pk, ZoneInfo(name)) for pk, name in Location.objects.values_list("pk", "time_zone")
    ]
    after = period.end + dt.timedelta(days=1)
    return {
        "low": low,
        "high": high,
        "start": period.start,
        "end": period.end,
        "location_ids": [pk for pk, _ in zones if pk],
        **{f"lo_{pk}": dt.datetime.combine(period.start, dt.time.min, tzinfo=z) for pk, z in zones},
        **{f"hi_{pk}": dt.datetime.combine(after, dt.time.min, tzinfo=z) for pk, z in zones},
        "location": scope.location_id,
        "practitioner": scope.practitioner_id,
    }


# --- Utilisation: working minutes from the practitioners' hours (no data-size loop) ----------


def working_minutes(period: Period, scope: Scope) -> dict[tuple[int, int], int]:
    """{(practitioner id, location id): minutes worked in the period}, from weekly hours
    within opening hours, holidays, extra hours and time off — the availability rules.
    Four queries; the loop is over days × practitioners' locations, not over data."""
    hours = WorkingHours.objects.all()
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
    """The local dates of the period on which the clocks change in `zone`."""
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


# --- The report ------------------------------------------------------------------------------


def _figure(row: dict | None, count: str, base: str, patients: str) -> Figure:
    if row is None:
        return Figure(0, 0, 0)
    return Figure(int(row[count] or 0), int(row[base] or 0), int(row[patients] or 0))


def _fill(line: Line, courses, appointments, adverse, aftercare) -> None:
    if courses:
        line.courses_started = courses["started"]
        line.courses_patients = courses["patients"]
        line.completed = courses["completed"]
        line.abandoned = courses["abandoned"]
        line.ongoing = courses["started"] - courses["completed"] - courses["abandoned"]
        line.completion = Figure(
            courses["completed"],
            courses["completed"] + courses["abandoned"],
            courses["ended_patients"],
        )
        line.pain_fell_2 = _figure(courses, "fell_2", "pain_n", "pain_patients")
        line.change = Change(courses["mean_change"], courses["sd_change"], courses["pain_patients"])
        line.improved_pain_mobility = _figure(
            courses, "pain_mobility_yes", "pain_mobility_n", "answered_patients"
        )
        line.improved_walking = _figure(courses, "walking_yes", "walking_n", "answered_patients")
        line.improved_strength = _figure(courses, "strength_yes", "strength_n", "answered_patients")
        line.recommend = _figure(courses, "recommend_yes", "recommend_n", "answered_patients")
    if appointments:
        line.appointments = int(appointments["appointments"] or 0)
        line.no_show = _figure(appointments, "no_shows", "due", "due_patients")
        line.late_cancel = _figure(appointments, "late_cancels", "appointments", "patients")
    if adverse:
        line.sessions_recorded = int(adverse["sessions"] or 0)
        line.adverse = [
            (
                event.label,
                Figure(
                    int(adverse[event.value] or 0),
                    int(adverse["sessions"] or 0),
                    int(adverse["patients"] or 0),
                ),
            )
            for event in ADVERSE_TYPES
        ]
    if aftercare:
        line.aftercare_checks = int(aftercare["checks"] or 0)
        for name in ("sore", "bruising", "worrying"):
            line.aftercare[name] = Figure(
                int(aftercare[name] or 0),
                int(aftercare["checks"] or 0),
                int(aftercare["patients"] or 0),
            )


def clinic_report(period: Period, scope: Scope) -> Report:
    """Every figure of the dashboard, for the scope's total, each location and each
    practitioner: four aggregate queries, the working hours (five) and the names (two)."""
    params = _params(period, scope)
    with transaction.atomic(), connection.cursor() as cursor:
        # Room to sort and hash a year of rows in memory rather than on disk (this
        # transaction only).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # Compiling these queries just in time costs more than it saves at this size
        # (measured: about 35 ms of a 275 ms dashboard).
        cursor.execute("SET LOCAL jit = off")
        courses = _rows(COURSES_SQL, params)
        appointments = _rows(APPOINTMENTS_SQL, params)
        adverse = _rows(ADVERSE_SQL, params)
        aftercare = _rows(AFTERCARE_SQL, params)
    worked = working_minutes(period, scope)
    booked = {key: row["booked_minutes"] for key, row in appointments.items()}

    keys = {kind: set() for kind in ("location", "practitioner")}
    for table in (courses, appointments, adverse, aftercare):
        for kind, key in table:
            if kind in keys and key is not None:
                keys[kind].add(key)
    for pid, lid in worked:
        keys["practitioner"].add(pid)
        keys["location"].add(lid)
    location_names = dict(
        Location.objects.filter(pk__in=keys["location"]).values_list("pk", "name")
    )
    practitioner_names = {
        p.pk: p.name
        for p in Practitioner.objects.filter(pk__in=keys["practitioner"]).select_related("user")
    }

    def line(kind: str, key: int | None, name: str) -> Line:
        made = Line(kind=kind, key=key, name=name)
        index = (kind, key)
        _fill(
            made,
            courses.get(index),
            appointments.get(index),
            adverse.get(index),
            aftercare.get(index),
        )
        if kind == "total":
            working = sum(worked.values())
        elif kind == "location":
            working = sum(m for (_, lid), m in worked.items() if lid == key)
        else:
            working = sum(m for (pid, _), m in worked.items() if pid == key)
        made.utilisation = Utilisation(int(booked.get(index) or 0), working)
        return made

    return Report(
        period=period,
        scope=scope,
        total=line("total", None, "All"),
        locations=sorted(
            (line("location", key, location_names.get(key, "?")) for key in keys["location"]),
            key=lambda item: item.name,
        ),
        practitioners=sorted(
            (
                line("practitioner", key, practitioner_names.get(key, "?"))
                for key in keys["practitioner"]
            ),
            key=lambda item: item.name,
        ),
    )


def cohort_patient_ids(period: Period, scope: Scope) -> list[int]:
    """The patients whose courses the report's outcome figures rest on (for the access log of
    an export). One query."""
    return [
        row["patient_id"] for row in _course_rows(period, scope, columns="DISTINCT c.patient_id")
    ]


# --- The de-identified per-course outcomes ---------------------------------------------------

OUTCOMES_SQL = """
WITH sessions AS (
    SELECT a.course_id,
           MIN(a.starts_at) AS first_start,
           MIN(a.location_id) FILTER (WHERE a.session_number = 1) AS location_id,
           COUNT(*) FILTER (WHERE a.status = 'completed') AS attended,
           COUNT(*) FILTER (WHERE a.status IN ('requested', 'confirmed', 'checked_in')) AS booked
      FROM {appointment} a
     WHERE a.course_id IS NOT NULL
     GROUP BY a.course_id
), answers AS (
    SELECT e.course_id, e.kind, e.pain_first_steps, e.pain_average, e.improved_pain_mobility,
           e.improved_strength, e.improved_walking, e.recommend
      FROM {checkin} e
     WHERE e.kind IN ('end_of_course', 'follow_up_4', 'follow_up_12')
       AND NOT EXISTS (SELECT 1 FROM {checkin} x WHERE x.supersedes_id = e.id)
)
SELECT {columns}
  FROM sessions s
  JOIN {course} c ON c.id = s.course_id
  JOIN {location} l ON l.id = s.location_id
  JOIN {patient} p ON p.id = c.patient_id
  LEFT JOIN {assessment} n ON n.id = c.assessment_id
  LEFT JOIN {intake} i ON i.id = n.intake_id
  LEFT JOIN answers e ON e.course_id = c.id AND e.kind = 'end_of_course'
  LEFT JOIN answers f4 ON f4.course_id = c.id AND f4.kind = 'follow_up_4'
  LEFT JOIN answers f12 ON f12.course_id = c.id AND f12.kind = 'follow_up_12'
 WHERE s.first_start >= %(low)s
   AND (s.first_start AT TIME ZONE l.time_zone)::date BETWEEN %(start)s AND %(end)s
   AND (%(location)s::bigint IS NULL OR s.location_id = %(location)s)
   AND (%(practitioner)s::bigint IS NULL OR c.practitioner_id = %(practitioner)s)
 {order}
"""

# Column name -> SQL. No name, contact detail, date of birth or free text: an age band at the
# start of the course, the year it started, and answers on scales and yes/no questions.
OUTCOME_COLUMNS = {
    "course_id": "c.id",  # replaced by a keyed pseudonym before it leaves (see views)
    "location": "l.name",
    "start_year": "EXTRACT(YEAR FROM s.first_start AT TIME ZONE l.time_zone)::int",
    "age_band": "(FLOOR(EXTRACT(YEAR FROM AGE((s.first_start AT TIME ZONE l.time_zone)::date, "
    "p.date_of_birth)) / 10) * 10)::int",
    "sessions_planned": "c.sessions_planned",
    "sessions_attended": "s.attended",
    "status": "CASE WHEN s.attended >= c.sessions_planned THEN 'completed' "
    "WHEN s.booked = 0 THEN 'abandoned' ELSE 'ongoing' END",
    "baseline_first_step_pain": "i.pain_first_steps",
    "baseline_average_pain": "i.pain_average",
    "end_first_step_pain": "e.pain_first_steps",
    "end_average_pain": "e.pain_average",
    "first_step_change": "e.pain_first_steps - i.pain_first_steps",
    "fell_by_2_or_more": "i.pain_first_steps - e.pain_first_steps >= 2",
    "improved_pain_mobility": "e.improved_pain_mobility",
    "improved_strength": "e.improved_strength",
    "improved_walking": "e.improved_walking",
    "recommend_0_10": "e.recommend",
    "week_4_first_step_pain": "f4.pain_first_steps",
    "week_12_first_step_pain": "f12.pain_first_steps",
}


def _course_rows(period: Period, scope: Scope, *, columns: str, order: str = ""):
    text = OUTCOMES_SQL.format(**_tables(), columns=columns, order=order)
    with connection.cursor() as cursor:
        cursor.execute(text, _params(period, scope))
        names = [column.name for column in cursor.description]
        for row in cursor.fetchall():
            yield dict(zip(names, row, strict=True))


def course_outcomes(period: Period, scope: Scope) -> list[dict]:
    """One row per course of the period (see OUTCOME_COLUMNS, plus the patient's id for the
    access log, never exported), oldest first. One query."""
    columns = ", ".join(f"{sql} AS {name}" for name, sql in OUTCOME_COLUMNS.items())
    columns += ", c.patient_id AS patient_id"
    return list(_course_rows(period, scope, columns=columns, order="ORDER BY s.first_start, c.id"))
