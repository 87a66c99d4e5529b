"""Factories for test data. Tests ask for what matters to them and let these fill the rest."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping

import factory
from django.utils import timezone

from clinic import world
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

PASSWORD = "correct-horse-battery"


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    street_address = "1 Main Street"
    city = "Toronto"
    region = "Ontario"
    postal_code = "M4G 1A1"
    phone = "416-555-0100"
    time_zone = "America/Toronto"


class OpeningHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OpeningHours

    location = factory.SubFactory(LocationFactory)
    weekday = 0
    opens_at = dt.time(8, 0)
    closes_at = dt.time(18, 0)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    role = Role.PATIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if create and extracted:
            self.locations.set(extracted)
        if create:
            self.save()


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    user = factory.SubFactory(UserFactory, role=Role.PRACTITIONER, first_name="Pat")
    title = "Registered Physiotherapist"


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    practitioner = factory.SubFactory(PractitionerFactory)
    issued_by = "Dry Needling Institute"
    certificate_number = factory.Sequence(lambda n: f"DN-{n}")
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=365))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=365))


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    starts_at = dt.time(9, 0)
    ends_at = dt.time(17, 0)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.PATIENT)
    first_name = factory.SelfAttribute("user.first_name")
    last_name = factory.SelfAttribute("user.last_name")
    email = factory.SelfAttribute("user.email")
    date_of_birth = dt.date(1975, 5, 17)
    phone = "416-555-0199"

    @factory.post_generation
    def locations(self, create, extracted, **kwargs):
        if create and extracted:
            self.locations.set(extracted)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("kind",)

    kind = ServiceKind.ASSESSMENT
    # The rest as the clinic offers the kind (clinic.world.SERVICES), unless told otherwise.
    name = factory.LazyAttribute(lambda o: world.SERVICES[o.kind]["name"])
    allowed_minutes = factory.LazyAttribute(
        lambda o: list(world.SERVICES[o.kind]["allowed_minutes"])
    )
    default_minutes = factory.LazyAttribute(lambda o: world.SERVICES[o.kind]["default_minutes"])


def certified_practitioner(
    *,
    locations: list[Location],
    hours: Mapping[Location, world.WeeklyHours] | None = None,
    **user_fields,
) -> Practitioner:
    """A practitioner at `locations` with a dry-needling certification current today (for a
    year either side), working `hours` (none unless asked)."""
    user = UserFactory(
        **({"role": Role.PRACTITIONER, "first_name": "Pat"} | user_fields), locations=locations
    )
    (practitioner,) = world.practitioners(
        [
            world.Clinician(
                user=user,
                certified=world.Certified(
                    today=timezone.localdate(), number=f"DN-{next(_certificate_numbers)}"
                ),
                hours=hours or {},
            )
        ]
    )
    return practitioner


_certificate_numbers = itertools.count(10_000)


def current_code(device) -> str:
    """The code an authenticator app would show now for `device` (a TOTPDevice)."""
    from django_otp.oath import TOTP

    return (
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )


def confirm_sign_up(client, password: str, *, follow: bool = True):
    """Do what a new patient does after signing up: open the link in the newest email
    (django.core.mail.outbox) and type the password chosen at sign-up."""
    import re

    from django.core import mail

    link = re.search(r"https?://[^/\s]+(/accounts/signup/confirm/\S+)", mail.outbox[-1].body)
    page = client.get(link.group(1), follow=True)
    return client.post(page.redirect_chain[-1][0], {"password": password}, follow=follow)
