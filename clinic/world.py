"""The clinic's world, built one way: locations with their opening hours, the services, logins,
practitioners with their certification and working hours, and patients.

The demo (`clinic.demo`), the benchmark (`booking.benchmark.world`) and the tests' factories
and personas (`tests/factories.py`, `tests/booking/factories.py`) all build through these
functions; what differs is what they pass in: the demo's named people and addresses, the
benchmark's scale, the tests' minimal defaults. Rooms belong to booking (`booking.world`).

How rows are written is the one choice a caller makes. By default they are new and written in
bulk (`bulk_create`: the benchmark's thousands of patients, a test's busy day), and rows that
are already there under the same unique key are kept (opening hours, services). With
`again=True` (the demo, seeded again and again) every row is found by its natural key (slug,
email, kind, weekday…) and brought up to date instead, so running it twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import models

from clinic.models import (
    Certification,
    Location,
    OpeningHours,
    Patient,
    Practitioner,
    Service,
    ServiceKind,
    User,
    WorkingHours,
)

# weekday (0 = Monday) -> (from, until), times as `dt.time` or "08:30"
WeeklyHours = Mapping[int, tuple[dt.time | str, dt.time | str]]
BATCH = 5000

# The clinic's three services, as patients read them.
SERVICES = {
    ServiceKind.ASSESSMENT: {
        "name": "Initial assessment",
        "description": "A full assessment of your heel pain, your goals and whether dry needling "
        "suits you.",
        "allowed_minutes": [45, 60],
        "default_minutes": 60,
    },
    ServiceKind.DRY_NEEDLING: {
        "name": "Dry-needling session",
        "description": "Thin sterile needles into trigger points of the calf and foot.",
        "allowed_minutes": [15, 20, 30],
        "default_minutes": 30,
    },
    ServiceKind.REASSESSMENT: {
        "name": "Re-assessment",
        "description": "A check of your progress at the end of a course.",
        "allowed_minutes": [30],
        "default_minutes": 30,
    },
}


def weekly(days: Iterable[int], start: dt.time | str, end: dt.time | str) -> dict:
    """The same hours on each of `days` (0 = Monday)."""
    return {day: (start, end) for day in days}


def _time(value: dt.time | str) -> dt.time:
    return dt.time.fromisoformat(value) if isinstance(value, str) else value


def _write(
    model: type[models.Model],
    rows: Sequence[dict],
    *,
    again: bool,
    key: Sequence[str] | Callable[[dict], dict],
    keep: bool = False,
) -> list:
    """Write `rows` (field values) of `model`: new, in bulk (rows already there under a unique
    key kept, if `keep`); or `again`, each found by its `key` and updated."""
    if not again:
        return model.objects.bulk_create(
            [model(**row) for row in rows], batch_size=BATCH, ignore_conflicts=keep
        )
    written = []
    for row in rows:
        lookup = key(row) if callable(key) else {name: row[name] for name in key}
        defaults = {name: value for name, value in row.items() if name not in lookup}
        written.append(model.objects.update_or_create(**lookup, defaults=defaults)[0])
    return written


def _place(model_field, owners: Sequence[models.Model], places: Sequence[Iterable], again: bool):
    """Each of `owners` registered at its `places` (a many-to-many to Location)."""
    if again:
        for owner, locations in zip(owners, places, strict=True):
            getattr(owner, model_field.field.name).add(*locations)
        return
    through = model_field.through
    owner_column = f"{model_field.field.model._meta.model_name}_id"
    through.objects.bulk_create(
        [
            through(**{owner_column: owner.pk, "location_id": location.pk})
            for owner, locations in zip(owners, places, strict=True)
            for location in locations
        ],
        batch_size=BATCH,
        ignore_conflicts=True,
    )


# --- Locations and services ---------------------------------------------------------------------


def location(*, slug: str, hours: WeeklyHours, again: bool = False, **fields) -> Location:
    """A location open at `hours`; `fields` are the rest of it (name, address, time zone…)."""
    (place,) = _write(Location, [{"slug": slug, **fields}], again=again, key=["slug"])
    opening_hours(place, hours, again=again)
    return place


def opening_hours(place: Location, hours: WeeklyHours, *, again: bool = False) -> None:
    """`place` opens at `hours`; a weekday it already has hours for keeps them, unless `again`."""
    rows = [
        {"location": place, "weekday": day, "opens_at": _time(opens), "closes_at": _time(closes)}
        for day, (opens, closes) in hours.items()
    ]
    _write(OpeningHours, rows, again=again, key=["location", "weekday"], keep=True)


def service(kind: str, *, again: bool = False, **fields) -> Service:
    """One of the clinic's SERVICES (`fields` change it: the benchmark's 45-minute
    assessments); the one already there is kept, unless `again`."""
    spec = SERVICES[kind]
    row = {"kind": kind, **spec, "allowed_minutes": list(spec["allowed_minutes"]), **fields}
    if again:
        return _write(Service, [row], again=True, key=["kind"])[0]
    return Service.objects.get_or_create(kind=kind, defaults=row)[0]


# --- People -------------------------------------------------------------------------------------


def logins(people: Sequence[dict], *, password: str | None, again: bool = False) -> list[User]:
    """Logins of `people` (each a user's fields, and the `locations` they work at if staff),
    all with `password` (None: no password works, as for the benchmark's synthetic staff);
    with `again`, each found by its email."""
    rows = [
        {name: value for name, value in person.items() if name != "locations"} for person in people
    ]
    for row in rows:
        row["email"] = row["email"].lower()
        row.setdefault("is_active", True)
    if not again:
        hashed = make_password(password)  # once: hashing is slow on purpose
        for row in rows:
            row["password"] = hashed
    users = _write(User, rows, again=again, key=["email"])
    if again:
        for user in users:
            if not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
        for user, person in zip(users, people, strict=True):
            user.locations.set(person.get("locations", []))
    else:
        _place(User.locations, users, [p.get("locations", []) for p in people], again=False)
    return users


@dataclass
class Certified:
    """A dry-needling certification: current `since` days before `today` until `until` days
    after it (negative: it has expired)."""

    today: dt.date
    since: int = 365
    until: int = 365
    issued_by: str = "Dry Needling Institute"
    number: str = ""

    def row(self, practitioner: Practitioner) -> dict:
        return {
            "practitioner": practitioner,
            "certificate_number": self.number,
            "issued_by": self.issued_by,
            "valid_from": self.today - dt.timedelta(days=self.since),
            "valid_until": self.today + dt.timedelta(days=self.until),
        }


@dataclass
class Clinician:
    """What makes a practitioner of a login: a title, a certification or none, and weekly
    hours at each location."""

    user: User
    title: str = "Registered Physiotherapist"
    certified: Certified | None = None
    hours: Mapping[Location, WeeklyHours] = field(default_factory=dict)
    # Profession, registration number, issuing body, NPI: what receipts and superbills print.
    registration: Mapping[str, str] = field(default_factory=dict)


def practitioners(clinicians: Sequence[Clinician], *, again: bool = False) -> list[Practitioner]:
    """The practitioners of `clinicians`' logins, with their registration, certifications and
    hours."""
    rows = [{"user": c.user, "title": c.title, **c.registration} for c in clinicians]
    written = _write(Practitioner, rows, again=again, key=["user"])
    certifications = [
        c.certified.row(practitioner)
        for practitioner, c in zip(written, clinicians, strict=True)
        if c.certified
    ]
    _write(Certification, certifications, again=again, key=["practitioner", "certificate_number"])
    working_hours(
        [(practitioner, c.hours) for practitioner, c in zip(written, clinicians, strict=True)],
        again=again,
    )
    return written


def working_hours(
    weeks: Iterable[tuple[Practitioner, Mapping[Location, WeeklyHours]]], *, again: bool = False
) -> None:
    """Each practitioner works their weekly hours at each location."""
    rows = [
        {
            "practitioner": practitioner,
            "location": place,
            "weekday": day,
            "starts_at": _time(start),
            "ends_at": _time(end),
        }
        for practitioner, hours in weeks
        for place, days in hours.items()
        for day, (start, end) in days.items()
    ]
    _write(WorkingHours, rows, again=again, key=["practitioner", "location", "weekday"])


def patients(people: Sequence[dict], *, again: bool = False) -> list[Patient]:
    """Patients (patient fields, and the `locations` they are registered at); with `again`,
    one with a login is found by it, one without (who phoned in) by name and date of birth."""
    rows = [{name: value for name, value in p.items() if name != "locations"} for p in people]
    written = _write(Patient, rows, again=again, key=_patient_key)
    places = [p.get("locations", []) for p in people]
    if any(places):
        _place(Patient.locations, written, places, again=again)
    return written


def _patient_key(row: dict) -> dict:
    if row.get("user"):
        return {"user": row["user"]}
    return {name: row[name] for name in ("first_name", "last_name", "date_of_birth")} | {
        "user": None
    }
