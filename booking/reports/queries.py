"""The dashboard's SQL: one query each for courses, visits, session notes and after-care,
every line at once (GROUPING SETS: the total, each location, each practitioner and, for courses
and visits, each month of the charts), so the page costs the same number of queries whatever
the size of the clinic.

Courses, visits and signed session notes are read from their report rows
(booking.models.report_rows), which PostgreSQL keeps in each location's local dates and with
each patient's previous row: a figure's patients are counted as the rows with no previous row
of that patient in the same line and period, without sorting for COUNT(DISTINCT …). Visits and
sessions are read from their rows' tallies (the rows counted by everything read here: a third
as many entries to add up), courses from their rows.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection

from booking.models import (
    Appointment,
    Course,
    CourseReportRow,
    SessionReportRow,
    SessionReportTally,
    VisitReportRow,
    VisitReportTally,
)
from booking.models.report_rows import adverse_flag, previous_column
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
        "course_rows": CourseReportRow._meta.db_table,
        "visit_rows": VisitReportRow._meta.db_table,
        "session_rows": SessionReportRow._meta.db_table,
        "visit_tally": VisitReportTally._meta.db_table,
        "session_tally": SessionReportTally._meta.db_table,
    }


# After-care answers are few: their lines are grouped in SQL (GROUPING SETS).
_LINE_OF_ROW = """
    CASE WHEN GROUPING(location_id) = 0 THEN 'location'
         WHEN GROUPING(practitioner_id) = 0 THEN 'practitioner'
         ELSE 'total' END AS line,
    CASE WHEN GROUPING(location_id) = 0 THEN location_id ELSE practitioner_id END AS key
"""
_GROUPS = "GROUP BY GROUPING SETS ((), (location_id), (practitioner_id))"

# Courses, visits and sessions are summed in SQL by the finest line they are shown on (month,
# location and practitioner: a few hundred groups for a year), and the lines (the total, each
# location, practitioner and month) are added up here. Every column is a sum, patients too:
# counted as first rows (see `_patients`), a line's patients are the sum of its groups'.
LINES = ("total", "location", "practitioner")
LINES_AND_MONTHS = (*LINES, "month")


def in_scope(location: str, practitioner: str) -> str:
    """SQL: the row is in the report's scope, a location and a practitioner (NULL: any),
    `location` and `practitioner` being the row's columns for them."""
    return (
        f"(%(location)s::bigint IS NULL OR {location} = %(location)s)\n"
        f"       AND (%(practitioner)s::bigint IS NULL OR {practitioner} = %(practitioner)s)"
    )


# How the rows are counted: one by one (courses), or by their tallies' counts (visits and
# sessions: see booking.models.report_rows).
ROWS, TALLIED = "COUNT(*)", "SUM(rows_counted)"


def _patients(
    name: str, count: str, condition: str, scope: Scope, lines, rows: str = ROWS
) -> list[tuple[str, str]]:
    """`name_<line>` for each kind of line (SQL and name), the patients of the rows meeting
    `condition`: the rows whose patient has no earlier row counted as `count` in the same line
    and period. What a line shares is its own kind (a location, a practitioner) and the
    scope's. `rows` counts the rows (ROWS or TALLIED)."""
    shared = {"location"} if scope.location_id else set()
    if scope.practitioner_id:
        shared.add("practitioner")
    columns = []
    for line in lines:
        column = previous_column(count, frozenset(shared | ({line} & set(LINES[1:]))))
        # A month's line starts on the month's first day, or the period's if later.
        since = "%(start)s" if line != "month" else "GREATEST(%(start)s, month_start)"
        first = f"({column} IS NULL OR {column} < {since})"
        where = f"{condition} AND {first}" if condition else first
        columns.append((f"{rows} FILTER (WHERE {where})", f"{name}_{line}"))
    return columns


def _lines_sql(
    items: list[tuple[str, str]], table: str, lines, *, then: str = "", rows: str = ROWS
) -> str:
    """The query of a kind of row: `items` (SQL, name) summed by month, location and
    practitioner over the period's rows of `table` (a few hundred groups for a year), then the
    lines added up from those groups (GROUPING SETS over the groups: cheap). A line takes its
    own kind's patients (`patients_location` as `patients`). `then` may add columns to the
    groups: a CTE reading `grouped`, named `groups`, whose first line says `-- adds: a, b`.
    `rows` counts the rows: a group whose tally entries cancel out has none and is left out."""
    months = "month" in lines
    plain, patients = [], {}
    for _, name in items:
        kind = next((k for k in lines if name.endswith(f"_{k}")), None)
        if kind is None:
            plain.append(name)
        else:
            patients.setdefault(name.removesuffix(f"_{kind}"), {})[kind] = name
    if then:
        plain += [n.strip() for n in then.split("-- adds:", 1)[1].split("\n", 1)[0].split(",")]
    tests = [("month", "GROUPING(month) = 0", "month")] if months else []
    tests += [
        ("location", "GROUPING(location_id) = 0", "location_id"),
        ("practitioner", "GROUPING(practitioner_id) = 0", "practitioner_id"),
    ]
    # COALESCE: a line's groups may all lack a figure. (No groups at all would make one total
    # row of NULLs: HAVING leaves it out.)
    summed = [f"COALESCE(SUM({name}), 0)::bigint AS {name}" for name in plain]
    for base, by_kind in patients.items():
        cases = " ".join(f"WHEN {test} THEN SUM({by_kind[kind]})" for kind, test, _ in tests)
        total = f"SUM({by_kind['total']})"
        summed.append(f"COALESCE(CASE {cases} ELSE {total} END, 0)::bigint AS {base}")
    # Lines without months are summed by location and practitioner only (fewer groups).
    grouping = "month, location_id, practitioner_id" if months else "location_id, practitioner_id"
    sets = "(), (location_id), (practitioner_id)" + (", (month)" if months else "")
    inner = ",\n           ".join(f"{sql} AS {name}" for sql, name in items)
    sums = ",\n       ".join(summed)
    line = " ".join(f"WHEN {test} THEN '{kind}'" for kind, test, _ in tests)
    key = " ".join(f"WHEN {test} THEN {column}" for _, test, column in tests)
    return f"""
WITH grouped AS (
    SELECT {grouping},
           {inner}
      FROM {{{table}}}
     WHERE local_date BETWEEN %(start)s AND %(end)s
       AND {in_scope("location_id", "practitioner_id")}
     GROUP BY {grouping}
    HAVING {rows} <> 0
){then or ", groups AS (SELECT * FROM grouped)"}
SELECT CASE {line} ELSE 'total' END AS line,
       CASE {key} END AS key,
       {sums}
  FROM groups
 GROUP BY GROUPING SETS ({sets})
HAVING COUNT(*) > 0
"""


def _courses_sql(scope: Scope) -> str:
    ended = "(completed OR abandoned)"
    pain = "baseline IS NOT NULL AND at_end IS NOT NULL"
    items = [
        ("COUNT(*)", "started"),
        *_patients("patients", "course", "", scope, LINES_AND_MONTHS),
        ("COUNT(*) FILTER (WHERE completed)", "completed"),
        ("COUNT(*) FILTER (WHERE abandoned)", "abandoned"),
        *_patients("ended_patients", "ended", ended, scope, LINES_AND_MONTHS),
        (f"COUNT(*) FILTER (WHERE {pain})", "pain_n"),
        *_patients("pain_patients", "pain", pain, scope, LINES_AND_MONTHS),
        ("COUNT(*) FILTER (WHERE baseline - at_end >= 2)", "fell_2"),
        # The mean change and its spread, from sums (see _change_from_sums).
        ("SUM(at_end - baseline)", "change_sum"),
        ("SUM((at_end - baseline) * (at_end - baseline))", "change_squares"),
        # The end-of-course questions are asked together: the patients who answered.
        *_patients("answered_patients", "answered", "answered", scope, LINES_AND_MONTHS),
        ("COUNT(improved_pain_mobility)", "pain_mobility_n"),
        ("COUNT(*) FILTER (WHERE improved_pain_mobility)", "pain_mobility_yes"),
        ("COUNT(improved_walking)", "walking_n"),
        ("COUNT(*) FILTER (WHERE improved_walking)", "walking_yes"),
        ("COUNT(improved_strength)", "strength_n"),
        ("COUNT(*) FILTER (WHERE improved_strength)", "strength_yes"),
        ("COUNT(recommend)", "recommend_n"),
        ("COUNT(*) FILTER (WHERE recommend >= 9)", "recommend_yes"),
    ]
    return _lines_sql(items, "course_rows", LINES_AND_MONTHS)


# Booked time counts the active statuses (booking.models.ACTIVE_STATUSES; a no-show's time
# was not used, a cancelled one's was given back) where the practitioner's hours count as
# available time (see utilisation): active, still working at an active location, so the two
# sides of utilisation are about the same people and places.
_BOOKED_WHERE_AVAILABLE = """, available AS (
    SELECT p.id AS practitioner_id, ul.location_id
      FROM {practitioner} p
      JOIN {user} u ON u.id = p.user_id AND u.is_active
      JOIN {user_location} ul ON ul.user_id = u.id
      JOIN {location} l ON l.id = ul.location_id AND l.is_active
), groups AS (
    -- adds: booked_minutes
    SELECT g.*,
           CASE WHEN v.location_id IS NULL THEN 0 ELSE COALESCE(g.active_minutes, 0) END
               AS booked_minutes
      FROM grouped g
      LEFT JOIN available v
        ON v.practitioner_id = g.practitioner_id AND v.location_id = g.location_id
)"""


def _visits_sql(scope: Scope) -> str:
    # Read from their tallies; `due`, `no_show` and `late_cancelled` are kept from the status,
    # `active_minutes` is the booked time (see VisitReportRow).
    items = [
        (TALLIED, "appointments"),
        *_patients("patients", "visit", "", scope, LINES_AND_MONTHS, TALLIED),
        (f"{TALLIED} FILTER (WHERE due)", "due"),
        *_patients("due_patients", "due", "due", scope, LINES_AND_MONTHS, TALLIED),
        (f"{TALLIED} FILTER (WHERE no_show)", "no_shows"),
        (f"{TALLIED} FILTER (WHERE late_cancelled)", "late_cancels"),
        ("SUM(active_minutes)", "active_minutes"),
    ]
    return _lines_sql(
        items, "visit_tally", LINES_AND_MONTHS, then=_BOOKED_WHERE_AVAILABLE, rows=TALLIED
    )


def _adverse_sql(scope: Scope) -> str:
    """Adverse events of the sessions recorded in the period (as amended), from their
    tallies."""
    items = [
        (TALLIED, "sessions"),
        *_patients("patients", "session", "", scope, LINES, TALLIED),
        *((f"{TALLIED} FILTER (WHERE {adverse_flag(e.value)})", e.value) for e in ADVERSE_TYPES),
    ]
    return _lines_sql(items, "session_tally", LINES, rows=TALLIED)


def _period_case(moment: str, location: str, location_ids: list[int]) -> str:
    """SQL: `moment` falls in the period in the local time of `location` (an id; NULL for
    UTC). Each location's period is passed as UTC instants (its local midnights), so rows are
    compared with two timestamps instead of being converted to local time one by one."""
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
    + "{period_case}"
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


def _keyed(rows: list[dict]) -> dict[tuple[str, int | None], dict]:
    """The lines keyed by kind and key: `("location", 3)`, `("total", None)`."""
    keyed = {(row["line"], row["key"]): row for row in rows}
    for line in keyed.values():
        _change_from_sums(line)
    return keyed


def _change_from_sums(line: dict) -> None:
    """The mean change in pain and its sample standard deviation, from the sums."""
    if "change_sum" not in line:
        return
    n, total, squares = line["pain_n"], line["change_sum"], line["change_squares"]
    line["mean_change"] = total / n if n else None
    line["sd_change"] = ((squares - total * total / n) / (n - 1)) ** 0.5 if n > 1 else None


def fetch_courses(params: dict, scope: Scope) -> dict[tuple[str, int | None], dict]:
    return _keyed(_fetch(_courses_sql(scope), params))


def fetch_visits(params: dict, scope: Scope) -> dict[tuple[str, int | None], dict]:
    return _keyed(_fetch(_visits_sql(scope), params))


def fetch_adverse(params: dict, scope: Scope) -> dict[tuple[str, int | None], dict]:
    return _keyed(_fetch(_adverse_sql(scope), params))


def fetch_aftercare(params: dict) -> dict[tuple[str, int | None], dict]:
    period = _period_case("c.reported_at", "c.location_id", params["location_ids"])
    text = AFTERCARE_SQL.replace("{period_case}", period)
    return {(row["line"], row["key"]): row for row in _fetch(text, params)}


def _fetch(sql: str, params: dict) -> list[dict]:
    return dict_rows(sql.format(**table_names(), line_of_row=_LINE_OF_ROW, groups=_GROUPS), params)


def dict_rows(text: str, params: dict) -> list[dict]:
    """Run `text` and return its rows as dicts keyed by column name."""
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def query_params(period: Period, scope: Scope) -> dict:
    """The query parameters: the period (local dates, and as each location's UTC instants for
    the records read raw: one query for the locations' time zones), and the scope."""
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
