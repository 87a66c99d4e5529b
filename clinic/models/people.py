"""People: logins and their roles (patient, front desk, practitioner, manager), the locations
staff work at, and patients.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from clinic.models.locations import Location
from clinic.validators import (
    validate_born_after_1900,
    validate_not_in_future,
    validate_phone,
)

# --- People ----------------------------------------------------------------------------------


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    FRONT_DESK = "front_desk", "Front desk"
    PRACTITIONER = "practitioner", "Practitioner"
    MANAGER = "manager", "Clinic manager"
    # Not a person: the account an API client acts as in the access log (booking.api makes
    # one per client). It never logs in.
    API_CLIENT = "api_client", "API client"


def role_label(stored: str) -> str:
    """The role an access-log row was written under, in the clinic's words. The row keeps the
    role as it was then, as text (not a choice of today's roles), so a value no role has any
    more, and the worker's "system", still reads as written."""
    return Role(stored).label if stored in Role.values else stored.replace("_", " ").capitalize()


STAFF_ROLES = frozenset({Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER})
# Apps whose models a manager administers in the Django admin.
MANAGED_APPS = frozenset({"clinic", "intake", "booking", "billing"})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email=self.normalize_email(email).lower())

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.pop("is_staff", None)
        fields.setdefault("role", Role.MANAGER)
        fields["is_superuser"] = True
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who logs in. Email is the login; role decides what they may do."""

    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="staff",
        help_text="The locations this staff member works at (managers see every location).",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            # Emails are stored lower-case so that the unique index is case-insensitive.
            models.CheckConstraint(condition=Q(email=Lower("email")), name="user_email_lowercase"),
            # It has no pages, nor a home to be sent to.
            models.CheckConstraint(
                condition=~Q(role="api_client") | Q(is_active=False),
                name="user_api_client_never_logs_in",
                violation_error_message="An API client's account cannot log in: leave it inactive.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.first_name

    @property
    def is_staff(self) -> bool:
        """Whether the Django admin lets this user in: managers and superusers only."""
        return self.is_active and (self.role == Role.MANAGER or self.is_superuser)

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_front_desk(self) -> bool:
        return self.role == Role.FRONT_DESK

    @property
    def is_practitioner(self) -> bool:
        return self.role == Role.PRACTITIONER

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_api_client(self) -> bool:
        return self.role == Role.API_CLIENT

    @property
    def log_name(self) -> str:
        """Who the access log says acted: a person's name, or 'API client: <its name>' (an
        API client's account keeps the client's name as its last name)."""
        if self.is_api_client:
            return f"API client: {self.last_name}"
        return self.full_name

    def has_perm(self, perm: str, obj=None) -> bool:
        if self.is_active and self.is_manager and perm.split(".", 1)[0] in MANAGED_APPS:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_manager and app_label in MANAGED_APPS:
            return True
        return super().has_module_perms(app_label)


def actor_field(help_text: str = "", *, blank: bool = True) -> models.ForeignKey:
    """The user who did something to a row (signed it, issued it, offered it): empty until it
    is done, or when no person did it (the system, an automatic offer). An account that did
    something cannot be deleted from under the record of it; no user lists the rows they
    touched, so there is no reverse accessor."""
    return models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=blank,
        related_name="+",
        help_text=help_text,
    )


class Patient(models.Model):
    """A person the clinic cares for. The user link is optional so the front desk can
    register a patient who phones in."""

    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="patient",
        limit_choices_to={"role": Role.PATIENT},
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(validators=[validate_born_after_1900, validate_not_in_future])
    phone = models.CharField(max_length=30, validators=[validate_phone])
    email = models.EmailField(blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(
        max_length=30, blank=True, validators=[validate_phone]
    )
    preferred_location = models.ForeignKey(
        Location, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    locations = models.ManyToManyField(
        Location,
        blank=True,
        related_name="patients",
        help_text="Locations the patient is registered at; their staff can see the patient.",
    )
    account_closed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the patient closed their online account. The record stays; the clinic "
        "sends them no more follow-up emails (questionnaires, reminders to fill in intake, "
        "waitlist offers).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=dt.date(1900, 1, 1)),
                name="patient_born_after_1900",
            ),
            models.CheckConstraint(
                condition=Q(account_closed_at__isnull=True) | Q(user__isnull=True),
                name="patient_closed_account_has_no_login",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The clock the patient's records are shown on when no location is concerned: their
        preferred location's, else the clinic's own (CLINIC_TIME_ZONE; the server's is UTC)."""
        location = self.preferred_location
        return location.zone if location else zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)

    def age_on(self, on: dt.date) -> int:
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
