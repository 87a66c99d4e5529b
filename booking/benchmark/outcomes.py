"""The results dashboard over a year of courses, and over ten: the courses, sessions,
questionnaires and notes are inserted with INSERT … SELECT (fast at a million appointments), then the dashboard
is timed.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

from django.core.management.base import CommandError
from django.db import connection

from booking.benchmark.figures import Figures, percentile

# --- The results dashboard over a year of courses --------------------------------------------------


def _insert_select(cursor, model, values: dict[str, str], source: str, params: dict) -> int:
    """INSERT INTO model's table SELECT …: `values` gives SQL for some columns (reading
    `source`); every other column gets its field's default, so the statement follows the
    model as it changes. Returns the number of rows written."""
    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        column = field.column
        columns.append(f'"{column}"')
        if column in values:
            expressions.append(values[column])
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        else:
            name = f"default_{column}"
            params[name] = field.get_db_prep_save(field.get_default(), connection)
            expressions.append(f"%({name})s")
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} {source}",
        params,
    )
    return cursor.rowcount


def build_course_outcomes(world, courses: int, *, years: int = 1, skip_years: int = 0) -> dict:
    """`courses` courses of 4–6 weekly sessions whose first sessions spread over `years`
    years (the last, or the ones before the last `skip_years`) at every location, each with its patient, questionnaire (the baseline), signed
    assessment, session notes with adverse events, after-care checks and, for most finished
    courses, the end-of-course questionnaire. INSERT … SELECT generate_series: seconds."""
    from booking import reports
    from booking.models import Appointment, Course
    from clinic.models import Patient
    from intake.clinical.models import AssessmentNote, OutcomeSurvey, SessionNote
    from intake.questionnaire.models import Intake

    today = world["today"]
    author = world["practitioners"][0][0].user
    with connection.cursor() as cursor:
        # The synthetic sessions are placed without regard to double booking (the dashboard
        # does not care); this throwaway database drops its overlap constraints for them,
        # after every measurement that relied on them.
        for constraint in (
            "appointment_no_overlap_per_practitioner",
            "appointment_no_overlap_per_room",
            "appointment_no_overlap_per_patient",
        ):
            cursor.execute(
                f"ALTER TABLE {Appointment._meta.db_table} DROP CONSTRAINT IF EXISTS {constraint}"
            )
        # Nor are they placed within each practitioner's certification (ten years of sessions,
        # from practitioners certified five years ago): its trigger is off for the load too.
        cursor.execute(
            "ALTER TABLE booking_appointment DISABLE TRIGGER booking_appointment_travel_time, "
            "DISABLE TRIGGER needling_session_with_a_certified_practitioner"
        )
        cursor.execute(
            "DROP TABLE IF EXISTS bench_practitioner, bench_course; "
            "CREATE TEMP TABLE bench_practitioner (pidx int, pid bigint, location_id bigint, "
            "room_id bigint, tz text)"
        )
        cursor.executemany(
            "INSERT INTO bench_practitioner VALUES (%s, %s, %s, %s, %s)",
            [
                (n, p.pk, home.pk, home.rooms.first().pk, home.time_zone)
                for n, (p, home) in enumerate(world["practitioners"])
            ],
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_course AS
            SELECT n, p.pid, p.location_id, p.room_id, p.tz,
                   (%(start)s::date + (random() * %(days)s)::int) AS first_day,
                   8 + (random() * 9)::int AS hour,
                   4 + floor(random() * 3)::int AS planned,
                   random() AS fate,
                   3 + (random() * 7)::int AS baseline,
                   NULL::bigint AS patient_id, NULL::bigint AS intake_id,
                   NULL::bigint AS assessment_id, NULL::bigint AS course_id
              FROM generate_series(0, %(courses)s - 1) AS g(n)
              JOIN bench_practitioner p ON p.pidx = g.n %% %(practitioners)s
            """,
            {
                "start": today - dt.timedelta(days=365 * (years + skip_years) - 1),
                "days": 365 * years - 1,
                "courses": courses,
                "practitioners": len(world["practitioners"]),
            },
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_course (n)")
        _insert_select(
            cursor,
            Patient,
            {
                "first_name": "'Course'",
                "last_name": f"'Patient {skip_years}-' || n",
                "date_of_birth": "date '1955-01-01' + (n * 7 %% 14000)",
                "phone": "'416-555-0100'",
                "email": f"'course{skip_years}-' || n || '@example.org'",
                "preferred_location_id": "location_id",
            },
            "FROM bench_course ORDER BY n",
            {},
        )
        cursor.execute(
            f"""
            UPDATE bench_course c SET patient_id = p.id
              FROM {Patient._meta.db_table} p
             WHERE p.first_name = 'Course' AND p.last_name = %(prefix)s || c.n
            """,
            {"prefix": f"Patient {skip_years}-"},
        )
        submitted = "(first_day - 14)::timestamp AT TIME ZONE tz"
        _insert_select(
            cursor,
            Intake,
            {
                "patient_id": "patient_id",
                "status": "'submitted'",
                "started_by_id": "%(author)s",
                "submitted_by_id": "%(author)s",
                "created_at": submitted,
                "submitted_at": submitted,
                "pain_first_steps": "baseline",
                "pain_average": "baseline - 1",
                "pain_worst": "10",
            },
            "FROM bench_course",
            {"author": author.pk},
        )
        cursor.execute(
            f"UPDATE bench_course c SET intake_id = i.id FROM {Intake._meta.db_table} i "
            "WHERE i.patient_id = c.patient_id"
        )
        signed = "(first_day - 7)::timestamp AT TIME ZONE tz"
        _insert_select(
            cursor,
            AssessmentNote,
            {
                "patient_id": "patient_id",
                "author_id": "pid",
                "location_id": "location_id",
                "intake_id": "intake_id",
                "created_at": signed,
                "signed_at": signed,
                "fingerprint": "repeat('0', 64)",
                "diagnosis": "'plantar_fasciitis'",
                "diagnosis_side": "'right'",
                "needling_appropriate": "true",
                "decision_reason": "'Synthetic'",
                "planned_sessions": "planned",
                "session_minutes": "30",
                "interval_days": "7",
            },
            "FROM bench_course",
            {},
        )
        cursor.execute(
            f"UPDATE bench_course c SET assessment_id = a.id "
            f"FROM {AssessmentNote._meta.db_table} a WHERE a.patient_id = c.patient_id"
        )
        _insert_select(
            cursor,
            Course,
            {
                "patient_id": "patient_id",
                "practitioner_id": "pid",
                "assessment_id": "assessment_id",
                "sessions_planned": "planned",
                "minutes": "30",
                "interval_days": "7",
                "created_at": signed,
                "created_by_id": "%(author)s",
            },
            "FROM bench_course",
            {"author": author.pk},
        )
        cursor.execute(
            f"UPDATE bench_course c SET course_id = k.id FROM {Course._meta.db_table} k "
            "WHERE k.assessment_id = c.assessment_id AND k.patient_id = c.patient_id"
        )
        cursor.execute("ANALYZE bench_course")
        # Sessions: most courses completed; one in five stops after two sessions (a no-show,
        # then cancellations, some late); sessions after now are still booked.
        start = (
            "((first_day + 7 * (k - 1))::timestamp + make_interval(hours => hour)) AT TIME ZONE tz"
        )
        status = (
            f"CASE WHEN {start} > now() THEN 'confirmed' "
            "WHEN fate < 0.8 OR k <= 2 THEN 'completed' "
            "WHEN k = 3 THEN 'no_show' ELSE 'cancelled' END"
        )
        _insert_select(
            cursor,
            Appointment,
            {
                "location_id": "location_id",
                "practitioner_id": "pid",
                "room_id": "room_id",
                "patient_id": "patient_id",
                "service_id": "%(service)s",
                "starts_at": start,
                "ends_at": f"{start} + interval '30 minutes'",
                "blocks_until": f"{start} + interval '35 minutes'",
                "status": status,
                "course_id": "course_id",
                "session_number": "k",
                "cancelled_by": f"CASE WHEN {status} = 'cancelled' THEN 'patient' ELSE '' END",
                "late_cancellation": f"{status} = 'cancelled' AND fate > 0.9",
                "created_at": signed,
            },
            "FROM bench_course CROSS JOIN LATERAL generate_series(1, planned) AS s(k)",
            {"service": world["needling"].pk},
        )
        cursor.execute(
            "ALTER TABLE booking_appointment ENABLE TRIGGER booking_appointment_travel_time, "
            "ENABLE TRIGGER needling_session_with_a_certified_practitioner"
        )
        event = (
            "CASE WHEN r < 0.22 THEN 'soreness' WHEN r < 0.27 THEN 'bruising' "
            "WHEN r < 0.28 THEN 'bleeding' WHEN r < 0.283 THEN 'fainting' ELSE 'none' END"
        )
        _insert_select(
            cursor,
            SessionNote,
            {
                "patient_id": "a.patient_id",
                "author_id": "a.practitioner_id",
                "location_id": "a.location_id",
                "appointment_id": "a.id",
                "created_at": "a.starts_at",
                "signed_at": "a.ends_at",
                "fingerprint": "repeat('0', 64)",
                "assessment_id": "c.assessment_id",
                "session_number": "a.session_number",
                "performed_at": "a.starts_at",
                "pre_session_pain": "greatest(0, b.baseline - a.session_number)",
                "adverse_events": f"ARRAY[{event}]::varchar[]",
                "adverse_event_severity": f"CASE WHEN {event} = 'none' THEN '' ELSE 'mild' END",
            },
            f"FROM {Appointment._meta.db_table} a "
            f"JOIN {Course._meta.db_table} c ON c.id = a.course_id "
            "JOIN bench_course b ON b.course_id = c.id "
            "CROSS JOIN LATERAL (SELECT random() + a.id * 0 AS r) x "
            "WHERE a.status = 'completed'",
            {},
        )
        # The end-of-course questionnaire, answered for three finished courses in four.
        last = (
            f"(SELECT max(a.ends_at) FROM {Appointment._meta.db_table} a "
            "WHERE a.course_id = b.course_id AND a.status = 'completed')"
        )
        _insert_select(
            cursor,
            OutcomeSurvey,
            {
                "patient_id": "patient_id",
                "kind": "'end_of_course'",
                "channel": "'link'",
                "course_id": "course_id",
                "location_id": "location_id",
                "practitioner_id": "pid",
                "reported_at": f"{last} + interval '1 day'",
                "submitted_at": f"{last} + interval '1 day'",
                "pain_first_steps": "greatest(0, baseline - (x.r * 6)::int)",
                "pain_average": "greatest(0, baseline - 1 - (x.r * 5)::int)",
                "improved_pain_mobility": "x.r < 0.7",
                "improved_strength": "x.r * 7 - floor(x.r * 7) < 0.38",
                "improved_walking": "x.r * 13 - floor(x.r * 13) < 0.46",
                "recommend": "least(10, (x.r * 11)::int + 2)",
            },
            "FROM bench_course b CROSS JOIN LATERAL (SELECT random() + b.n * 0 AS r) x "
            f"WHERE b.fate < 0.8 AND {last} < now() - interval '1 day' "
            f"AND NOT EXISTS (SELECT 1 FROM {Appointment._meta.db_table} a "
            "WHERE a.course_id = b.course_id AND a.status = 'confirmed') "
            "AND b.n %% 4 <> 0",
            {},
        )
    # As the worker leaves the dashboard's tallies (it folds them every pass: each bulk
    # statement above rebuilt every patient's rows, appending their tallies again)...
    reports.fold_tallies()
    with connection.cursor() as cursor:
        # ...and autovacuum a clinic's tables between visits: the report rows were rebuilt in
        # bulk (dead row versions), and the planner needs their statistics.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            f"SELECT count(*) FROM {Appointment._meta.db_table} WHERE course_id IS NOT NULL"
        )
        sessions = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {OutcomeSurvey._meta.db_table}")
        answers = cursor.fetchone()[0]
    return {"courses": courses, "sessions": sessions, "checkins": answers}


def measure_dashboard(world, courses: int, figures: Figures, repeats: int = 20) -> None:
    """The manager's results dashboard for the last year at every location, rendered as the
    view renders it (template included): over a year of `courses` synthetic courses, then
    with nine more years of them before (a clinic ten years on), for the last year and for
    the whole ten years."""
    from clinic import world as clinic_world
    from clinic.models import Role

    started = time.perf_counter()
    built = build_course_outcomes(world, courses)
    figures.add("dashboard_courses", built["courses"], "courses")
    figures.add("dashboard_course_sessions", built["sessions"], "rows")
    figures.add("dashboard_build_seconds", round(time.perf_counter() - started, 1), "s")
    (manager,) = clinic_world.logins(
        [
            {
                "email": "bench.manager@example.org",
                "first_name": "Bench",
                "last_name": "Manager",
                "role": Role.MANAGER,
            }
        ],
        password=None,
    )
    _time_dashboard(manager, {}, "dashboard", figures, repeats)

    started = time.perf_counter()
    built = build_course_outcomes(world, courses * 9, years=9, skip_years=1)
    figures.add("dashboard_10y_courses", courses + built["courses"], "courses")
    figures.add("dashboard_10y_course_sessions", built["sessions"], "rows")
    figures.add("dashboard_10y_build_seconds", round(time.perf_counter() - started, 1), "s")
    _time_dashboard(manager, {}, "dashboard_10y", figures, repeats)
    today = world["today"]
    whole = {
        "start": (today - dt.timedelta(days=365 * 10 - 1)).isoformat(),
        "end": today.isoformat(),
    }
    _time_dashboard(manager, whole, "dashboard_10y_whole", figures, max(5, repeats // 4))


def _time_dashboard(manager, query: dict, name: str, figures: Figures, repeats: int) -> None:
    from django.test import RequestFactory

    from booking.reports.views import dashboard

    factory = RequestFactory()
    timings, queries = [], []
    for n in range(repeats + 3):
        request = factory.get("/reports/", query)
        request.user = manager
        statements = []
        start = time.perf_counter()
        # Every statement, the side connections' too (they run through the page's wrappers:
        # booking.reports.side_by_side).
        with connection.execute_wrapper(_counted(statements)):
            response = dashboard(request)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise CommandError(f"The dashboard answered {response.status_code}.")
        if n >= 3:  # the first renders warm caches and the connection
            timings.append(elapsed)
            queries.append(len(statements))
    figures.add(f"{name}_p50_ms", round(statistics.median(timings), 1), "ms")
    figures.add(f"{name}_p95_ms", round(percentile(timings, 95), 1), "ms")
    figures.add(f"{name}_queries", max(queries), "queries")


def _counted(statements: list):
    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    return count
