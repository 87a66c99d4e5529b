"""The de-identified per-course outcomes export: one row a course, no names, no dates of
birth, pain scores and what was done.
"""

from __future__ import annotations

from booking.reports.figures import Period, Scope
from booking.reports.queries import (
    SESSIONS_CTE,
    dict_rows,
    in_scope,
    query_params,
    table_names,
)

# --- The de-identified per-course outcomes ---------------------------------------------------

OUTCOMES_SQL = (
    "WITH"
    + SESSIONS_CTE
    + """, answers AS (
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
   AND """
    + in_scope("s.location_id", "c.practitioner_id")
    + """
 {order}
"""
)

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


def course_rows(period: Period, scope: Scope, *, columns: str, order: str = "") -> list[dict]:
    text = OUTCOMES_SQL.format(**table_names(), columns=columns, order=order)
    return dict_rows(text, query_params(period, scope))


def course_outcomes(period: Period, scope: Scope) -> list[dict]:
    """One row per course of the period (see OUTCOME_COLUMNS, plus the patient's id for the
    access log, never exported), oldest first. One query."""
    columns = ", ".join(f"{sql} AS {name}" for name, sql in OUTCOME_COLUMNS.items())
    columns += ", c.patient_id AS patient_id"
    return course_rows(period, scope, columns=columns, order="ORDER BY s.first_start, c.id")
