"""The clinic's organisation: people and their roles, locations, services,
practitioners with their certifications and hours, and patients."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from clinic.text_limits import bounded_text
from clinic.validators import (
    validate_born_after_1900,
    validate_not_in_future,
    validate_phone,
    validate_time_zone,
)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class TimeRange(Func):
    """`timerange(start, end)`: a range type over `time` made by the clinic's first migration,
    so that weekly hours can carry exclusion constraints like appointments do."""

    function = "timerange"
    output_field = models.TextField()  # only ever used inside constraints


# --- Locations -------------------------------------------------------------------------------


class LocationQuerySet(models.QuerySet):
    def offering_dry_needling(self, on: dt.date | None = None) -> LocationQuerySet:
        """Locations where a practitioner with a certification current on `on` works;
        without `on`, current on each location's own today (not the server's)."""
        return self.filter(self._certified_practitioner_here(on))

    def with_dry_needling_flag(self, on: dt.date | None = None) -> LocationQuerySet:
        return self.annotate(offers_dry_needling=self._certified_practitioner_here(on))

    def _certified_practitioner_here(self, on: dt.date | None) -> Exists:
        # Seen from the certification inside the practitioner inside the location.
        day = on or LocalDate(timezone.now(), OuterRef(OuterRef("time_zone")))
        certified_here = Practitioner.objects.certified_on(day).filter(
            user__is_active=True, user__locations=OuterRef("pk")
        )
        return Exists(certified_here)


class LocalDate(Func):
    """The date an instant falls on in a time zone named by a column (PostgreSQL's
    `AT TIME ZONE`): each location's own today in one query."""

    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "
    output_field = models.DateField()

    def __init__(self, instant: dt.datetime, zone, **extra):
        super().__init__(models.Value(instant, models.DateTimeField()), zone, **extra)


class Location(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    street_address = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    region = models.CharField("province or state", max_length=100)
    postal_code = models.CharField("postal or ZIP code", max_length=20)
    phone = models.CharField(max_length=30, validators=[validate_phone])
    email = models.EmailField(blank=True)
    time_zone = models.CharField(
        max_length=64,
        validators=[validate_time_zone],
        help_text="IANA name, for example America/Toronto. Pages show times in this zone.",
    )
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    is_active = models.BooleanField(default=True)

    # Booking policy.
    min_notice_minutes = models.PositiveIntegerField(
        "minimum notice for online booking (minutes)", default=120
    )
    booking_horizon_days = models.PositiveIntegerField(
        "how far ahead patients may book (days)",
        default=56,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
    )
    buffer_minutes = models.PositiveIntegerField(
        "buffer after each appointment (minutes)", default=5, validators=[MaxValueValidator(120)]
    )
    cancellation_notice_hours = models.PositiveIntegerField(
        "cancellation notice (hours); later is a late cancellation",
        default=24,
        validators=[MaxValueValidator(24 * 14)],
    )
    confirms_requests_automatically = models.BooleanField(
        default=False,
        help_text="If off, online requests wait for the front desk to confirm them.",
    )

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking_horizon_days__gte=1, booking_horizon_days__lte=366),
                name="location_horizon_between_1_and_366_days",
            ),
            models.CheckConstraint(
                condition=Q(buffer_minutes__lte=120), name="location_buffer_at_most_2_hours"
            ),
            models.CheckConstraint(
                condition=Q(cancellation_notice_hours__lte=24 * 14),
                name="location_cancellation_notice_at_most_14_days",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("clinic:location_detail", args=[self.slug])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def now(self) -> dt.datetime:
        return timezone.now().astimezone(self.zone)

    def today(self) -> dt.date:
        return self.now().date()

    @property
    def one_line_address(self) -> str:
        return f"{self.street_address}, {self.city}, {self.region} {self.postal_code}"


# Minutes a practitioner needs between two locations when no travel time is set for the pair.
# The booking app's travel-time trigger holds the same number (booking migration 0002).
DEFAULT_TRAVEL_MINUTES = 30


class TravelTime(models.Model):
    """How long a practitioner needs to get from one location to another on the same day.
    Stored once per pair (the lower id first); pairs not listed take DEFAULT_TRAVEL_MINUTES."""

    from_location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    minutes = models.PositiveSmallIntegerField(validators=[MaxValueValidator(480)])

    class Meta:
        verbose_name = "travel time between locations"
        constraints = [
            models.UniqueConstraint(
                fields=["from_location", "to_location"], name="travel_time_once_per_pair"
            ),
            models.CheckConstraint(
                condition=Q(from_location__lt=F("to_location")),
                name="travel_time_pair_in_id_order",
            ),
            # The booking travel-time trigger looks 8 hours around an appointment.
            models.CheckConstraint(
                condition=Q(minutes__lte=480), name="travel_time_at_most_8_hours"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_location} ↔ {self.to_location}: {self.minutes} min"

    def save(self, *args, **kwargs) -> None:
        if (
            self.from_location_id
            and self.to_location_id
            and self.from_location_id > self.to_location_id
        ):
            self.from_location_id, self.to_location_id = self.to_location_id, self.from_location_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.from_location_id and self.from_location_id == self.to_location_id:
            raise ValidationError({"to_location": "Choose two different locations."})


class OpeningHours(models.Model):
    """When a location's doors are open on a weekday, in the location's own wall-clock time."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["location", "weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(
                fields=["location", "weekday"], name="opening_hours_one_row_per_weekday"
            ),
            models.CheckConstraint(
                condition=Q(opens_at__lt=F("closes_at")), name="opening_hours_open_before_close"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Closing time must be after opening time."})


class Holiday(models.Model):
    """A day a location is closed (a public holiday, a staff day)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["location", "date"], name="holiday_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%Y-%m-%d})"


# --- Services --------------------------------------------------------------------------------


class ServiceKind(models.TextChoices):
    ASSESSMENT = "assessment", "Initial assessment"
    DRY_NEEDLING = "dry_needling", "Dry-needling session"
    REASSESSMENT = "reassessment", "Re-assessment"


@bounded_text
class Service(models.Model):
    kind = models.CharField(max_length=20, choices=ServiceKind.choices, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    allowed_minutes = ArrayField(
        models.PositiveSmallIntegerField(), help_text="Lengths that may be booked, e.g. 15, 20, 30."
    )
    default_minutes = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allowed_minutes__len__gte=1), name="service_has_a_length"
            ),
            models.CheckConstraint(
                condition=Q(
                    allowed_minutes__contains=Func(
                        F("default_minutes"), function="ARRAY", template="ARRAY[%(expressions)s]"
                    )
                ),
                name="service_default_length_is_allowed",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def needs_dry_needling_certification(self) -> bool:
        return self.kind == ServiceKind.DRY_NEEDLING

    def clean(self) -> None:
        lengths = self.allowed_minutes or []
        if any(minutes < 5 or minutes > 240 for minutes in lengths):
            raise ValidationError({"allowed_minutes": "Each length must be 5 to 240 minutes."})
        if self.default_minutes and lengths and self.default_minutes not in lengths:
            raise ValidationError(
                {"default_minutes": "The default length must be one of the allowed lengths."}
            )


# --- People ----------------------------------------------------------------------------------


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    FRONT_DESK = "front_desk", "Front desk"
    PRACTITIONER = "practitioner", "Practitioner"
    MANAGER = "manager", "Clinic manager"


STAFF_ROLES = frozenset({Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER})
# Apps whose models a manager administers in the Django admin.
MANAGED_APPS = frozenset({"clinic", "intake", "booking"})


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

    def has_perm(self, perm: str, obj=None) -> bool:
        if self.is_active and self.is_manager and perm.split(".", 1)[0] in MANAGED_APPS:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_manager and app_label in MANAGED_APPS:
            return True
        return super().has_module_perms(app_label)


class PractitionerQuerySet(models.QuerySet):
    def certified_on(self, on: dt.date) -> PractitionerQuerySet:
        """Practitioners holding a dry-needling certification that is current on `on`."""
        current = Certification.objects.filter(
            practitioner=OuterRef("pk"), valid_from__lte=on, valid_until__gte=on
        )
        return self.filter(Exists(current))

    def at(self, location: Location) -> PractitionerQuerySet:
        return self.filter(user__locations=location, user__is_active=True)


@bounded_text
class Practitioner(models.Model):
    user = models.OneToOneField(
        User,
        on_delete=models.PROTECT,
        related_name="practitioner",
        limit_choices_to={"role": Role.PRACTITIONER},
    )
    title = models.CharField(
        max_length=100, help_text="As patients see it, e.g. Registered Physiotherapist."
    )
    bio = models.TextField(blank=True, max_length=2000)

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]

    def __str__(self) -> str:
        return self.user.full_name

    @property
    def name(self) -> str:
        return self.user.full_name

    def clean(self) -> None:
        if self.user_id and self.user.role != Role.PRACTITIONER:
            raise ValidationError({"user": "Only a user with the practitioner role can be linked."})

    def certification_on(self, on: dt.date) -> Certification | None:
        """The certification that is current on `on`, if any (uses prefetched rows if present)."""
        for certification in self.certifications.all():
            if certification.is_current_on(on):
                return certification
        return None

    def is_certified_on(self, on: dt.date) -> bool:
        return self.certification_on(on) is not None


class Certification(models.Model):
    """A dry-needling certification. Only a certification current on a session's date
    lets a practitioner be booked for needling."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="certifications"
    )
    issued_by = models.CharField(max_length=200)
    certificate_number = models.CharField(max_length=100, blank=True)
    valid_from = models.DateField()
    valid_until = models.DateField()

    class Meta:
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")),
                name="certification_expires_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Dry needling, {self.issued_by} ({self.valid_from} – {self.valid_until})"

    def clean(self) -> None:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValidationError(
                {"valid_until": "A certification must expire after the date it starts."}
            )

    def is_current_on(self, on: dt.date) -> bool:
        return self.valid_from <= on <= self.valid_until


class WorkingHours(models.Model):
    """A practitioner's regular weekly hours at one location, in that location's wall-clock time."""

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts_at = models.TimeField()
    ends_at = models.TimeField()

    class Meta:
        ordering = ["practitioner", "weekday", "starts_at"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="working_hours_start_before_end"
            ),
            # A practitioner cannot be in two places during the same hours of a weekday.
            ExclusionConstraint(
                name="working_hours_no_overlap_per_practitioner",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    ("weekday", RangeOperators.EQUAL),
                    (TimeRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.practitioner} at {self.location}: {self.get_weekday_display()} "
            f"{self.starts_at:%H:%M}–{self.ends_at:%H:%M}"
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end of the working hours must be after their start."
        if (
            self.practitioner_id
            and self.location_id
            and not self.practitioner.user.locations.filter(pk=self.location_id).exists()
        ):
            errors["location"] = "The practitioner does not work at this location."
        if not errors and self.practitioner_id and self.weekday is not None and self.starts_at:
            clash = (
                WorkingHours.objects.filter(
                    practitioner_id=self.practitioner_id,
                    weekday=self.weekday,
                    starts_at__lt=self.ends_at,
                    ends_at__gt=self.starts_at,
                )
                .exclude(pk=self.pk)
                .select_related("location")
                .first()
            )
            if clash:
                errors["starts_at"] = (
                    f"These hours overlap hours already set at {clash.location} "
                    f"({clash.starts_at:%H:%M}–{clash.ends_at:%H:%M})."
                )
        if errors:
            raise ValidationError(errors)


class ScheduleException(models.Model):
    """A change to a practitioner's regular hours: time off, or extra hours at a location."""

    class Kind(models.TextChoices):
        TIME_OFF = "time_off", "Time off"
        EXTRA_HOURS = "extra_hours", "Extra hours"

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="schedule_exceptions"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    location = models.ForeignKey(
        Location,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="schedule_exceptions",
        help_text="Required for extra hours; leave empty for time off at every location.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="schedule_exception_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(kind="time_off") | Q(location__isnull=False),
                name="schedule_exception_extra_hours_have_a_location",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.practitioner} {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "The end must be after the start."
        if self.kind == self.Kind.EXTRA_HOURS and not self.location_id:
            errors["location"] = "Say at which location the extra hours are."
        if errors:
            raise ValidationError(errors)


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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=dt.date(1900, 1, 1)),
                name="patient_born_after_1900",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, on: dt.date) -> int:
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- The access log of personal health information (written through clinic.audit) ----------


class AccessLog(models.Model):
    """One access to health information. Most rows name one patient's record; a list row
    says a patient was shown in a list (a schedule, a queue, a search), and an export row
    names every patient the export covered (`patient_ids`), one row per export."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Shown in a list"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        SIGN = "sign", "Signed"
        EXPORT = "export", "Exported"
        DELETE = "delete", "Deleted"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=20)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty only for an export that covered several patients (see patient_ids).",
    )
    patient_ids = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        help_text="For an export: every patient whose records it held.",
    )
    record_type = models.CharField(max_length=60, help_text="For example intake.submission.")
    record_id = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-at"]),
            models.Index(fields=["actor", "-at"]),
            # A patient's access report finds the exports that covered them.
            GinIndex(fields=["patient_ids"], name="accesslog_patient_ids"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | Q(action="export"),
                name="accesslog_names_its_patient",
            ),
            models.CheckConstraint(
                condition=Q(patient_ids=[]) | Q(action="export"),
                name="accesslog_patient_ids_only_for_exports",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_role} {self.action} {self.record_type}"


# --- Sign-up waiting for its email address to be confirmed -------------------------------------


class SignUpRequest(models.Model):
    """A patient's sign-up, kept until the link emailed to the address is used. No account
    exists before then, so the sign-up page answers the same for any address (one that has an
    account gets an email saying so instead), and nobody can hold an address they do not read.
    A new sign-up for the same address replaces this one (its link stops working)."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=30)
    # The password chosen at sign-up, hashed as User.password is.
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(email=Lower("email")), name="signup_request_email_lowercase"
            ),
        ]

    def __str__(self) -> str:
        return f"Sign-up waiting for {self.email}"
