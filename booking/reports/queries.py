"""The dashboard's SQL: one query each for courses, appointments, adverse events and
aftercare, grouped by location and practitioner at once (GROUPING SETS; courses and
appointments by month too, for the charts), so the page costs the same number of queries
whatever the size of the clinic.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.db import connection

from booking.models import Appointment, Course
from booking.reports.figures import ADVERSE_TYPES, Period, Scope
from clinic.models import (
    Location,
    Patient,
    Practitioner,
    User,
)
from intake.clinical.models import AssessmentNote, OutcomeSurvey, SessionNote
from intake.questionnaire.models import Intake

# --- The queries -----------------------------------------------------------------------------


def table_names() -> dict[str, str]:
    return {
        "appointment": Appointment._meta.db_table,
        "course": Course._meta.db_table,
        "location": Location._meta.db_table,
        "assessment": AssessmentNote._meta.db_table,
        "intake": Intake._meta.db_table,
        "checkin": OutcomeSurvey._meta.db_table,
        "note": SessionNote._meta.db_table,
        "amendment": SessionNote.amendments.field.model._meta.db_table,
        "patient": Patient._meta.db_table,
        "practitioner": Practitioner._meta.db_table,
        "user": User._meta.db_table,
        "user_location": User.locations.through._meta.db_table,
    }


# Which line a row of GROUPING SETS ((), (location), (practitioner)) belongs to.
_LINE_OF_ROW = """
    CASE WHEN GROUPING(location_id) = 0 THEN 'location'
         WHEN GROUPING(practitioner_id) = 0 THEN 'practitioner'
         ELSE 'total' END AS line,
    CASE WHEN GROUPING(location_id) = 0 THEN location_id ELSE practitioner_id END AS key
"""
_GROUPS = "GROUP BY GROUPING SETS ((), (location_id), (practitioner_id))"
# The same, plus a row per month (`month`: the local year * 100 + month, e.g. 202703) for
# the dashboard's charts: one more grouping set, not one more query.
_LINE_OR_MONTH_OF_ROW = """
    CASE WHEN GROUPING(month) = 0 THEN 'month'
         WHEN GROUPING(location_id) = 0 THEN 'location'
         WHEN GROUPING(practitioner_id) = 0 THEN 'practitioner'
         ELSE 'total' END AS line,
    CASE WHEN GROUPING(month) = 0 THEN month
         WHEN GROUPING(location_id) = 0 THEN location_id ELSE practitioner_id END AS key
"""
_GROUPS_AND_MONTHS = "GROUP BY GROUPING SETS ((), (location_id), (practitioner_id), (month))"


def _month_of(moment: str, location: str) -> str:
    """SQL: the local month of `moment` at `location` (an id; NULL for UTC), as year * 100 +
    month. As for the period, each location's months are passed as UTC instants (its local
    first days), so rows are compared with timestamps rather than converted to local time
    one by one (measured: about 8 ms instead of 70 ms over 120,000 appointments)."""
    return f"{{month_case:{moment}:{location}}}"


def _month_case(moment: str, location: str, location_ids: list[int], keys: list[int]) -> str:
    def months(pk: int) -> str:
        latest_first = " ".join(
            f"WHEN {moment} >= %(mo_{pk}_{key})s THEN {key}" for key in reversed(keys)
        )
        return f"(CASE {latest_first} END)"

    branches = " ".join(f"WHEN {pk} THEN {months(pk)}" for pk in location_ids)
    return f"(CASE {location} {branches} ELSE {months(0)} END)" if branches else months(0)


def _in_period(moment: str, location: str) -> str:
    """SQL: `moment` falls in the period in the local time of `location` (an id; NULL for
    UTC). Each location's period is passed as UTC instants (its local midnights), so rows are
    compared with two timestamps instead of being converted to local time one by one; a
    CASE on the location id picks them (cheaper per row than looking them up in an array)."""
    return f"{{period_case:{moment}:{location}}}"


def in_scope(location: str, practitioner: str) -> str:
    """SQL: the row is in the report's scope, a location and a practitioner (NULL: any),
    `location` and `practitioner` being the row's columns for them."""
    return (
        f"(%(location)s::bigint IS NULL OR {location} = %(location)s)\n"
        f"       AND (%(practitioner)s::bigint IS NULL OR {practitioner} = %(practitioner)s)"
    )


def _period_case(moment: str, location: str, location_ids: list[int]) -> str:
    branches = " ".join(
        f"WHEN {pk} THEN {moment} >= %(lo_{pk})s AND {moment} < %(hi_{pk})s" for pk in location_ids
    )
    utc = f"{moment} >= %(lo_0)s AND {moment} < %(hi_0)s"
    return f"(CASE {location} {branches} ELSE {utc} END)" if branches else f"({utc})"


# A course's sessions, all of them (a course's status needs the sessions after the period too):
# the dashboard and the per-course outcomes export both start from it.
SESSIONS_CTE = """
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
    + SESSIONS_CTE
    + """,
started AS MATERIALIZED (
    SELECT s.*, """
    + _month_of("s.first_start", "s.location_id")
    + """ AS month
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
    SELECT f.id, f.patient_id, f.practitioner_id, s.location_id, s.month,
           s.attended >= f.sessions_planned AS completed,
           s.attended < f.sessions_planned AND s.booked = 0 AS abandoned,
           f.baseline, f.at_end, f.answered,
           f.improved_pain_mobility, f.improved_strength, f.improved_walking, f.recommend
      FROM started s
      JOIN facts f ON f.id = s.course_id
)
SELECT {line_or_month_of_row},
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
 {groups_and_months}
"""
)

# Appointments, sessions and after-care checks are many: they are first summed per patient
# (and location and practitioner), then the lines count distinct patients over those sums.
APPOINTMENTS_SQL = (
    """WITH available AS (
    -- Where each practitioner's hours count as available time (see utilisation): active,
    -- still working at an active location. Only their bookings there count as booked time,
    -- so the two sides of utilisation are about the same people and places.
    SELECT p.id AS practitioner_id, ul.location_id
      FROM {practitioner} p
      JOIN {user} u ON u.id = p.user_id AND u.is_active
      JOIN {user_location} ul ON ul.user_id = u.id
      JOIN {location} l ON l.id = ul.location_id AND l.is_active
), chosen AS MATERIALIZED (
    SELECT a.location_id, a.practitioner_id, a.patient_id, a.status, a.late_cancellation,
           a.ends_at - a.starts_at AS length,
           -- Booked time: the active statuses (booking.models.ACTIVE_STATUSES); a no-show's
           -- time was not used, a cancelled one's was given back.
           a.status IN ('requested', 'confirmed', 'checked_in', 'completed')
               AND v.location_id IS NOT NULL AS booked,
           """
    + _month_of("a.starts_at", "a.location_id")
    + """ AS month
      FROM {appointment} a
      LEFT JOIN available v
        ON v.practitioner_id = a.practitioner_id AND v.location_id = a.location_id
     WHERE a.starts_at >= %(low)s AND a.starts_at < %(high)s
       AND """
    + _in_period("a.starts_at", "a.location_id")
    + """
       AND """
    + in_scope("a.location_id", "a.practitioner_id")
    + """
), per_patient AS (
    SELECT location_id, practitioner_id, patient_id,
           COUNT(*) AS appointments,
           COUNT(*) FILTER (WHERE status IN ('completed', 'no_show')) AS due,
           COUNT(*) FILTER (WHERE status = 'no_show') AS no_shows,
           COUNT(*) FILTER (WHERE status = 'cancelled' AND late_cancellation) AS late_cancels,
           SUM(length) FILTER (WHERE booked) AS booked
      FROM chosen
     GROUP BY location_id, practitioner_id, patient_id
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
-- The charts' months: counted straight from the appointments chosen above (a month's line
-- needs no per-patient sums first), in the same query.
UNION ALL
SELECT 'month' AS line, month AS key,
       COUNT(*)::bigint AS appointments,
       COUNT(DISTINCT patient_id) AS patients,
       (COUNT(*) FILTER (WHERE status IN ('completed', 'no_show')))::bigint AS due,
       COUNT(DISTINCT patient_id) FILTER (WHERE status IN ('completed', 'no_show')) AS due_patients,
       (COUNT(*) FILTER (WHERE status = 'no_show'))::bigint AS no_shows,
       (COUNT(*) FILTER (WHERE status = 'cancelled' AND late_cancellation))::bigint AS late_cancels,
       COALESCE(EXTRACT(EPOCH FROM SUM(length) FILTER (WHERE booked)) / 60, 0)::bigint
           AS booked_minutes
  FROM chosen
 GROUP BY month
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
       AND """
    + in_scope("t.location_id", "t.author_id")
    + """
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
       AND """
    + in_scope("c.location_id", "c.practitioner_id")
    + """
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


def fetch_rows(sql: str, params: dict) -> dict[tuple[str, int | None], dict]:
    text = re.sub(
        r"\{period_case:([^:}]+):([^:}]+)\}",
        lambda m: _period_case(m.group(1), m.group(2), params["location_ids"]),
        sql,
    )
    text = re.sub(
        r"\{month_case:([^:}]+):([^:}]+)\}",
        lambda m: _month_case(m.group(1), m.group(2), params["location_ids"], params["month_keys"]),
        text,
    ).format(
        **table_names(),
        line_of_row=_LINE_OF_ROW,
        groups=_GROUPS,
        line_or_month_of_row=_LINE_OR_MONTH_OF_ROW,
        groups_and_months=_GROUPS_AND_MONTHS,
        adverse_sums=_adverse_sums(),
        adverse_columns=_adverse_columns(),
    )
    return {(row["line"], row["key"]): row for row in dict_rows(text, params)}


def dict_rows(text: str, params: dict) -> list[dict]:
    """Run `text` and return its rows as dicts keyed by column name."""
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def query_params(period: Period, scope: Scope) -> dict:
    """The query parameters: the period as each location's UTC instants (one query for the
    locations' time zones), and the scope."""
    low, high = period.utc_bounds()
    zones = [(0, dt.UTC)] + [
        (pk, ZoneInfo(name)) for pk, name in Location.objects.values_list("pk", "time_zone")
    ]
    after = period.end + dt.timedelta(days=1)
    months = period.months
    keys = [month.year * 100 + month.month for month in months]
    month_starts = {
        f"mo_{pk}_{key}": dt.datetime.combine(month, dt.time.min, tzinfo=zone)
        for pk, zone in zones
        for month, key in zip(months, keys, strict=True)
    }
    return {
        **month_starts,
        "month_keys": keys,
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
