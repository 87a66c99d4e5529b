"""The demo clinic's organisation: the story of ../shared/domain.md, "Demo data that tells the story".

Run through `python manage.py seed_demo`; every write is keyed on a natural key
(slug, email, kind...), so running it again changes nothing but dates that move with today.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import (
    Certification,
    Holiday,
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

DEMO_PASSWORD = "heelpain-demo"

MON, TUE, WED, THU, FRI, SAT = range(6)


@dataclass
class DemoStory:
    """What the demo seeding created so far; each app's seeding adds to it."""

    today: dt.date
    locations: dict[str, Location] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    practitioners: dict[str, Practitioner] = field(default_factory=dict)
    patients: dict[str, Patient] = field(default_factory=dict)


LOCATIONS = [
    {
        "slug": "leaside",
        "latitude": Decimal("43.70460"),
        "longitude": Decimal("-79.36620"),
        "name": "Leaside",
        "street_address": "1590 Bayview Avenue",
        "city": "Toronto",
        "region": "Ontario",
        "postal_code": "M4G 3B5",
        "phone": "416-555-0134",
        "email": "leaside@example.org",
        "time_zone": "America/Toronto",
        "confirms_requests_automatically": False,
        "hours": {d: ("08:00", "19:00") for d in (MON, TUE, WED, THU)}
        | {FRI: ("08:00", "17:00"), SAT: ("09:00", "13:00")},
    },
    {
        "slug": "danforth",
        "latitude": Decimal("43.67840"),
        "longitude": Decimal("-79.34800"),
        "name": "Danforth",
        "street_address": "720 Danforth Avenue",
        "city": "Toronto",
        "region": "Ontario",
        "postal_code": "M4J 1L2",
        "phone": "416-555-0178",
        "email": "danforth@example.org",
        "time_zone": "America/Toronto",
        "confirms_requests_automatically": False,
        "hours": {d: ("09:00", "18:00") for d in (MON, TUE, WED, THU, FRI)},
    },
    {
        "slug": "rockville",
        "latitude": Decimal("39.04960"),
        "longitude": Decimal("-77.11970"),
        "name": "Rockville",
        "street_address": "11921 Rockville Pike",
        "city": "Rockville",
        "region": "Maryland",
        "postal_code": "20852",
        "phone": "301-555-0112",
        "email": "rockville@example.org",
        "time_zone": "America/New_York",
        "confirms_requests_automatically": True,
        "hours": {d: ("07:00", "19:00") for d in (MON, TUE, WED, THU, FRI)},
    },
    {
        "slug": "largo",
        "latitude": Decimal("38.90090"),
        "longitude": Decimal("-76.84700"),
        "name": "Largo",
        "street_address": "9200 Basil Court",
        "city": "Largo",
        "region": "Maryland",
        "postal_code": "20774",
        "phone": "301-555-0165",
        "email": "largo@example.org",
        "time_zone": "America/New_York",
        "confirms_requests_automatically": False,
        "hours": {d: ("08:00", "18:00") for d in (MON, TUE, WED, THU, FRI)}
        | {SAT: ("09:00", "12:00")},
    },
]

SERVICES = [
    {
        "kind": ServiceKind.ASSESSMENT,
        "name": "Initial assessment",
        "description": "A full assessment of your heel pain, your goals and whether dry needling "
        "suits you.",
        "allowed_minutes": [45, 60],
        "default_minutes": 60,
    },
    {
        "kind": ServiceKind.DRY_NEEDLING,
        "name": "Dry-needling session",
        "description": "Thin sterile needles into trigger points of the calf and foot.",
        "allowed_minutes": [15, 20, 30],
        "default_minutes": 30,
    },
    {
        "kind": ServiceKind.REASSESSMENT,
        "name": "Re-assessment",
        "description": "A check of your progress at the end of a course.",
        "allowed_minutes": [30],
        "default_minutes": 30,
    },
]

# (key, email, first, last, role, location slugs)
STAFF = [
    ("manager", "manager@example.org", "Helen", "Marsh", Role.MANAGER, []),
    (
        "front_desk",
        "frontdesk@example.org",
        "Ava",
        "Thompson",
        Role.FRONT_DESK,
        ["leaside", "danforth"],
    ),
    (
        "front_desk_md",
        "frontdesk.md@example.org",
        "Keisha",
        "Brown",
        Role.FRONT_DESK,
        ["rockville", "largo"],
    ),
    ("practitioner", "practitioner@example.org", "Priya", "Raman", Role.PRACTITIONER, ["leaside"]),
    (
        "okafor",
        "d.okafor@example.org",
        "Daniel",
        "Okafor",
        Role.PRACTITIONER,
        ["rockville", "largo"],
    ),
    ("kim", "l.kim@example.org", "Laura", "Kim", Role.PRACTITIONER, ["largo"]),
    (
        "bergeron",
        "t.bergeron@example.org",
        "Tom",
        "Bergeron",
        Role.PRACTITIONER,
        ["leaside", "danforth"],
    ),
    ("alvarez", "s.alvarez@example.org", "Sofia", "Alvarez", Role.PRACTITIONER, ["danforth"]),
]

# key: (title, certification: None | "current" | "expired", {location: {weekday: (start, end)}})
PRACTITIONERS = {
    "practitioner": (
        "Registered Physiotherapist",
        "current",
        {
            "leaside": {d: ("08:00", "16:00") for d in (MON, TUE, WED, THU, FRI)}
            | {SAT: ("09:00", "13:00")}
        },
    ),
    "okafor": (
        "Physical Therapist, DPT",
        "current",
        {
            "rockville": {d: ("08:00", "17:00") for d in (MON, WED, FRI)},
            "largo": {d: ("09:00", "17:00") for d in (TUE, THU)},
        },
    ),
    "kim": (
        "Physical Therapist, DPT",
        "current",
        {"largo": {d: ("08:00", "16:00") for d in (MON, WED, FRI)} | {SAT: ("09:00", "12:00")}},
    ),
    "bergeron": (
        "Registered Physiotherapist",
        "expired",
        {
            "leaside": {d: ("12:00", "19:00") for d in (MON, WED)},
            "danforth": {d: ("09:00", "17:00") for d in (TUE, THU)},
        },
    ),
    "alvarez": (
        "Registered Physiotherapist",
        None,
        {"danforth": {d: ("09:00", "18:00") for d in (MON, WED, FRI)}},
    ),
}

# key: (email or None for a phone patient, first, last, date of birth, phone, home location)
PATIENTS = [
    (
        "patient",
        "patient@example.org",
        "Jordan",
        "Miles",
        dt.date(1979, 4, 12),
        "416-555-0190",
        "leaside",
    ),
    (
        "flagged",
        "ellen.park@example.org",
        "Ellen",
        "Park",
        dt.date(1968, 9, 3),
        "416-555-0123",
        "leaside",
    ),
    (
        "mid_course",
        "marcus.reid@example.org",
        "Marcus",
        "Reid",
        dt.date(1974, 1, 27),
        "301-555-0147",
        "rockville",
    ),
    (
        "finished",
        "grace.liu@example.org",
        "Grace",
        "Liu",
        dt.date(1965, 6, 18),
        "301-555-0188",
        "largo",
    ),
    ("phone_patient", None, "Robert", "Côté", dt.date(1958, 11, 30), "416-555-0151", "leaside"),
    (
        "new_request",
        "nadia.haddad@example.org",
        "Nadia",
        "Haddad",
        dt.date(1983, 2, 9),
        "416-555-0172",
        "leaside",
    ),
]


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def seed_organisation(story: DemoStory) -> None:
    for spec in LOCATIONS:
        spec = dict(spec)
        hours = spec.pop("hours")
        location, _ = Location.objects.update_or_create(slug=spec.pop("slug"), defaults=spec)
        for weekday, (opens, closes) in hours.items():
            OpeningHours.objects.update_or_create(
                location=location,
                weekday=weekday,
                defaults={"opens_at": _time(opens), "closes_at": _time(closes)},
            )
        story.locations[location.slug] = location

    christmas = dt.date(story.today.year, 12, 25)
    for location in story.locations.values():
        Holiday.objects.update_or_create(
            location=location, date=christmas, defaults={"name": "Christmas Day"}
        )

    for spec in SERVICES:
        spec = dict(spec)
        service, _ = Service.objects.update_or_create(kind=spec.pop("kind"), defaults=spec)
        story.services[service.kind] = service

    for key, email, first, last, role, slugs in STAFF:
        user = _user(email, first, last, role)
        user.locations.set([story.locations[slug] for slug in slugs])
        story.users[key] = user

    for key, (title, certification, hours) in PRACTITIONERS.items():
        practitioner, _ = Practitioner.objects.update_or_create(
            user=story.users[key], defaults={"title": title}
        )
        story.practitioners[key] = practitioner
        if certification == "current":
            valid_from = story.today - dt.timedelta(days=700)
            valid_until = story.today + dt.timedelta(days=400)
        elif certification == "expired":
            valid_from = story.today - dt.timedelta(days=1100)
            valid_until = story.today - dt.timedelta(days=35)
        if certification:
            Certification.objects.update_or_create(
                practitioner=practitioner,
                certificate_number=f"DN-{practitioner.user.last_name.upper()}-01",
                defaults={
                    "issued_by": "Canadian Dry Needling Institute"
                    if "leaside" in hours or "danforth" in hours
                    else "Maryland Board of Physical Therapy Examiners",
                    "valid_from": valid_from,
                    "valid_until": valid_until,
                },
            )
        for slug, weekly in hours.items():
            for weekday, (start, end) in weekly.items():
                WorkingHours.objects.update_or_create(
                    practitioner=practitioner,
                    location=story.locations[slug],
                    weekday=weekday,
                    defaults={"starts_at": _time(start), "ends_at": _time(end)},
                )

    for key, email, first, last, born, phone, slug in PATIENTS:
        location = story.locations[slug]
        user = _user(email, first, last, Role.PATIENT) if email else None
        if user:
            story.users[key] = user
        lookup = (
            {"user": user}
            if user
            else {"first_name": first, "last_name": last, "date_of_birth": born, "user": None}
        )
        patient, _ = Patient.objects.update_or_create(
            **lookup,
            defaults={
                "first_name": first,
                "last_name": last,
                "date_of_birth": born,
                "phone": phone,
                "email": email or "",
                "preferred_location": location,
                "emergency_contact_name": "Sam Miles" if key == "patient" else "",
                "emergency_contact_phone": "416-555-0191" if key == "patient" else "",
            },
        )
        patient.locations.add(location)
        story.patients[key] = patient
    seed_second_factors(story)


def demo_totp_key(email: str) -> str:
    """A fixed authenticator key per demo account (hex), so re-seeding keeps it working."""
    return hashlib.sha256(f"demo-second-factor:{email}".encode()).hexdigest()[:40]


def seed_second_factors(story: DemoStory) -> None:
    """Staff must log in in two steps; the demo staff accounts get an authenticator each,
    whose current code the login page shows while DEBUG is on (see `demo_code_for`)."""
    for key, email, *_ in STAFF:
        user = story.users[key]
        TOTPDevice.objects.update_or_create(
            user=user,
            name="Demo authenticator",
            defaults={"key": demo_totp_key(email), "confirmed": True},
        )


def demo_code_for(user: User) -> str | None:
    """The current code of a demo account's authenticator — for the login page in development only."""
    if not settings.DEBUG or user.email not in {email for _, email, *_ in STAFF}:
        return None
    device = TOTPDevice.objects.filter(user=user, name="Demo authenticator", confirmed=True).first()
    if device is None:
        return None
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def _user(email: str, first: str, last: str, role: Role) -> User:
    user, created = User.objects.update_or_create(
        email=email,
        defaults={"first_name": first, "last_name": last, "role": role, "is_active": True},
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user


def demo_today() -> dt.date:
    return timezone.localdate()
