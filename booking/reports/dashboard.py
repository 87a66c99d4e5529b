"""The clinic's report for a period and scope: every line's figures, their change from the
period before, and the patients they rest on (for the access log of an export).
"""

from __future__ import annotations

from booking.reports.figures import (
    ADVERSE_TYPES,
    Change,
    Figure,
    Line,
    Period,
    Report,
    Scope,
    Utilisation,
)
from booking.reports.outcomes import course_rows
from booking.reports.queries import (
    fetch_adverse,
    fetch_aftercare,
    fetch_courses,
    fetch_visits,
    query_params,
)
from booking.reports.side_by_side import read_together
from booking.reports.utilisation import working_minutes
from clinic.models import (
    Location,
    Practitioner,
)

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
    practitioner, and the course and attendance figures of each month: four aggregate
    queries (courses and visits read side by side with the rest: see side_by_side), the
    working hours (five) and the names (two)."""
    with read_together() as reading:
        params = query_params(period, scope)
        courses = reading.start(fetch_courses, params, scope)
        appointments = reading.start(fetch_visits, params, scope)
        adverse = fetch_adverse(params, scope)
        aftercare = fetch_aftercare(params)
        worked = working_minutes(period, scope)
        courses, appointments = courses.result(), appointments.result()
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

    months = []
    for first_day in period.months:
        month = Line(
            kind="month", key=first_day.year * 100 + first_day.month, name=f"{first_day:%b %Y}"
        )
        index = ("month", month.key)
        _fill(month, courses.get(index), appointments.get(index), None, None)
        months.append(month)

    return Report(
        months=months,
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
        row["patient_id"] for row in course_rows(period, scope, columns="DISTINCT c.patient_id")
    ]
