"""Held times and the waitlist: a slot held for a patient while they confirm, a patient
waiting for a time, and the time offered to them.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from booking.models.appointments import Appointment, Room
from clinic.models import (
    Location,
    Patient,
    Practitioner,
    Service,
    User,
    Weekday,
    actor_field,
)


class SlotHold(models.Model):
    """A slot kept for one patient for a few minutes while they confirm a request.

    Holds stop others from being offered the same time; the appointment's exclusion
    constraints remain the guarantee. A hold that became an appointment keeps a link to
    it, so that confirming twice (a double click, a resubmitted form) finds the same
    appointment instead of making another."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="holds")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="holds")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="holds")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocks_until = models.DateTimeField()
    expires_at = models.DateTimeField()
    appointment = models.OneToOneField(
        Appointment, on_delete=models.SET_NULL, null=True, blank=True, related_name="hold"
    )
    placed_by = actor_field(
        "Who chose the time: the patient on the pages, or an API client's account. Only they may "
        "request it. A waitlist offer's hold has none: it is taken by accepting the offer."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="hold_practitioner_start")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="hold_starts_before_it_ends"
            ),
        ]

    def __str__(self) -> str:
        return f"Hold for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    def is_live(self, at: dt.datetime | None = None) -> bool:
        return self.appointment_id is None and self.expires_at > (at or timezone.now())


class WaitlistEntryQuerySet(models.QuerySet):
    def with_practitioner_standing(
        self, today: dt.date, *, now: dt.datetime
    ) -> WaitlistEntryQuerySet:
        """Whether anyone can ever take each place, in the same query (see
        `WaitlistEntry.never_offered`): whether its location has a room in use; whether the
        practitioner it names still works at its location, has hours there
        (`Practitioner.objects.with_hours_at`, at `now`), hours that may hold the visit on the
        place's days and times (`with_hours_meeting`), and holds a dry-needling certification current on `today` (the location's date) or later
        (one to come counts); and, for a place for anyone, whether any practitioner there has
        hours, any with such a certification, and any (certified) whose hours may hold it.
        Conservative as `with_hours_meeting` is, and a place for an earlier time than an
        appointment is asked of all time to come, not only of the time before it: it never
        calls a place hopeless that could be offered a time."""
        here = OuterRef("location_id")
        named = Practitioner.objects.filter(pk=OuterRef("practitioner_id"))
        with_hours = Practitioner.objects.with_hours_at(here, now=now)
        meeting = Practitioner.objects.with_hours_meeting(
            here,
            weekdays=OuterRef("weekdays"),
            earliest=OuterRef("earliest_time"),
            latest=OuterRef("latest_time"),
            minutes=OuterRef("minutes"),
            now=now,
        )
        return self.annotate(
            location_has_a_room=Exists(Room.objects.filter(location=here, is_active=True)),
            practitioner_works_here=Exists(named.at(here)),
            practitioner_has_hours_here=Exists(with_hours.filter(pk=OuterRef("practitioner_id"))),
            practitioner_hours_suit=Exists(meeting.filter(pk=OuterRef("practitioner_id"))),
            practitioner_certified_ahead=Exists(named.certified_from(today)),
            anyone_has_hours_here=Exists(with_hours),
            anyone_certified_has_hours_here=Exists(with_hours.certified_from(today)),
            anyones_hours_suit=Exists(meeting),
            anyone_certifieds_hours_suit=Exists(meeting.certified_from(today)),
        )


class NeverOffered(NamedTuple):
    """Why a waitlist place can never be offered a time, and what the desk can do about it."""

    reason: str  # in the clinic's words, for "Can never be offered a time: …"
    remedy: str


class WaitlistEntry(models.Model):
    """A patient asking for an earlier slot: where, optionally with whom, and when suits."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered a slot"
        BOOKED = "booked", "Booked"
        WITHDRAWN = "withdrawn", "Withdrawn"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="waitlist_entries")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="waitlist")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: anyone suitable.",
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    replaces = models.ForeignKey(
        Appointment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_places",
        help_text="The patient's appointment this place is for an earlier time than: taking an "
        "offer moves it there. Empty: a new appointment.",
    )
    minutes = models.PositiveSmallIntegerField()
    weekdays = ArrayField(models.PositiveSmallIntegerField(), help_text="0 = Monday … 6 = Sunday")
    earliest_time = models.TimeField(help_text="Local time at the location.")
    latest_time = models.TimeField(help_text="Latest end, local time at the location.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        constraints = [
            models.CheckConstraint(
                condition=Q(earliest_time__lt=F("latest_time")),
                name="waitlist_earliest_before_latest",
            ),
            models.CheckConstraint(
                condition=Q(weekdays__len__gte=1), name="waitlist_at_least_one_weekday"
            ),
            models.CheckConstraint(
                condition=Q(weekdays__contained_by=list(range(7))),
                name="waitlist_weekdays_monday_to_sunday",
            ),
            # A visit of some minutes that fits in one day (`matches` asks that of the offers).
            models.CheckConstraint(
                condition=Q(minutes__gte=5, minutes__lte=12 * 60), name="waitlist_minutes_in_a_day"
            ),
            # One live place per appointment to bring forward: two would race to move it.
            # (That the appointment is the same patient's is a composite foreign key: see
            # migration 0016_waitlist_place_replaces_an_appointment.)
            models.UniqueConstraint(
                fields=["replaces"],
                condition=Q(state__in=["waiting", "offered"]),
                name="waitlist_one_live_place_per_appointment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting at {self.location}"

    @property
    def chosen_online(self) -> bool:
        """Made by the patient on the pages, rather than by the desk for them: such a place is
        offered only times the patient could have booked online, with a practitioner trained in
        dry needling (the desk books and offers anyone working there)."""
        return self.patient.user_id is not None and self.created_by_id == self.patient.user_id

    @property
    def never_offered(self) -> NeverOffered | None:
        """Why no time can ever be offered to this place, for the desk to phone the patient
        (None when one can, or without `with_practitioner_standing`). A needling place never
        can, nor one at a location whose rooms are all inactive; otherwise the practitioner it names has left the location or has no hours there,
        or, for a place the patient made online (offered certified practitioners only), holds
        no dry-needling certification from today on, or their hours there never hold a visit
        of the place's length on its days and between its times; for a place for anyone, no
        practitioner there has hours, or none with such a certification for a place made
        online, or nobody's (certified) hours ever hold the visit then. The offers' own rule
        (`booking.services.waitlist`, through `check_slot`), asked of all time to come, and
        conservatively where the database cannot ask it whole (see
        `Practitioner.objects.with_hours_meeting`): a place it says nothing about may still
        wait forever, but one it flags is never offered a time."""
        if not hasattr(self, "practitioner_works_here"):
            return None
        if self.service.needs_dry_needling_certification:
            # Left from before needling places were refused: the offers skip them outright
            # (a session from the waitlist would pass the course gate by).
            return NeverOffered(
                "dry-needling sessions come as a course after the assessment, never from the "
                "waitlist",
                "To have a session of their course earlier, move it on the schedule; then take "
                "this place off.",
            )
        location = self.location.name
        if not self.location_has_a_room:
            return NeverOffered(
                f"{location} has no room in use (every room there is marked inactive)",
                "A manager can make a room active again in the administration; or phone the "
                "patient to choose another location.",
            )
        if self.practitioner_id is not None:
            other_practitioner = "Phone the patient to choose another practitioner."
            name = self.practitioner.name
            if not self.practitioner_works_here:
                return NeverOffered(f"{name} no longer works at {location}", other_practitioner)
            if not self.practitioner_has_hours_here:
                return NeverOffered(
                    f"{name} has no working hours at {location} (no weekly hours while it is "
                    "open, and no extra hours ahead)",
                    other_practitioner,
                )
            if self.chosen_online and not self.practitioner_certified_ahead:
                return NeverOffered(
                    f"{name} is no longer certified for dry needling, and a place the patient "
                    "made online is offered certified practitioners only",
                    other_practitioner,
                )
            if not self.practitioner_hours_suit:
                return NeverOffered(
                    f"the hours {name} works at {location} never hold {self._visit_when_it_suits}",
                    "Phone the patient to widen the days or times, or to choose another "
                    "practitioner.",
                )
            return None
        other_location = "Phone the patient to choose another location."
        if not self.anyone_has_hours_here:
            return NeverOffered(
                f"no practitioner has working hours at {location} (no weekly hours while it is "
                "open, and no extra hours ahead)",
                other_location,
            )
        if self.chosen_online and not self.anyone_certified_has_hours_here:
            return NeverOffered(
                f"no practitioner working at {location} is certified for dry needling, and a "
                "place the patient made online is offered certified practitioners only",
                other_location,
            )
        other_times = "Phone the patient to widen the days or times, or to choose another location."
        if not self.anyones_hours_suit:
            return NeverOffered(
                f"no practitioner has hours at {location} that ever hold {self._visit_when_it_suits}",
                other_times,
            )
        if self.chosen_online and not self.anyone_certifieds_hours_suit:
            return NeverOffered(
                f"no practitioner certified for dry needling has hours at {location} that ever "
                f"hold {self._visit_when_it_suits}, and a place the patient made online is "
                "offered certified practitioners only",
                other_times,
            )
        return None

    @property
    def _visit_when_it_suits(self) -> str:
        return (
            f"a {self.minutes}-minute visit on the days and between the times that suit the patient"
        )

    @property
    def weekday_names(self) -> str:
        """'Mon, Wed, Fri'."""
        return ", ".join(Weekday(day).label[:3] for day in sorted(self.weekdays))

    def matches(
        self,
        *,
        local_start: dt.datetime,
        local_end: dt.datetime,
        practitioner_id: int,
        service_id: int,
    ) -> bool:
        """Whether a time suits the place; a place for an earlier time than an appointment is
        suited only by times starting before it."""
        return (
            self.service_id == service_id
            and (self.replaces is None or local_start < self.replaces.starts_at)
            and local_start.weekday() in self.weekdays
            and self.earliest_time <= local_start.time()
            and local_end.time() <= self.latest_time
            and local_end.date() == local_start.date()
            and (self.practitioner_id is None or self.practitioner_id == practitioner_id)
        )


class WaitlistOffer(models.Model):
    """A freed slot offered to a waiting patient, held until the deadline."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn (slot taken)"

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    hold = models.OneToOneField(SlotHold, on_delete=models.CASCADE, related_name="offer")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    offered_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    offered_by = actor_field("Empty when offered automatically after a cancellation.")

    class Meta:
        ordering = ["-offered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"],
                condition=Q(state="open"),
                name="waitlist_one_open_offer_per_entry",
            )
        ]

    def __str__(self) -> str:
        return f"Offer to {self.entry.patient} until {self.expires_at:%Y-%m-%d %H:%M} UTC"
