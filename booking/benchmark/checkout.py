"""The desk's one-step check-out, timed: complete → invoice (its number taken under the counter
row's lock) → payment → receipt queued, as `booking.billing.checkout.check_out` does it."""

from __future__ import annotations

import datetime as dt
import statistics
import time

from django.db.models import Min

from booking.benchmark.figures import Figures, percentile


def measure_checkout(world, figures: Figures, *, repeats: int = 60) -> None:
    """Visits checked in long ago (so they meet nothing of the synthetic schedule), one after the
    other for one practitioner and room, each checked out and paid in full by card."""
    from booking.billing import world as billing_world
    from booking.billing.checkout import check_out
    from booking.models import Appointment, Room, Status
    from clinic.models import Patient, Role, User

    practitioner, location = world["practitioners"][0]
    assessment = world["assessment"]
    billing_world.terms(location, currency="CAD")
    billing_world.fee(location, assessment, "120.00", applies_from=dt.date(1990, 1, 1))
    room = Room.objects.filter(location=location).order_by("name").first()
    desk, _ = User.objects.get_or_create(
        email="bench.desk@example.org",
        defaults={"role": Role.FRONT_DESK, "first_name": "Bench", "last_name": "Desk"},
    )
    patients = list(Patient.objects.filter(pk__in=world["fresh_patients"]))
    # Before anything of this practitioner's (the synthetic schedule reaches years back at a
    # million appointments; an earlier run of this measure left its visits first), so the visits
    # meet no other booking.
    first = Appointment.objects.filter(practitioner=practitioner).aggregate(first=Min("starts_at"))
    before = (first["first"] or dt.datetime(2001, 1, 1, tzinfo=dt.UTC)) - dt.timedelta(days=2)
    base = before.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=2 * (repeats + 3))
    timings = []
    for n in range(repeats + 3):
        starts_at = base + dt.timedelta(hours=2 * n)
        visit = Appointment.objects.create(
            location=location,
            practitioner=practitioner,
            room=room,
            patient=patients[n % len(patients)],
            service=assessment,
            status=Status.CHECKED_IN,
            **Appointment.times(location, starts_at, 45),
        )
        start = time.perf_counter()
        check_out(visit, actor=desk, amount="120.00", method="card")
        elapsed = (time.perf_counter() - start) * 1000
        if n >= 3:  # the first ones warm caches and connections
            timings.append(elapsed)
    figures.add("checkout_p50_ms", round(statistics.median(timings), 1), "ms")
    figures.add("checkout_p95_ms", round(percentile(timings, 95), 1), "ms")
