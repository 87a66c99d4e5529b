"""The benchmark's world: a throwaway PostgreSQL database (created, migrated, dropped) and the
synthetic clinic in it at the chosen scale: locations, practitioners with hours, patients and
appointments filling the coming weeks.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from urllib.parse import quote

import psycopg2
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from booking.availability import SlotQuery

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
# --- Free needling slots ----------------------------------------------------------------------


def needling_slots(
    location,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    for_patient: bool = False,
    step: dt.timedelta = SlotQuery.step,
):
    """The free 30-minute needling slots at `location` from `start` to `end`, found as the app
    finds them: load (a fixed number of queries), then compute (pure Python). Returns the
    loaded availability too: it names the practitioners."""
    from booking.selectors import load_availability

    availability = load_availability(location=location, window_start=start, window_end=end, now=now)
    query = SlotQuery(
        window_start=start,
        window_end=end,
        length=dt.timedelta(minutes=30),
        now=now,
        needs_certification=True,
        for_patient=for_patient,
        step=step,
    )
    return availability, availability.slots(query)


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
    from booking import world as booking_world
    from clinic import world as clinic_world
    from clinic.models import Patient, Role, ServiceKind

    today = timezone.localdate()
    locations = [
        clinic_world.location(
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
            hours=clinic_world.weekly(range(6), dt.time(7), dt.time(19)),
        )
        for n, (name, zone) in enumerate(LOCATIONS)
    ]
    assessment = clinic_world.service(ServiceKind.ASSESSMENT, default_minutes=45)
    needling = clinic_world.service(ServiceKind.DRY_NEEDLING)
    reassessment = clinic_world.service(ServiceKind.REASSESSMENT)

    rooms_per_location = PRACTITIONERS // len(locations) + 4
    rooms = {
        location.pk: booking_world.rooms(location, rooms_per_location, name="Room {n:02}")
        for location in locations
    }
    # Practitioner n works at home (n-th location, round the list) on weekdays; every third
    # also at the next location on Saturday mornings; every tenth's certification has expired.
    homes = [
        (locations[n % len(locations)], locations[(n + 1) % len(locations)])
        for n in range(PRACTITIONERS)
    ]
    users = clinic_world.logins(
        [
            {
                "email": f"bench{n}@example.org",
                "first_name": "Bench",
                "last_name": f"Practitioner {n}",
                "role": Role.PRACTITIONER,
                "locations": [home, second] if n % 3 == 0 else [home],
            }
            for n, (home, second) in enumerate(homes)
        ],
        password=None,
    )
    written = clinic_world.practitioners(
        [
            clinic_world.Clinician(
                user=user,
                title="Physiotherapist",
                certified=clinic_world.Certified(
                    today=today,
                    since=2000,
                    until=-30 if n % 10 == 9 else 365,
                    issued_by="Bench Institute",
                ),
                hours={home: clinic_world.weekly(range(5), dt.time(8), dt.time(17))}
                | ({second: {5: (dt.time(9), dt.time(13))}} if n % 3 == 0 else {}),
            )
            for n, (user, (home, second)) in enumerate(zip(users, homes, strict=True))
        ]
    )
    practitioners = [(p, home) for p, (home, _) in zip(written, homes, strict=True)]
    home_rooms = {
        p.pk: rooms[home.pk][n // len(locations)] for n, (p, home) in enumerate(practitioners)
    }
    patient_count = max(2_000, appointments // 20)
    clinic_world.patients(
        [
            {
                "first_name": "Bench",
                "last_name": f"Patient {n}",
                "date_of_birth": dt.date(1970, 1, 1) + dt.timedelta(days=n % 9000),
                "phone": "416-555-0199",
                "email": f"patient{n}@example.org",
            }
            for n in range(patient_count)
        ]
    )
    first_patient = Patient.objects.order_by("pk").values_list("pk", flat=True).first()
    # Patients with no appointments yet, for the bookings the benchmark makes itself.
    fresh = clinic_world.patients(
        [
            {
                "first_name": "Fresh",
                "last_name": f"Patient {n}",
                "date_of_birth": dt.date(1980, 1, 1),
                "phone": "416-555-0198",
            }
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
        # The certification trigger is off too: one practitioner in ten has a certification
        # that lapsed a month ago and still has needling sessions ahead, as a clinic has after
        # a lapse (the rule refuses only new bookings), which the slot search must step over.
        # And the needling sessions ahead are busy times for the slot search and the day view,
        # of no course (courses for them would only slow the load): the rule that a needling
        # session belongs to a course is off for them, as visits written before it are kept.
        cursor.execute(
            "ALTER TABLE booking_appointment DISABLE TRIGGER booking_appointment_travel_time, "
            "DISABLE TRIGGER needling_session_with_a_certified_practitioner, "
            "DISABLE TRIGGER needling_session_belongs_to_a_course"
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
            "ALTER TABLE booking_appointment ENABLE TRIGGER booking_appointment_travel_time, "
            "ENABLE TRIGGER needling_session_with_a_certified_practitioner, "
            "ENABLE TRIGGER needling_session_belongs_to_a_course"
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
        "reassessment": reassessment,
        "patients": (first_patient, patient_count),
        "fresh_patients": [p.pk for p in fresh],
        "today": today,
    }
