"""Practitioners: their professional registration (what receipts for insurers and superbills
print), their dry-needling certifications, working hours at each location, and time off or extra
hours.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import BooleanField, Exists, F, FloatField, Func, OuterRef, Q, Sum, Value
from django.db.models.functions import Greatest, Least
from django.db.models.lookups import GreaterThan, LessThan

from clinic.models.locations import (
    LocalDate,
    LocalTime,
    LocalWeekday,
    Location,
    OpeningHours,
    TimeRange,
    Weekday,
)
from clinic.models.people import Role, User
from clinic.text_limits import bounded_text


def npi_is_valid(npi: str) -> bool:
    """Whether `npi` is a well-formed US National Provider Identifier: ten digits whose last is
    the Luhn check digit of the other nine behind the card-issuer prefix 80840 (CMS's rule; the
    prefix adds a constant 24 to the Luhn sum)."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    total = 24
    for position, digit in enumerate(int(d) for d in npi):
        if position % 2 == 0:  # 1st, 3rd, … 9th digit: doubled
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return total % 10 == 0


def validate_npi(npi: str) -> None:
    if npi and not npi_is_valid(npi):
        raise ValidationError(
            "An NPI is 10 digits and its last digit is a check digit; this one does not check "
            "out. Copy it again from the NPI registry.",
            code="invalid_npi",
        )


class NpiIsValid(Func):
    """The database's own NPI check (the SQL function of clinic migration 0009), so a CHECK
    constraint refuses a mistyped NPI whoever writes it."""

    function = "clinic_npi_is_valid"
    output_field = BooleanField()


class Profession(models.TextChoices):
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"
    PHYSICAL_THERAPIST = "physical_therapist", "Physical therapist"


class RegulatoryBody(models.TextChoices):
    """Who registers or licenses the practitioner: the body an insurer checks the number with."""

    CPO = "cpo", "College of Physiotherapists of Ontario"
    MD_BPTE = "md_bpte", "Maryland Board of Physical Therapy Examiners"


class PractitionerQuerySet(models.QuerySet):
    def certified_on(self, on: dt.date) -> PractitionerQuerySet:
        """Practitioners holding a dry-needling certification that is current on `on`."""
        current = Certification.objects.filter(
            practitioner=OuterRef("pk"), valid_from__lte=on, valid_until__gte=on
        )
        return self.filter(Exists(current))

    def certified_between(self, first: dt.date, last: dt.date) -> PractitionerQuerySet:
        """Practitioners with a dry-needling certification current on some day from `first` to
        `last` (the days a patient could book online: an expired one does not count)."""
        current = Certification.objects.filter(
            practitioner=OuterRef("pk"), valid_from__lte=last, valid_until__gte=first
        )
        return self.filter(Exists(current))

    def certified_from(self, first: dt.date) -> PractitionerQuerySet:
        """Practitioners with a dry-needling certification current on `first` or on some day
        after it (a renewal to come counts: they can be booked for needling from then)."""
        return self.certified_between(first, dt.date.max)

    def at(self, location: Location | OuterRef) -> PractitionerQuerySet:
        return self.filter(user__locations=location, user__is_active=True)

    def with_hours_at(
        self, location: Location | OuterRef, *, now: dt.datetime
    ) -> PractitionerQuerySet:
        """Practitioners `at` the location who have hours there that a time can ever fall in,
        now or ahead: weekly hours on a weekday the location opens, overlapping its opening
        hours, or extra hours there that have not ended by `now` (they count on a closed day
        too). The rule `booking.availability` finds free times by, asked of all time to come
        at once: a practitioner without such hours is never free there. `location` may be an
        `OuterRef` (then in a subquery of a query with that column)."""
        # The hours' subqueries sit one level deeper than this queryset.
        there = OuterRef(location) if isinstance(location, OuterRef) else location
        while_open = OpeningHours.objects.filter(
            location_id=OuterRef("location_id"),
            weekday=OuterRef("weekday"),
            opens_at__lt=OuterRef("ends_at"),
            closes_at__gt=OuterRef("starts_at"),
        )
        weekly = WorkingHours.objects.filter(practitioner_id=OuterRef("pk"), location=there).filter(
            Exists(while_open)
        )
        extra = ScheduleException.objects.filter(
            practitioner_id=OuterRef("pk"),
            kind=ScheduleException.Kind.EXTRA_HOURS,
            location=there,
            ends_at__gt=now,
        )
        return self.at(location).filter(Exists(weekly) | Exists(extra))

    def with_hours_meeting(
        self,
        location: Location | OuterRef,
        *,
        weekdays: list[int] | OuterRef,
        earliest: dt.time | OuterRef,
        latest: dt.time | OuterRef,
        minutes: int | OuterRef,
        now: dt.datetime,
    ) -> PractitionerQuerySet:
        """Practitioners `at` the location whose hours there may hold a visit of `minutes`
        on one of `weekdays` between `earliest` and `latest` (local times at the location),
        now or ahead: `with_hours_at` asked of those days and times. Each of the wish's parts
        may be an `OuterRef` to the query this is a subquery of (a waitlist place's columns).

        Weekly hours on one of the weekdays, clipped to the location's opening hours that day,
        meet the wish when their overlap with the window is at least `minutes`, summed over
        that weekday's hours (back-to-back hours are one stretch to the slot search); extra
        hours not yet ended meet it when, on the location's clock, they fall on one of the
        weekdays and overlap the window at all, or run over midnight (they may run on from
        weekly hours or other extra hours beside them).

        Conservative, so that it never leaves out a practitioner a time could be found with
        (it may keep one no time is ever found with): hours separated by a gap on one weekday
        are summed as if they ran on; extra hours count whatever their length, and over
        midnight whatever the window; and what the slot search takes away day by day is not
        asked at all (holidays, time off, appointments and their buffers, rooms)."""
        there = OuterRef(location) if isinstance(location, OuterRef) else location
        wish = {
            "weekdays": _one_level_deeper(weekdays, ArrayField(models.SmallIntegerField())),
            "earliest": _one_level_deeper(earliest, models.TimeField()),
            "latest": _one_level_deeper(latest, models.TimeField()),
            "minutes": _one_level_deeper(minutes, models.IntegerField()),
        }
        in_window = _MinutesBetween(
            Least("ends_at", "location__opening_hours__closes_at", wish["latest"]),
            Greatest("starts_at", "location__opening_hours__opens_at", wish["earliest"]),
        )
        weekly = (
            WorkingHours.objects.filter(
                _IsOneOf("weekday", wish["weekdays"]),
                practitioner_id=OuterRef("pk"),
                location=there,
                location__opening_hours__weekday=F("weekday"),
            )
            .values("weekday")
            .annotate(minutes_in_window=Sum(Greatest(in_window, Value(0.0))))
            .filter(minutes_in_window__gte=wish["minutes"])
        )
        # What is left of them from `now` on, on the location's clock.
        starts = Greatest("starts_at", Value(now, models.DateTimeField()))
        zone = F("location__time_zone")
        extra = ScheduleException.objects.filter(
            Q(LessThan(LocalDate(starts, zone), LocalDate("ends_at", zone)))
            | Q(
                _IsOneOf(LocalWeekday(starts, zone), wish["weekdays"]),
                LessThan(LocalTime(starts, zone), wish["latest"]),
                GreaterThan(LocalTime("ends_at", zone), wish["earliest"]),
            ),
            practitioner_id=OuterRef("pk"),
            kind=ScheduleException.Kind.EXTRA_HOURS,
            location=there,
            ends_at__gt=now,
        )
        return self.at(location).filter(Exists(weekly) | Exists(extra))


def _one_level_deeper(value, output_field: models.Field):
    """`value` as seen from a subquery of the query it was given to: a column of the query
    outside that one, or the value itself."""
    if isinstance(value, OuterRef):
        return OuterRef(value)
    return Value(value, output_field=output_field)


class _IsOneOf(Func):
    """`value = ANY(array)`: a weekday among a waitlist place's weekdays."""

    template = "(%(expressions)s))"
    arg_joiner = " = ANY("
    output_field = BooleanField()


class _MinutesBetween(Func):
    """Minutes from the second time of day to the first (negative when it is later)."""

    template = "(EXTRACT(EPOCH FROM (%(expressions)s)) / 60)"
    arg_joiner = " - "
    output_field = FloatField()


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
    # What receipts for insurers and superbills print: insurers refuse a receipt without the
    # registered practitioner's number and the body that issued it.
    profession = models.CharField(max_length=20, blank=True, choices=Profession.choices)
    registration_number = models.CharField(
        "registration or licence number", max_length=30, blank=True
    )
    registered_with = models.CharField(
        "issuing body", max_length=10, blank=True, choices=RegulatoryBody.choices
    )
    npi = models.CharField(
        "NPI",
        max_length=10,
        blank=True,
        validators=[validate_npi],
        help_text="US National Provider Identifier (10 digits), printed on superbills.",
    )

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(npi="") | NpiIsValid("npi"),
                name="practitioner_npi_is_valid",
                violation_error_message="The NPI's check digit does not check out.",
            ),
            # A number means nothing to an insurer without the body that issued it.
            models.CheckConstraint(
                condition=Q(registration_number="") | ~Q(registered_with=""),
                name="practitioner_registration_names_its_body",
                violation_error_message="Say which body issued the registration number.",
            ),
            models.CheckConstraint(
                condition=Q(registered_with__in=["", *RegulatoryBody.values]),
                name="practitioner_registered_with_is_known",
            ),
            models.CheckConstraint(
                condition=Q(profession__in=["", *Profession.values]),
                name="practitioner_profession_is_known",
            ),
        ]

    def __str__(self) -> str:
        return self.user.full_name

    @property
    def name(self) -> str:
        return self.user.full_name

    @property
    def registration(self) -> str:
        """'Physiotherapist, registration R12345, College of Physiotherapists of Ontario'."""
        parts = [self.get_profession_display()] if self.profession else []
        if self.registration_number:
            parts.append(f"registration {self.registration_number}")
        if self.registered_with:
            parts.append(self.get_registered_with_display())
        return ", ".join(parts)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.user_id and self.user.role != Role.PRACTITIONER:
            errors["user"] = "Only a user with the practitioner role can be linked."
        if self.registration_number.strip() and not self.registered_with:
            errors["registered_with"] = "Say which body issued the registration number."
        if errors:
            raise ValidationError(errors)

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
