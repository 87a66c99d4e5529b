"""Measured in-process: the slot search, booking a whole course, and the front desk's day view."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time

from django.db import connection
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
    """The front desk's day view of the busiest location, if the front-desk module is present."""
    try:
        from booking.desk.timing import day_view_timing
    except ImportError:
        return
    timings, queries = day_view_timing(world["locations"][0], repeats=20)
    figures.add("day_view_p95_ms", round(percentile(timings, 95), 1), "ms")
    figures.add("day_view_queries", queries, "queries")
