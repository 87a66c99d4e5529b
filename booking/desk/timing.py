"""The day view, rendered and timed for the benchmark (`python manage.py benchmark`)."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

from django.urls import reverse

from booking.desk.grid import day_bounds
from booking.models import Appointment
from clinic.models import Location, User

# --- Timing, for the benchmark ------------------------------------------------------------------


def busiest_day(location: Location) -> dt.date:
    """The day of the coming week with the most appointments at `location` (today if none)."""
    today = location.today()
    start, _ = day_bounds(today, location.zone)
    _, end = day_bounds(today + dt.timedelta(days=7), location.zone)
    per_day: dict[dt.date, int] = defaultdict(int)
    for starts_at in Appointment.objects.filter(
        location=location, starts_at__gte=start, starts_at__lt=end
    ).values_list("starts_at", flat=True):
        per_day[starts_at.astimezone(location.zone).date()] += 1
    return max(per_day, key=per_day.get) if per_day else today


def day_view_timing(
    location: Location, repeats: int, day: dt.date | None = None
) -> tuple[list[float], int]:
    """Render the day view of `location` `repeats` times as a manager would see it, on `day`
    (by default its busiest day of the coming week); return each render's milliseconds and
    the queries one render makes."""
    from django.db import connection, reset_queries
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from booking.desk import schedule_views
    from clinic.models import Role

    day = day or busiest_day(location)
    manager = User(email="benchmark@example.org", role=Role.MANAGER, first_name="Benchmark")
    factory = RequestFactory()
    path = reverse("booking:location_day", args=[location.slug])

    def render() -> int:
        request = factory.get(path, {"date": day.isoformat()})
        request.user = manager
        request.COOKIES = {}
        response = schedule_views.location_day(request, slug=location.slug)
        assert response.status_code == 200, response.status_code
        return len(response.content)

    render()  # warm the template cache
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        render()
        timings.append((time.perf_counter() - started) * 1000)
    # The query log is a bounded deque: once a long run has filled it, a capture would
    # count nothing, so start from an empty one.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        render()
    return timings, len(captured)


# --- The grid's placement classes ---------------------------------------------------------------
