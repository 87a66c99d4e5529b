"""Locations (each on its own clock), their opening hours, holidays and the travel time between
them, and the services the clinic offers.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, F, Func, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from clinic.text_limits import bounded_text
from clinic.validators import (
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
        # Looked up by name: practitioners (clinic.models.practitioners) refer to locations,
        # and the two modules may not import each other.
        practitioners = self.model._meta.apps.get_model("clinic", "Practitioner")
        certified_here = practitioners.objects.certified_on(day).filter(
            user__is_active=True, user__locations=OuterRef("pk")
        )
        return Exists(certified_here)


class _OnLocalClock(Func):
    """An instant read on the wall clock of a time zone named by a column (PostgreSQL's
    `AT TIME ZONE`); the instant is a value or a column."""

    arg_joiner = " AT TIME ZONE "

    def __init__(self, instant, zone, **extra):
        if isinstance(instant, dt.datetime):
            instant = models.Value(instant, models.DateTimeField())
        super().__init__(instant, zone, **extra)


class LocalDate(_OnLocalClock):
    """The date an instant falls on in a time zone named by a column: each location's own
    today in one query."""

    template = "((%(expressions)s)::date)"
    output_field = models.DateField()


class LocalTime(_OnLocalClock):
    """The wall-clock time of an instant in a time zone named by a column."""

    template = "((%(expressions)s)::time)"
    output_field = models.TimeField()


class LocalWeekday(_OnLocalClock):
    """The weekday an instant falls on in a time zone named by a column, as `Weekday`
    counts them (0 = Monday)."""

    template = "(EXTRACT(ISODOW FROM (%(expressions)s))::integer - 1)"
    output_field = models.IntegerField()


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
        help_text="Counted on the location's clock: with 24 hours, a 10:00 visit may be cancelled "
        "or moved online until 10:00 the day before, even across a change of the clocks. The "
        "same notice marks a cancellation late and decides the late-cancellation fee.",
    )
    confirms_requests_automatically = models.BooleanField(
        default=False,
        help_text="If off, online requests wait for the front desk to confirm them.",
    )
    # A US practice's superbill names the billing entity's tax id and where the care was given;
    # a location with a tax id offers superbills.
    tax_id = models.CharField(
        "tax id (EIN)",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{2}-[0-9]{7}$", "Write the EIN as 12-3456789.")],
        help_text="US Employer Identification Number as 12-3456789; printed on superbills.",
    )
    place_of_service = models.CharField(
        "place-of-service code",
        max_length=2,
        default="11",
        validators=[RegexValidator(r"^[0-9]{2}$", "Two digits, e.g. 11 for an office.")],
        help_text="CMS place-of-service code for superbills: 11 is an office.",
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
            models.CheckConstraint(
                condition=Q(tax_id="") | Q(tax_id__regex=r"^[0-9]{2}-[0-9]{7}$"),
                name="location_tax_id_is_an_ein",
                violation_error_message="An EIN is written 12-3456789.",
            ),
            models.CheckConstraint(
                condition=Q(place_of_service__regex=r"^[0-9]{2}$"),
                name="location_place_of_service_is_two_digits",
                violation_error_message="A place-of-service code is two digits (11 = office).",
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

    def cancellation_deadline(self, starts_at: dt.datetime) -> dt.datetime:
        """The last instant a visit starting at `starts_at` may be cancelled without it being
        late: its time on the location's wall clock less the notice, so 24 hours before 10:00
        on a Monday is 10:00 on the Sunday even when the clocks changed in between (23 or 25
        hours of real time). It is what the patient reads ("until 10:00 on Sunday"), so the
        late flag, the online cut-off and the fee all count it this one way."""
        local = starts_at.astimezone(self.zone).replace(tzinfo=None)
        wall = local - dt.timedelta(hours=self.cancellation_notice_hours)
        return wall.replace(tzinfo=self.zone).astimezone(dt.UTC)

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
