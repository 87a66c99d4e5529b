"""`python manage.py benchmark`: speed and correctness figures of the booking engine.

Builds a throwaway PostgreSQL database with synthetic data at the chosen scale, measures
in-process, races real separate processes for a few slots, drops the database, and prints
one line per figure as `name: value unit`.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
import random
import resource
import statistics
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import psycopg2
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

LOCATIONS = [
    ("Bench Leaside", "America/Toronto"),
    ("Bench Danforth", "America/Toronto"),
    ("Bench Rockville", "America/New_York"),
    ("Bench Largo", "America/New_York"),
]
PRACTITIONERS = 30
SLOTS_PER_DAY = 8  # 45-minute appointments every hour from 8:00
FUTURE_DAYS = 56
FUTURE_FILL = 0.6


@dataclass
class Figures:
    lines: list[tuple[str, object, str]]

    def add(self, name: str, value, unit: str = "") -> None:
        self.lines.append((name, value, unit))


class Command(BaseCommand):
    help = (
        "Measure the booking engine on a throwaway database with synthetic data: slot search, "
        "course booking, the front desk's day view, real processes racing for the same "
        "slots, and the results dashboard over a year of courses. Prints `name: value unit` "
        "lines; the database is dropped afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--appointments",
            type=int,
            default=10_000,
            help="How many appointments to generate (10,000 up to 1,000,000 or more).",
        )
        parser.add_argument("--searches", type=int, default=40, help="Slot searches to time.")
        parser.add_argument(
            "--courses", type=int, default=20, help="Six-session courses to book and time."
        )
        parser.add_argument(
            "--bookers", type=int, default=8, help="Processes racing for the same slots (>= 8)."
        )
        parser.add_argument(
            "--contested-slots", type=int, default=4, help="Slots the bookers race for."
        )
        parser.add_argument(
            "--report-courses",
            type=int,
            default=20_000,
            help="Courses (with sessions, notes and check-ins) behind the results dashboard.",
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        if options["bookers"] < 2:
            raise CommandError("--bookers must be at least 2.")
        random.seed(options["seed"])
        name = f"heelclinic_bench_{uuid.uuid4().hex[:10]}"
        figures = Figures([])
        started = time.perf_counter()
        with throwaway_database(name) as url:
            self.stderr.write(f"Building {options['appointments']:,} appointments in {name}...")
            world = build_world(options["appointments"], seed=options["seed"])
            figures.add("appointments", world["appointments"], "rows")
            figures.add("build_seconds", round(time.perf_counter() - started, 1), "s")
            # As clinic/wsgi.py does once the app is loaded in each server process.
            gc.collect()
            gc.freeze()
            measure_slot_search(world, options["searches"], figures)
            measure_course_booking(world, options["courses"], figures)
            measure_day_view(world, figures)
            measure_race(world, url, options["bookers"], options["contested_slots"], figures)
            measure_throughput(world, url, options["bookers"], figures)
            # Last: it drops the overlap constraints of this throwaway database (see there).
            measure_dashboard(world, options["report_courses"], figures)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        figures.add("peak_rss_mb", round(max(own, children) / 1024, 1), "MB")
        for metric, value, unit in figures.lines:
            self.stdout.write(f"{metric}: {value} {unit}".rstrip())


# --- The throwaway database ------------------------------------------------------------------


@contextmanager
def throwaway_database(name: str):
    """Create `name` next to the app's database, point Django at it, migrate; drop it after."""
    default = connections["default"]
    original = dict(default.settings_dict)
    admin = psycopg2.connect(
        host=original["HOST"] or None,
        port=original["PORT"] or None,
        user=original["USER"],
        password=original["PASSWORD"] or None,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    default.close()
    default.settings_dict["NAME"] = name
    url = (
        f"postgres://{quote(original['USER'] or '')}"
        + (f":{quote(original['PASSWORD'])}" if original["PASSWORD"] else "")
        + f"@{original['HOST'] or '127.0.0.1'}:{original['PORT'] or 5432}/{name}"
    )
    try:
        call_command("migrate", verbosity=0, interactive=False)
        yield url
    finally:
        default.close()
        default.settings_dict["NAME"] = original["NAME"]
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# --- Synthetic data ------------------------------------------------------------------------------


def build_world(appointments: int, *, seed: int) -> dict:
    from booking.models import Room
    from clinic.models import (
        Certification,
        Location,
        OpeningHours,
        Patient,
        Practitioner,
        Role,
        Service,
        ServiceKind,
        User,
        WorkingHours,
    )

    today = timezone.localdate()
    locations = []
    for n, (name, zone) in enumerate(LOCATIONS):
        location = Location.objects.create(
            name=name,
            slug=f"bench-{n}",
            street_address=f"{n} Bench Street",
            city="Bench",
            region="Ontario" if "Toronto" in zone else "Maryland",
            postal_code="00000",
            phone="416-555-0100",
            time_zone=zone,
            min_notice_minutes=120,
            booking_horizon_days=FUTURE_DAYS,
            buffer_minutes=5,
        )
        OpeningHours.objects.bulk_create(
            [
                OpeningHours(
                    location=location, weekday=d, opens_at=dt.time(7), closes_at=dt.time(19)
                )
                for d in range(6)
            ]
        )
        locations.append(location)
    assessment = Service.objects.create(
        kind=ServiceKind.ASSESSMENT,
        name="Initial assessment",
        allowed_minutes=[45, 60],
        default_minutes=45,
    )
    needling = Service.objects.create(
        kind=ServiceKind.DRY_NEEDLING,
        name="Dry-needling session",
        allowed_minutes=[15, 20, 30],
        default_minutes=30,
    )
    Service.objects.create(
        kind=ServiceKind.REASSESSMENT,
        name="Re-assessment",
        allowed_minutes=[30],
        default_minutes=30,
    )

    rooms_per_location = PRACTITIONERS // len(locations) + 4
    rooms = {
        location.pk: Room.objects.bulk_create(
            [Room(location=location, name=f"Room {r + 1:02}") for r in range(rooms_per_location)]
        )
        for location in locations
    }
    practitioners = []
    users = User.objects.bulk_create(
        [
            User(
                email=f"bench{n}@example.org",
                first_name="Bench",
                last_name=f"Practitioner {n}",
                role=Role.PRACTITIONER,
                password="!",
            )
            for n in range(PRACTITIONERS)
        ]
    )
    home_rooms = {}
    for n, user in enumerate(users):
        home = locations[n % len(locations)]
        second = locations[(n + 1) % len(locations)]
        user.locations.set([home, second] if n % 3 == 0 else [home])
        practitioner = Practitioner.objects.create(user=user, title="Physiotherapist")
        practitioners.append((practitioner, home))
        home_rooms[practitioner.pk] = rooms[home.pk][(n // len(locations))]
        WorkingHours.objects.bulk_create(
            [
                WorkingHours(
                    practitioner=practitioner,
                    location=home,
                    weekday=d,
                    starts_at=dt.time(8),
                    ends_at=dt.time(17),
                )
                for d in range(5)
            ]
        )
        if n % 3 == 0:
            WorkingHours.objects.create(
                practitioner=practitioner,
                location=second,
                weekday=5,
                starts_at=dt.time(9),
                ends_at=dt.time(13),
            )
        expired = n % 10 == 9
        Certification.objects.create(
            practitioner=practitioner,
            issued_by="Bench Institute",
            valid_from=today - dt.timedelta(days=2000),
            valid_until=today - dt.timedelta(days=30)
            if expired
            else today + dt.timedelta(days=365),
        )
    patient_count = max(2_000, appointments // 20)
    Patient.objects.bulk_create(
        [
            Patient(
                first_name="Bench",
                last_name=f"Patient {n}",
                date_of_birth=dt.date(1970, 1, 1) + dt.timedelta(days=n % 9000),
                phone="416-555-0199",
                email=f"patient{n}@example.org",
            )
            for n in range(patient_count)
        ],
        batch_size=5000,
    )
    first_patient = Patient.objects.order_by("pk").values_list("pk", flat=True).first()
    # Patients with no appointments yet, for the bookings the benchmark makes itself.
    fresh = Patient.objects.bulk_create(
        [
            Patient(
                first_name="Fresh",
                last_name=f"Patient {n}",
                date_of_birth=dt.date(1980, 1, 1),
                phone="416-555-0198",
            )
            for n in range(1000)
        ]
    )

    # Appointments by construction free of overlaps: each practitioner works in their own room
    # at their home location, on weekdays, at hourly slots; a slot's patient is unique at that time.
    future_weekdays = sum(
        1 for d in range(FUTURE_DAYS) if (today + dt.timedelta(days=d)).weekday() < 5
    )
    future_rows = int(PRACTITIONERS * future_weekdays * SLOTS_PER_DAY * FUTURE_FILL)
    past_rows = max(0, appointments - future_rows)
    past_weekdays = max(1, -(-past_rows // int(PRACTITIONERS * SLOTS_PER_DAY * 0.85)))
    past_days = past_weekdays * 7 // 5 + 7
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_p (pid bigint, pidx int, location_id bigint, room_id bigint, tz text)"
        )
        cursor.executemany(
            "INSERT INTO bench_p VALUES (%s, %s, %s, %s, %s)",
            [
                (p.pk, n, home.pk, home_rooms[p.pk].pk, home.time_zone)
                for n, (p, home) in enumerate(practitioners)
            ],
        )
        cursor.execute("SELECT setseed(%s)", [((seed % 1000) / 1000.0)])
        # The rows are valid by construction; the travel-time trigger would only slow the load.
        cursor.execute(
            "ALTER TABLE booking_appointment DISABLE TRIGGER booking_appointment_travel_time"
        )
        insert = """
            INSERT INTO booking_appointment (location_id, practitioner_id, room_id, patient_id, service_id,
                starts_at, ends_at, blocks_until, status, cancelled_by, cancellation_reason,
                late_cancellation, patient_note, created_at, version)
            SELECT p.location_id, p.pid, p.room_id,
                   %(first_patient)s + ((d.n * 8 + h.n) * 31 + p.pidx) %% %(patients)s,
                   %(service)s,
                   ((%(start)s::date + d.n) + make_interval(hours => 8 + h.n)) AT TIME ZONE p.tz,
                   ((%(start)s::date + d.n) + make_interval(hours => 8 + h.n, mins => 45)) AT TIME ZONE p.tz,
                   ((%(start)s::date + d.n) + make_interval(hours => 8 + h.n, mins => 50)) AT TIME ZONE p.tz,
                   s.status, CASE WHEN s.status = 'cancelled' THEN 'patient' ELSE '' END, '', false, '', now(), 1
              FROM generate_series(0, %(days)s - 1) AS d(n)
             CROSS JOIN generate_series(0, 7) AS h(n)
             CROSS JOIN bench_p p
             CROSS JOIN LATERAL (SELECT random() AS r) x
             CROSS JOIN LATERAL (SELECT CASE
                    WHEN %(past)s AND x.r < 0.05 THEN 'cancelled'
                    WHEN %(past)s AND x.r < 0.08 THEN 'no_show'
                    WHEN %(past)s THEN 'completed'
                    WHEN x.r < 0.06 THEN 'cancelled'
                    WHEN x.r < 0.16 THEN 'requested'
                    ELSE 'confirmed' END AS status) s
             WHERE extract(isodow FROM %(start)s::date + d.n) < 6
               AND random() < %(fill)s
             LIMIT %(limit)s
        """
        past_start = today - dt.timedelta(days=past_days)
        if past_rows:
            cursor.execute(
                insert,
                {
                    "first_patient": first_patient,
                    "patients": patient_count,
                    "service": assessment.pk,
                    "start": past_start,
                    "days": past_days - 1,
                    "past": True,
                    "fill": 0.9,
                    "limit": past_rows,
                },
            )
        cursor.execute(
            insert,
            {
                "first_patient": first_patient,
                "patients": patient_count,
                "service": needling.pk,
                "start": today + dt.timedelta(days=1),
                "days": FUTURE_DAYS,
                "past": False,
                "fill": FUTURE_FILL,
                "limit": future_rows,
            },
        )
        cursor.execute(
            "ALTER TABLE booking_appointment ENABLE TRIGGER booking_appointment_travel_time"
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM booking_appointment")
        total = cursor.fetchone()[0]
    return {
        "appointments": total,
        "locations": locations,
        "practitioners": practitioners,
        "needling": needling,
        "assessment": assessment,
        "patients": (first_patient, patient_count),
        "fresh_patients": [p.pk for p in fresh],
        "today": today,
    }


# --- Measurements ----------------------------------------------------------------------------------


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def measure_slot_search(world, searches: int, figures: Figures) -> None:
    """One location, all its certified practitioners, the whole 8-week window, as the patient
    slot list does it: load (fixed queries) then compute (pure Python)."""
    from booking.availability import SlotQuery
    from booking.selectors import load_availability

    location = world["locations"][0]
    timings, queries, found = [], [], 0
    for n in range(searches + 3):
        now = timezone.now() + dt.timedelta(minutes=n)
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            availability = load_availability(
                location=location,
                window_start=now,
                window_end=now + dt.timedelta(days=FUTURE_DAYS),
                now=now,
            )
            slots = availability.slots(
                SlotQuery(
                    window_start=now,
                    window_end=now + dt.timedelta(days=FUTURE_DAYS),
                    length=dt.timedelta(minutes=30),
                    now=now,
                    needs_certification=True,
                    for_patient=True,
                )
            )
        elapsed = (time.perf_counter() - start) * 1000
        if n >= 3:  # the first searches warm caches and connections
            timings.append(elapsed)
            queries.append(len(captured))
            found = len(slots)
    figures.add("slot_search_p50_ms", round(statistics.median(timings), 1), "ms")
    figures.add("slot_search_p95_ms", round(_percentile(timings, 95), 1), "ms")
    figures.add("slot_search_queries", max(queries), "queries")
    figures.add("slot_search_slots_found", found, "slots")


def _free_course(world, patient, location, rng) -> list | None:
    """Six weekly sessions that are all free, found with the same rules the booking uses."""
    from booking import services
    from booking.availability import SlotQuery
    from booking.selectors import load_availability

    now = timezone.now()
    availability = load_availability(
        location=location,
        window_start=now + dt.timedelta(days=1),
        window_end=now + dt.timedelta(days=8),
        now=now,
    )
    slots = availability.slots(
        SlotQuery(
            window_start=now + dt.timedelta(days=1),
            window_end=now + dt.timedelta(days=8),
            length=dt.timedelta(minutes=30),
            now=now,
            needs_certification=True,
            for_patient=False,
        )
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
        "course_booking_p95_ms", round(_percentile(timings, 95), 1) if timings else "n/a", "ms"
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
    figures.add("day_view_p95_ms", round(_percentile(timings, 95), 1), "ms")
    figures.add("day_view_queries", queries, "queries")


# --- Real processes racing -----------------------------------------------------------------------------


def _worker_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()


def _race_worker(url: str, barrier, attempts: list[tuple], results) -> None:
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


def _free_slots_for_race(world, count: int):
    from booking.availability import SlotQuery
    from booking.selectors import load_availability

    location = world["locations"][1]
    now = timezone.now()
    availability = load_availability(
        location=location,
        window_start=now + dt.timedelta(days=2),
        window_end=now + dt.timedelta(days=12),
        now=now,
    )
    slots = availability.slots(
        SlotQuery(
            window_start=now + dt.timedelta(days=2),
            window_end=now + dt.timedelta(days=12),
            length=dt.timedelta(minutes=30),
            now=now,
            needs_certification=True,
            for_patient=False,
            step=dt.timedelta(hours=1),
        )
    )
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
            (location.pk, s.practitioner_id, world["needling"].pk, s.starts_at, fresh[n])
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
    from booking.availability import SlotQuery
    from booking.selectors import load_availability

    now = timezone.now()
    plans = []
    fresh = iter(world["fresh_patients"][100:900])
    for location in world["locations"]:
        availability = load_availability(
            location=location,
            window_start=now + dt.timedelta(days=14),
            window_end=now + dt.timedelta(days=28),
            now=now,
        )
        for slot in availability.slots(
            SlotQuery(
                window_start=now + dt.timedelta(days=14),
                window_end=now + dt.timedelta(days=28),
                length=dt.timedelta(minutes=30),
                now=now,
                needs_certification=True,
                for_patient=False,
                step=dt.timedelta(hours=1),
            )
        ):
            plans.append(
                (location.pk, slot.practitioner_id, world["needling"].pk, slot.starts_at, None)
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


def build_course_outcomes(world, courses: int) -> dict:
    """`courses` courses of 4–6 weekly sessions whose first sessions spread over the last
    year at every location, each with its patient, questionnaire (the baseline), signed
    assessment, session notes with adverse events, after-care checks and, for most finished
    courses, the end-of-course questionnaire. INSERT … SELECT generate_series: seconds."""
    from booking.models import Appointment, Course
    from clinic.models import Patient
    from intake.clinical.models import AssessmentNote, CheckIn, TreatmentNote
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
        cursor.execute(
            "ALTER TABLE booking_appointment DISABLE TRIGGER booking_appointment_travel_time"
        )
        cursor.execute(
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
                   (%(start)s::date + (random() * 364)::int) AS first_day,
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
                "start": today - dt.timedelta(days=364),
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
                "last_name": "'Patient ' || n",
                "date_of_birth": "date '1955-01-01' + (n * 7 %% 14000)",
                "phone": "'416-555-0100'",
                "email": "'course' || n || '@example.org'",
                "preferred_location_id": "location_id",
            },
            "FROM bench_course ORDER BY n",
            {},
        )
        cursor.execute(
            f"""
            UPDATE bench_course c SET patient_id = p.id
              FROM {Patient._meta.db_table} p
             WHERE p.first_name = 'Course' AND p.last_name = 'Patient ' || c.n
            """
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
            "ALTER TABLE booking_appointment ENABLE TRIGGER booking_appointment_travel_time"
        )
        event = (
            "CASE WHEN r < 0.22 THEN 'soreness' WHEN r < 0.27 THEN 'bruising' "
            "WHEN r < 0.28 THEN 'bleeding' WHEN r < 0.283 THEN 'fainting' ELSE 'none' END"
        )
        _insert_select(
            cursor,
            TreatmentNote,
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
            CheckIn,
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
        cursor.execute("ANALYZE")
        cursor.execute(
            f"SELECT count(*) FROM {Appointment._meta.db_table} WHERE course_id IS NOT NULL"
        )
        sessions = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {CheckIn._meta.db_table}")
        answers = cursor.fetchone()[0]
    return {"courses": courses, "sessions": sessions, "checkins": answers}


def measure_dashboard(world, courses: int, figures: Figures, repeats: int = 20) -> None:
    """The manager's results dashboard for the last year at every location, rendered as the
    view renders it (template included), over `courses` synthetic courses."""
    from django.test import RequestFactory

    from booking.reports.views import dashboard
    from clinic.models import Role, User

    started = time.perf_counter()
    built = build_course_outcomes(world, courses)
    figures.add("dashboard_courses", built["courses"], "courses")
    figures.add("dashboard_course_sessions", built["sessions"], "rows")
    figures.add("dashboard_build_seconds", round(time.perf_counter() - started, 1), "s")
    manager = User.objects.create_user(
        "bench.manager@example.org",
        None,
        first_name="Bench",
        last_name="Manager",
        role=Role.MANAGER,
    )
    factory = RequestFactory()
    timings, queries = [], []
    for n in range(repeats + 3):
        request = factory.get("/reports/")
        request.user = manager
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = dashboard(request)
        elapsed = (time.perf_counter() - start) * 1000
        if response.status_code != 200:
            raise CommandError(f"The dashboard answered {response.status_code}.")
        if n >= 3:  # the first renders warm caches and the connection
            timings.append(elapsed)
            queries.append(len(captured))
    figures.add("dashboard_p50_ms", round(statistics.median(timings), 1), "ms")
    figures.add("dashboard_p95_ms", round(_percentile(timings, 95), 1), "ms")
    figures.add("dashboard_queries", max(queries), "queries")
