"""Workflows of the clinic app. Services take domain objects and keyword arguments,
never a request, and run in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from clinic.models import Location, Patient, Role, User


class EmailAlreadyUsed(Exception):
    """Another account took this email (possibly a moment ago, in a parallel request)."""


@transaction.atomic
def register_patient(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str,
    preferred_location: Location | None = None,
) -> Patient:
    """Create a patient's login and their patient record together, or neither."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password,
                first_name=first_name,
                last_name=last_name,
                role=Role.PATIENT,
            )
    except IntegrityError:
        raise EmailAlreadyUsed(email) from None
    patient = Patient.objects.create(
        user=user,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        email=user.email,
        preferred_location=preferred_location,
    )
    if preferred_location:
        patient.locations.add(preferred_location)
    return patient


@transaction.atomic
def remove_login(user: User) -> None:
    """Remove a login for good, keeping the person's clinical record: the account can no
    longer log in (its sessions stop working, since the password hash changes), its email
    is freed for a new sign-up, its two-step devices are deleted, and the patient record
    no longer points to it. Rows that name the account as their author (the access log,
    appointment histories) keep pointing to it."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    Patient.objects.filter(user=user).update(user=None)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    user.email = f"closed-account-{user.pk}@accounts.invalid"
    user.first_name = ""
    user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
