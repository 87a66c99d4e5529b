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
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import world
from clinic.dates import clinic_today
from clinic.models import Holiday, Location, Patient, Practitioner, Role, Service, User

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
        "tax_id": "52-1234567",
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
        "tax_id": "52-1234567",
        "confirms_requests_automatically": False,
        "hours": {d: ("08:00", "18:00") for d in (MON, TUE, WED, THU, FRI)}
        | {SAT: ("09:00", "12:00")},
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

# key: what receipts for insurers and superbills print (the Maryland group bills under one EIN,
# set on its locations).
REGISTRATIONS = {
    "practitioner": {
        "profession": "physiotherapist",
        "registration_number": "R14582",
        "registered_with": "cpo",
    },
    "bergeron": {
        "profession": "physiotherapist",
        "registration_number": "R09317",
        "registered_with": "cpo",
    },
    "alvarez": {
        "profession": "physiotherapist",
        "registration_number": "R21766",
        "registered_with": "cpo",
    },
    "okafor": {
        "profession": "physical_therapist",
        "registration_number": "PT23871",
        "registered_with": "md_bpte",
        "npi": "1234567893",
    },
    "kim": {
        "profession": "physical_therapist",
        "registration_number": "PT25410",
        "registered_with": "md_bpte",
        "npi": "1987654328",
    },
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
    (
        "course_to_mend",
        "hannah.becker@example.org",
        "Hannah",
        "Becker",
        dt.date(1981, 7, 14),
        "416-555-0164",
        "leaside",
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


def closed_for_a_holiday(location: Location, day: dt.date) -> bool:
    """Whether `location` is closed on `day` for a holiday (the demo's Christmas Day): the demo
    books no visit there then."""
    return location.holidays.filter(date=day).exists()


def seed_organisation(story: DemoStory) -> None:
    for spec in LOCATIONS:
        story.locations[spec["slug"]] = world.location(**spec, again=True)

    christmas = dt.date(story.today.year, 12, 25)
    for location in story.locations.values():
        Holiday.objects.update_or_create(
            location=location, date=christmas, defaults={"name": "Christmas Day"}
        )

    for kind in world.SERVICES:
        story.services[kind] = world.service(kind, again=True)

    staff = [
        {
            "email": email,
            "first_name": first,
            "last_name": last,
            "role": role,
            "locations": [story.locations[slug] for slug in slugs],
        }
        for _, email, first, last, role, slugs in STAFF
    ]
    users = world.logins(staff, password=DEMO_PASSWORD, again=True)
    story.users.update(zip((key for key, *_ in STAFF), users, strict=True))

    clinicians = [
        world.Clinician(
            user=story.users[key],
            title=title,
            certified=_certified(story, story.users[key], certification, hours),
            hours={story.locations[slug]: weekly for slug, weekly in hours.items()},
            registration=REGISTRATIONS.get(key, {}),
        )
        for key, (title, certification, hours) in PRACTITIONERS.items()
    ]
    written = world.practitioners(clinicians, again=True)
    story.practitioners.update(zip(PRACTITIONERS, written, strict=True))

    with_login = [spec for spec in PATIENTS if spec[1]]
    users = world.logins(
        [
            {"email": email, "first_name": first, "last_name": last, "role": Role.PATIENT}
            for _, email, first, last, *_ in with_login
        ],
        password=DEMO_PASSWORD,
        again=True,
    )
    story.users.update(zip((spec[0] for spec in with_login), users, strict=True))
    people = [
        {
            "user": story.users.get(key) if email else None,
            "first_name": first,
            "last_name": last,
            "date_of_birth": born,
            "phone": phone,
            "email": email or "",
            "preferred_location": story.locations[slug],
            "emergency_contact_name": "Sam Miles" if key == "patient" else "",
            "emergency_contact_phone": "416-555-0191" if key == "patient" else "",
            "locations": [story.locations[slug]],
        }
        for key, email, first, last, born, phone, slug in PATIENTS
    ]
    written = world.patients(people, again=True)
    story.patients.update(zip((spec[0] for spec in PATIENTS), written, strict=True))
    seed_second_factors(story)


def _certified(story: DemoStory, user: User, certification: str | None, hours: dict):
    """Current since almost two years, or expired five weeks ago; issued where they work."""
    if certification is None:
        return None
    return world.Certified(
        today=story.today,
        since=700 if certification == "current" else 1100,
        until=400 if certification == "current" else -35,
        issued_by="Canadian Dry Needling Institute"
        if "leaside" in hours or "danforth" in hours
        else "Maryland Board of Physical Therapy Examiners",
        number=f"DN-{user.last_name.upper()}-01",
    )


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


def demo_today() -> dt.date:
    """The demo's today: the clinic's (its locations are on Toronto's and New York's clock), so
    that seeded in the evening its visits of today are on today's schedule, not tomorrow's."""
    return clinic_today()
