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
