"""Workflows of the clinic app. Services take domain objects and keyword arguments,
never a request, and run in one transaction."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from clinic.models import Location, Patient, Role, SignUpRequest, User

# How long the link that confirms a sign-up works.
SIGN_UP_LINK_MAX_AGE = dt.timedelta(days=3)
_SIGN_UP_SALT = "clinic.sign-up"


class EmailAlreadyUsed(Exception):
    """Another account took this email (possibly a moment ago, in a parallel request)."""


@transaction.atomic
def register_patient(
    *,
    email: str,
    password: str | None,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str,
    preferred_location: Location | None = None,
) -> Patient:
    """Create a patient's login and their patient record together, or neither (`password`
    None: no usable password yet)."""
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


def request_sign_up(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str,
) -> SignUpRequest | None:
    """Keep a patient's sign-up until its address is confirmed (replacing an earlier one for
    the same address); None when the address already has an account, whose owner is then told
    instead. The password is hashed either way, so that both take as long."""
    email = email.strip().lower()
    password_hash = make_password(password)
    if User.objects.filter(email=email).exists():
        return None
    now = timezone.now()
    SignUpRequest.objects.filter(created_at__lt=now - SIGN_UP_LINK_MAX_AGE).delete()
    sign_up, _ = SignUpRequest.objects.update_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "date_of_birth": date_of_birth,
            "phone": phone,
            "password": password_hash,
            "created_at": now,
        },
    )
    return sign_up


def _sign_up_fingerprint(sign_up: SignUpRequest) -> str:
    # Changes when a newer sign-up replaces this one: older links stop working.
    value = f"{sign_up.pk}:{sign_up.password}:{sign_up.created_at.isoformat()}"
    return salted_hmac(_SIGN_UP_SALT, value).hexdigest()[:32]


def sign_up_token(sign_up: SignUpRequest) -> str:
    """The secret part of the confirmation link."""
    return signing.dumps([sign_up.pk, _sign_up_fingerprint(sign_up)], salt=_SIGN_UP_SALT)


def sign_up_for_token(token: str) -> SignUpRequest | None:
    """The waiting sign-up a link confirms, or None if the link is forged, too old, used or
    replaced by a newer sign-up."""
    try:
        pk, fingerprint = signing.loads(
            token, salt=_SIGN_UP_SALT, max_age=SIGN_UP_LINK_MAX_AGE.total_seconds()
        )
        sign_up = SignUpRequest.objects.get(pk=int(pk))
    except (signing.BadSignature, ValueError, TypeError, SignUpRequest.DoesNotExist):
        return None
    if not constant_time_compare(str(fingerprint), _sign_up_fingerprint(sign_up)):
        return None
    return sign_up


@transaction.atomic
def confirm_sign_up(sign_up: SignUpRequest) -> Patient:
    """The address is confirmed: make the account, with the password chosen at sign-up, and
    the patient record, and drop the waiting sign-up. EmailAlreadyUsed if the address got an
    account meanwhile (a second click on the link, say)."""
    SignUpRequest.objects.filter(pk=sign_up.pk).delete()
    patient = register_patient(
        email=sign_up.email,
        password=None,
        first_name=sign_up.first_name,
        last_name=sign_up.last_name,
        date_of_birth=sign_up.date_of_birth,
        phone=sign_up.phone,
    )
    patient.user.password = sign_up.password
    patient.user.save(update_fields=["password"])
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
