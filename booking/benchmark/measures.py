"""Measured in-process: the slot search, booking a whole course, and the front desk's day view."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from booking.benchmark.figures import Figures, percentile
from booking.benchmark.world import FUTURE_DAYS, needling_slots

# --- Measurements ----------------------------------------------------------------------------------


def measure_slot_search(world, searches: int, figures: Figures) -> None:
    """One location, all its certified practitioners, the whole 8-week window, as the patient
    slot list does it: load (fixed queries) then compute (pure Python)."""
    location = world["locations"][0]
    timings, queries, found = [], [], 0
    for n in range(searches + 3):
        now = timezone.now() + dt.timedelta(minutes=n)
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            _, slots = needling_slots(
                location,
                start=now,
                end=now + dt.timedelta(days=FUTURE_DAYS),
                now=now,
                for_patient=True,
            )
        elapsed = (time.perf_counter() - start) * 1000
        if n >= 3:  # the first searches warm caches and connections
            timings.append(elapsed)
            queries.append(len(captured))
            found = len(slots)
    figures.add("slot_search_p50_ms", round(statistics.median(timings), 1), "ms")
    figures.add("slot_search_p95_ms", round(percentile(timings, 95), 1), "ms")
    figures.add("slot_search_queries", max(queries), "queries")
    figures.add("slot_search_slots_found", found, "slots")


def _free_course(world, patient, location, rng) -> list | None:
    """Six weekly sessions that are all free, found with the same rules the booking uses."""
    from booking import services

    now = timezone.now()
    availability, slots = needling_slots(
        location, start=now + dt.timedelta(days=1), end=now + dt.timedelta(days=8), now=now
    )
    rng.shuffle(slots)
    for slot in slots[:40]:
        practitioner = availability.practitioners[slot.practitioner_id]
        times = services.proposed_dates(
            first=slot.starts_at, zone=location.zone, sessions=6, interval_days=7
        )
        choices = [
            services.SessionChoice(n + 1, location, practitioner, t) for n, t in enumerate(times)
        ]
        checked = services.check_course(
            patient=patient, service=world["needling"], minutes=30, choices=choices, alternatives=0
        )
        if all(p.ok for p in checked):
            return choices
    return None


def measure_course_booking(world, courses: int, figures: Figures) -> None:
    from booking import gates, services
    from clinic.models import Patient

    rng = random.Random(7)
    fresh = world["fresh_patients"]
    booker = world["practitioners"][0][0].user
    timings = []
    original_gate = gates.course_gate
    for n in range(courses):
        patient = Patient.objects.get(pk=fresh[-1 - n])
        location = world["locations"][n % len(world["locations"])]
        choices = _free_course(world, patient, location, rng)
        if choices is None:
            continue
        gates.course_gate = _bench_gate(_bench_assessment(patient, choices[0].practitioner))
        try:
            start = time.perf_counter()
            services.book_course(patient=patient, choices=choices, actor=booker)
            timings.append((time.perf_counter() - start) * 1000)
        except services.BookingError:
            pass
        finally:
            gates.course_gate = original_gate
    figures.add(
        "course_booking_p50_ms", round(statistics.median(timings), 1) if timings else "n/a", "ms"
    )
    figures.add(
        "course_booking_p95_ms", round(percentile(timings, 95), 1) if timings else "n/a", "ms"
    )
    figures.add("courses_booked", len(timings), "courses")


def _bench_assessment(patient, practitioner):
    """A signed assessment of the synthetic patient's prescribing 6 weekly 30-minute sessions:
    the database refuses a course without one of the patient's own."""
    from intake.clinical.models import AssessmentNote

    return AssessmentNote.objects.create(
        patient=patient,
        author=practitioner,
        signed_at=timezone.now(),
        fingerprint="0" * 64,
        diagnosis="plantar_fasciitis",
        diagnosis_side="right",
        needling_appropriate=True,
        decision_reason="Synthetic",
        planned_sessions=6,
        session_minutes=30,
        interval_days=7,
    )


def _bench_gate(assessment):
    """Intake's decision for a synthetic patient: their signed plan (`_bench_assessment`)."""
    from types import SimpleNamespace

    def gate(patient):
        return SimpleNamespace(
            allowed=True,
            reason="",
            prescription=SimpleNamespace(
                assessment_id=assessment.pk,
                patient_id=patient.pk,
                practitioner_id=assessment.author_id,
                sessions=6,
                minutes=30,
                interval_days=7,
                signed_at=timezone.now(),
            ),
        )

    return gate


def measure_day_view(world, figures: Figures) -> None:
    """The front desk's day view of the busiest location on its busiest day, twice: as the
    synthetic day stands (its needling sessions of no course), and with every needling session
    on it a session of a course, as in a clinic where needling is only given as a course."""
    try:
        from booking.desk.timing import busiest_day, day_view_timing
    except ImportError:
        return
    location = world["locations"][0]
    day = busiest_day(location)
    timings, queries = day_view_timing(location, repeats=20, day=day)
    figures.add("day_view_p95_ms", round(percentile(timings, 95), 1), "ms")
    figures.add("day_view_queries", queries, "queries")
    with transaction.atomic():
        sessions = _sessions_of_courses(world, location, day)
        timings, queries = day_view_timing(location, repeats=20, day=day)
        transaction.set_rollback(True)
    figures.add("day_view_of_courses_sessions", sessions, "course sessions")
    figures.add("day_view_of_courses_p95_ms", round(percentile(timings, 95), 1), "ms")
    figures.add("day_view_of_courses_queries", queries, "queries")


def _sessions_of_courses(world, location, day: dt.date) -> int:
    """Make each needling session on `day` at `location` a session of a course of its patient
    (a signed assessment and a course each; a patient's sessions numbered in order), so that
    the day view reads, for every one, its practitioner's certification and its course's plan
    as amended. Only inside the caller's transaction, which is rolled back: the synthetic
    sessions are 45 minutes long, which no course has, so the rules that keep a session to its
    course are set aside for it."""
    from booking.desk.grid import day_bounds
    from booking.models import Appointment, Course

    start, end = day_bounds(day, location.zone)
    appointments = list(
        Appointment.objects.filter(
            location=location, service=world["needling"], starts_at__gte=start, starts_at__lt=end
        )
        .select_related("patient", "practitioner")
        .order_by("patient_id", "starts_at")
    )
    booker = world["practitioners"][0][0].user
    courses: dict[int, Course] = {}
    numbers: dict[int, int] = {}
    with connection.cursor() as cursor:
        # Nothing pending while the table is altered, now and when its rules are back on.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE booking_appointment DISABLE TRIGGER USER")
    numbered = []
    for appointment in appointments:
        number = numbers.get(appointment.patient_id, 0) + 1
        if number > 6:  # the benchmark's plans have six sessions (`_bench_assessment`)
            continue
        if appointment.patient_id not in courses:
            assessment = _bench_assessment(appointment.patient, appointment.practitioner)
            courses[appointment.patient_id] = Course.objects.create(
                patient_id=appointment.patient_id,
                practitioner_id=appointment.practitioner_id,
                assessment_id=assessment.pk,
                sessions_planned=assessment.planned_sessions,
                minutes=assessment.session_minutes,
                interval_days=assessment.interval_days,
                created_by=booker,
            )
        numbers[appointment.patient_id] = number
        appointment.course = courses[appointment.patient_id]
        appointment.session_number = number
        numbered.append(appointment)
    Appointment.objects.bulk_update(numbered, ["course", "session_number"])
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE booking_appointment ENABLE TRIGGER USER")
    return len(numbered)
