"""Real separate processes racing for the same slots (no double booking may come out of it),
and bookings per second with several bookers at once.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import time

from django.db import connection, reset_queries
from django.utils import timezone

from booking.benchmark.figures import Figures
from booking.benchmark.world import needling_slots

# --- Real processes racing -----------------------------------------------------------------------------


def _worker_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()


def _race_worker(url: str, barrier, attempts: list[tuple], results) -> None:
    """Books each attempt's time through `book_appointment`: a 30-minute re-assessment in one
    of the free needling slots (a needling session is booked only as a session of a course; the
    race is for the time, whatever is booked in it)."""
    _worker_setup(url)
    from booking import services
    from clinic.models import Location, Patient, Practitioner, Service, User

    outcomes = []
    actor = User.objects.filter(role="practitioner").first()
    barrier.wait()
    for location_id, practitioner_id, service_id, starts_at, patient_id in attempts:
        try:
            services.book_appointment(
                patient=Patient.objects.get(pk=patient_id),
                location=Location.objects.get(pk=location_id),
                practitioner=Practitioner.objects.get(pk=practitioner_id),
                service=Service.objects.get(pk=service_id),
                starts_at=starts_at,
                minutes=30,
                actor=actor,
            )
            outcomes.append("success")
        except services.BookingError:
            outcomes.append("taken")
        except Exception as error:  # noqa: BLE001 - every other outcome is a server error
            outcomes.append(f"error:{type(error).__name__}:{error}")
    results.put(outcomes)


def _hourly_slots(location, now: dt.datetime, *, from_day: int, to_day: int) -> list:
    """The free needling slots at `location` an hour apart, `from_day` to `to_day` days after
    `now`: the races' and the throughput's candidates."""
    _, slots = needling_slots(
        location,
        start=now + dt.timedelta(days=from_day),
        end=now + dt.timedelta(days=to_day),
        now=now,
        step=dt.timedelta(hours=1),
    )
    return slots


def _free_slots_for_race(world, count: int):
    location = world["locations"][1]
    now = timezone.now()
    slots = _hourly_slots(location, now, from_day=2, to_day=12)
    chosen, used = [], set()
    for slot in slots:  # distinct practitioner-times, so that each slot can be won exactly once
        key = (slot.practitioner_id, slot.starts_at)
        if key not in used and all(
            abs(slot.starts_at - c.starts_at) > dt.timedelta(hours=2) for c in chosen
        ):
            chosen.append(slot)
            used.add(key)
        if len(chosen) == count:
            break
    return location, chosen


def _overlaps_in_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM booking_appointment a JOIN booking_appointment b ON a.id < b.id
             WHERE a.status IN ('requested','confirmed','checked_in','completed')
               AND b.status IN ('requested','confirmed','checked_in','completed')
               AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
               AND (a.practitioner_id = b.practitioner_id OR a.room_id = b.room_id OR a.patient_id = b.patient_id)
               AND a.starts_at > now() - interval '1 day'
        """)
        return cursor.fetchone()[0]


def measure_race(world, url: str, bookers: int, contested: int, figures: Figures) -> None:
    location, slots = _free_slots_for_race(world, contested)
    fresh = world["fresh_patients"]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(bookers)
    results = context.Queue()
    processes = []
    for n in range(bookers):
        order = list(slots)
        random.Random(n).shuffle(order)
        # Each booker uses its own patient for every attempt (a patient cannot be in two places).
        attempts = [
            (location.pk, s.practitioner_id, world["reassessment"].pk, s.starts_at, fresh[n])
            for s in order
        ]
        process = context.Process(target=_race_worker, args=(url, barrier, attempts, results))
        process.start()
        processes.append(process)
    outcomes = [o for _ in processes for o in results.get(timeout=300)]
    for process in processes:
        process.join()
    connection.close()
    errors = [o for o in outcomes if o.startswith("error")]
    figures.add("concurrent_bookers", bookers, "processes")
    figures.add("concurrent_attempts", len(outcomes), "attempts")
    figures.add("concurrent_slots", len(slots), "slots")
    figures.add("concurrent_successes", outcomes.count("success"), "bookings")
    figures.add("double_bookings", _overlaps_in_database(), "")
    figures.add("server_errors", len(errors), "")
    for error in errors[:3]:
        print(f"  {error}")


def _throughput_worker(url: str, barrier, attempts: list[tuple], results) -> None:
    _race_worker(url, barrier, attempts, results)


def measure_throughput(world, url: str, bookers: int, figures: Figures) -> None:
    """Processes booking different free slots as fast as they can: successful bookings per second."""
    now = timezone.now()
    plans = []
    fresh = iter(world["fresh_patients"][100:900])
    for location in world["locations"]:
        slots = _hourly_slots(location, now, from_day=14, to_day=28)
        for slot in slots:
            plans.append(
                (location.pk, slot.practitioner_id, world["reassessment"].pk, slot.starts_at, None)
            )
    # Each process takes its own practitioners, so the attempts do not compete.
    by_practitioner: dict[int, list] = {}
    for plan in plans:
        by_practitioner.setdefault(plan[1], []).append(plan)
    shares: list[list] = [[] for _ in range(bookers)]
    for n, (_, items) in enumerate(sorted(by_practitioner.items())):
        shares[n % bookers].extend(plan[:4] + (next(fresh),) for plan in items[:15])
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(bookers + 1)
    results = context.Queue()
    processes = [
        context.Process(target=_throughput_worker, args=(url, barrier, share, results))
        for share in shares
    ]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    outcomes = [o for _ in processes for o in results.get(timeout=600)]
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join()
    figures.add("bookings_per_s", round(outcomes.count("success") / elapsed, 1), "bookings/s")
    reset_queries()
