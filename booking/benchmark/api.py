"""The FHIR API, measured in-process: `Appointment/$find` over one location's 8 weeks and
`Appointment/$book` of a found time, each a whole request through the API's own views (the
token, the rate limit, the scopes, the access log), without the network."""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauthlib.common import generate_token

from booking.api.clients import create_client
from booking.api.resources import booking_operations
from booking.benchmark.figures import Figures, percentile
from booking.benchmark.world import FUTURE_DAYS
from clinic.models import Patient

# $find naming a patient needs Appointment.read (it leaves out the patient's own visits).
SCOPES = [
    "system/Slot.read",
    "system/Appointment.read",
    "system/Appointment.write",
    "system/Patient.read",
]


def _host() -> str:
    hosts = [h for h in settings.ALLOWED_HOSTS if h and h != "*" and not h.startswith(".")]
    return hosts[0] if hosts else "localhost"


def _bench_token(location) -> str:
    """A client of `location` that no limit slows down, and a live token of it."""
    client, _ = create_client(
        name=f"benchmark-{location.pk}-{random.randrange(10**6)}",
        scopes=SCOPES,
        locations=[location],
        requests_per_minute=10**9,
    )
    token = generate_token()
    get_access_token_model().objects.create(
        application=client.application,
        token=token,
        scope=" ".join(SCOPES),
        expires=timezone.now() + dt.timedelta(hours=2),
    )
    return token


def _parameters(**values) -> dict:
    parameter = []
    for name, value in values.items():
        if value.startswith(("Patient/", "Location/")):
            parameter.append({"name": name, "valueReference": {"reference": value}})
        else:
            parameter.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": parameter}


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def measure_api(world, searches: int, bookings: int, figures: Figures) -> None:
    location = world["locations"][0]
    token = _bench_token(location)
    factory = RequestFactory(SERVER_NAME=_host(), HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(view, body: dict):
        request = factory.post(
            "/fhir/Appointment/$x", json.dumps(body), content_type="application/fhir+json"
        )
        return view(request)

    find_timings = []
    for n in range(searches + 3):
        now = timezone.now()
        body = _parameters(
            **{
                "location": f"Location/{location.pk}",
                "service-type": "assessment",
                "start": _utc(now),
                "end": _utc(now + dt.timedelta(days=FUTURE_DAYS)),
            }
        )
        started = time.perf_counter()
        response = post(booking_operations.find, body)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:300]
        if n >= 3:  # the first searches warm caches and connections
            find_timings.append(elapsed)
    figures.add("api_find_p95_ms", round(percentile(find_timings, 95), 1), "ms")

    rng = random.Random(11)
    fresh = world["fresh_patients"][: bookings * 2]
    book_timings = []
    for pk in fresh:
        if len(book_timings) >= bookings:
            break
        patient = Patient.objects.get(pk=pk)
        patient.locations.add(location)
        day = timezone.now() + dt.timedelta(days=rng.randrange(2, FUTURE_DAYS - 1))
        found = post(
            booking_operations.find,
            _parameters(
                **{
                    "location": f"Location/{location.pk}",
                    "service-type": "assessment",
                    "patient": f"Patient/{patient.pk}",
                    "start": _utc(day),
                    "end": _utc(day + dt.timedelta(days=1)),
                    "_count": "1",
                }
            ),
        )
        entries = json.loads(found.content).get("entry") or []
        if not entries:
            continue
        started = time.perf_counter()
        response = post(booking_operations.book, entries[0]["resource"])
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == 201:
            book_timings.append(elapsed)
    figures.add(
        "api_book_p95_ms", round(percentile(book_timings, 95), 1) if book_timings else "n/a", "ms"
    )
    figures.add("api_bookings", len(book_timings), "appointments")
