"""Rooms, appointments and their history, courses, holds and the waitlist.

No two active appointments may overlap for one practitioner, one room or one patient:
PostgreSQL guarantees it with exclusion constraints, and a trigger (see the migration
`0002_travel_time_trigger`) keeps a practitioner's travel time between locations.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, DateTimeRangeField, RangeOperators
from django.contrib.postgres.validators import ArrayMaxLengthValidator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q
from django.utils import timezone

from clinic.models import Location, Patient, Practitioner, Service, User, Weekday


class TsTzRange(Func):
    """`tstzrange(start, end)`, half-open: back-to-back appointments do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class Room(models.Model):
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_name_unique_per_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class Status(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


# The only status changes there are. Anything else is refused by `booking.services`.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.REQUESTED: frozenset({Status.CONFIRMED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.CHECKED_IN, Status.CANCELLED, Status.NO_SHOW}),
    Status.CHECKED_IN: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.NO_SHOW: frozenset(),
}

# Appointments that occupy their time (cancelled ones and no-shows free it).
ACTIVE_STATUSES = (Status.REQUESTED, Status.CONFIRMED, Status.CHECKED_IN, Status.COMPLETED)
ACTIVE = Q(status__in=ACTIVE_STATUSES)
# Appointments whose time and people may still be changed.
MOVABLE_STATUSES = (Status.REQUESTED, Status.CONFIRMED)


class CancelledBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    CLINIC = "clinic", "Clinic"


class Course(models.Model):
    """A prescribed course of dry-needling sessions, booked all at once from a signed assessment."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="courses")
    practitioner = models.ForeignKey(
        Practitioner,
        on_delete=models.PROTECT,
        related_name="courses",
        help_text="The practitioner who prescribed the course.",
    )
    assessment_id = models.BigIntegerField(
        help_text="The signed assessment note (intake) that prescribed the course."
    )
    sessions_planned = models.PositiveSmallIntegerField()
    minutes = models.PositiveSmallIntegerField()
    interval_days = models.PositiveSmallIntegerField(default=7)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(sessions_planned__gte=4, sessions_planned__lte=6),
                name="course_has_4_to_6_sessions",
            ),
            models.CheckConstraint(
                condition=Q(minutes__in=[15, 20, 30]), name="course_session_length_15_20_or_30"
            ),
            models.CheckConstraint(
                condition=Q(interval_days__gte=1, interval_days__lte=28),
                name="course_interval_1_to_28_days",
            ),
            # One assessment's plan yields one course: another course needs a re-assessment.
            # (Courses are never cancelled as a whole; their sessions are.) Two bookings at the
            # same moment are also serialised by a row lock in `services.book_course`.
            models.UniqueConstraint(fields=["assessment_id"], name="course_one_per_assessment"),
            # What the composite foreign keys naming a course *and its patient* refer to (see
            # migration 0010_record_integrity_across_patients).
            models.UniqueConstraint(fields=["id", "patient"], name="course_id_with_patient"),
        ]

    def __str__(self) -> str:
        return f"Dry-needling course of {self.sessions_planned} for {self.patient}"


class Appointment(models.Model):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocks_until = models.DateTimeField(
        help_text="The end plus the location's buffer: the practitioner and room are busy until then."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # Cancellation details (also in the history), kept here for the lists that show them.
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancellation_reason = models.CharField(max_length=300, blank=True)
    late_cancellation = models.BooleanField(default=False)
    proposed_by_clinic = models.BooleanField(
        default=False,
        db_default=False,  # so that rows written outside Django get it too
        help_text="The clinic proposed this time instead of the one the patient asked for; "
        "the request waits for the patient to accept it.",
    )
    patient_note = models.CharField(
        "note from the patient",
        max_length=500,
        blank=True,
        help_text="What the patient wrote when requesting the appointment.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Bumped by every change, so a form that was opened on an older state is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["practitioner", "starts_at"], name="appt_practitioner_start"),
            models.Index(fields=["location", "starts_at"], name="appt_location_start"),
            models.Index(fields=["patient", "starts_at"], name="appt_patient_start"),
            models.Index(fields=["room", "starts_at"], name="appt_room_start"),
            models.Index(
                fields=["created_at"], condition=Q(status="requested"), name="appt_requests_queue"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=F("ends_at")), name="appointment_starts_before_it_ends"
            ),
            models.CheckConstraint(
                condition=Q(blocks_until__gte=F("ends_at")),
                name="appointment_blocks_at_least_until_its_end",
            ),
            # Bounded length lets a window's appointments be found from an index on the start.
            models.CheckConstraint(
                condition=Q(blocks_until__lte=F("starts_at") + dt.timedelta(hours=12)),
                name="appointment_blocks_under_12_hours",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="appointment_status_is_known"
            ),
            models.CheckConstraint(
                # session_number IS NOT NULL spelt out: a NULL comparison would pass a CHECK.
                condition=Q(course__isnull=True, session_number__isnull=True)
                | Q(
                    course__isnull=False,
                    session_number__isnull=False,
                    session_number__gte=1,
                    session_number__lte=6,
                ),
                name="appointment_course_sessions_numbered_1_to_6",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | ~Q(cancelled_by=""),
                name="appointment_cancellation_says_by_whom",
            ),
            # One active appointment per session number of a course: moving or cancelling a
            # session keeps the numbering of the others.
            models.UniqueConstraint(
                fields=["course", "session_number"],
                condition=ACTIVE,
                name="appointment_one_active_per_course_session",
            ),
            # What the composite foreign keys naming an appointment *and its patient* refer to
            # (notes, check-ins, emails, holds: migration 0010_record_integrity_across_patients).
            models.UniqueConstraint(fields=["id", "patient"], name="appointment_id_with_patient"),
            ExclusionConstraint(
                name="appointment_no_overlap_per_practitioner",
                expressions=[
                    (TsTzRange("starts_at", "blocks_until"), RangeOperators.OVERLAPS),
                    ("practitioner", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
            ExclusionConstraint(
                name="appointment_no_overlap_per_room",
                expressions=[
                    (TsTzRange("starts_at", "blocks_until"), RangeOperators.OVERLAPS),
                    ("room", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
            ExclusionConstraint(
                name="appointment_no_overlap_per_patient",
                expressions=[
                    (TsTzRange("starts_at", "ends_at"), RangeOperators.OVERLAPS),
                    ("patient", RangeOperators.EQUAL),
                ],
                condition=ACTIVE,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.patient} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    # --- Reading the appointment ------------------------------------------------------------

    @property
    def local_starts_at(self) -> dt.datetime:
        return self.starts_at.astimezone(self.location.zone)

    @property
    def local_ends_at(self) -> dt.datetime:
        return self.ends_at.astimezone(self.location.zone)

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_movable(self) -> bool:
        return self.status in MOVABLE_STATUSES

    @property
    def session_label(self) -> str:
        """'DN 3/6' for a course session, '' otherwise."""
        if self.course_id and self.session_number:
            return f"DN {self.session_number}/{self.course.sessions_planned}"
        return ""

    @property
    def is_waiting_for_patient(self) -> bool:
        """A request the clinic answered with another time, not yet accepted by the patient."""
        return self.status == Status.REQUESTED and self.proposed_by_clinic

    def can_change_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    def cancellation_deadline(self) -> dt.datetime:
        return self.starts_at - dt.timedelta(hours=self.location.cancellation_notice_hours)

    def is_late_cancellation(self, at: dt.datetime) -> bool:
        return at > self.cancellation_deadline()

    def patient_may_change_online(self, at: dt.datetime | None = None) -> bool:
        """Whether the patient may cancel or move it themselves (before the location's notice)."""
        at = at or timezone.now()
        return self.status in MOVABLE_STATUSES and not self.is_late_cancellation(at)


class AppointmentEvent(models.Model):
    """One line of an appointment's history: who did what, when and why."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        MOVED = "moved", "Moved"

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    late = models.BooleanField(null=True, help_text="For cancellations: inside the notice period?")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.to_status}"


# No appointment (with its buffer) lasts longer than this: see the check constraint above.
LONGEST_APPOINTMENT = dt.timedelta(hours=12)


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
    minutes = models.PositiveSmallIntegerField()
    weekdays = ArrayField(models.PositiveSmallIntegerField(), help_text="0 = Monday … 6 = Sunday")
    earliest_time = models.TimeField(help_text="Local time at the location.")
    latest_time = models.TimeField(help_text="Latest end, local time at the location.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

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
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting at {self.location}"

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
        return (
            self.service_id == service_id
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
    offered_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when offered automatically after a cancellation.",
    )

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


# --- Notifications: reminder policy, patients' choices, the outbox, practitioners' feeds -------
# (booking/notifications/ writes and sends these)


class EveryElement(Func):
    """`bound <op> ALL(array)`: true when every element of an array compares so with `bound`
    (written with the bound first: `1 <= ALL(hours)` reads "every hour is at least 1").
    Migration 0005 refers to this class by name."""

    template = "(%(bound)s %(op)s ALL(%(expressions)s::integer[]))"
    output_field = models.BooleanField()

    def __init__(self, expression, op: str, bound: int):
        if op not in {"<=", ">="}:
            raise ValueError(f"Unsupported comparison {op!r}.")
        super().__init__(expression, op=op, bound=int(bound))


def default_reminder_hours() -> list[int]:
    return [48, 24]


class LocationReminderPolicy(models.Model):
    """When a location reminds its patients. Locations without a row use the defaults."""

    location = models.OneToOneField(
        Location, on_delete=models.CASCADE, related_name="reminder_policy"
    )
    hours = ArrayField(
        models.PositiveSmallIntegerField(
            validators=[MinValueValidator(1), MaxValueValidator(24 * 14)]
        ),
        default=default_reminder_hours,
        blank=True,
        validators=[ArrayMaxLengthValidator(4)],
        help_text="Hours before the appointment to send a reminder, e.g. 48, 24. "
        "Leave empty for no reminders.",
    )
    intake_reminder_hours = models.PositiveSmallIntegerField(
        "chase a missing intake questionnaire (hours before an assessment)",
        default=72,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
    )

    class Meta:
        verbose_name = "reminder policy"
        verbose_name_plural = "reminder policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__len__lte=4), name="reminder_policy_at_most_4_reminders"
            ),
            # Every lead time between 1 hour and 14 days.
            models.CheckConstraint(
                condition=EveryElement("hours", "<=", 1), name="reminder_policy_hours_at_least_1"
            ),
            models.CheckConstraint(
                condition=EveryElement("hours", ">=", 24 * 14),
                name="reminder_policy_hours_at_most_336",
            ),
            models.CheckConstraint(
                condition=Q(intake_reminder_hours__gte=1, intake_reminder_hours__lte=24 * 14),
                name="reminder_policy_intake_hours_1_to_336",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminders at {self.location}: {', '.join(map(str, self.hours)) or 'none'} h"

    def save(self, *args, **kwargs) -> None:
        self.hours = sorted(set(self.hours or []), reverse=True)
        super().save(*args, **kwargs)


class NotificationPreference(models.Model):
    """A patient's choice about optional emails, and what the clinic learnt about their address.

    Confirmations and changes are always sent; reminders only if the patient wants them."""

    patient = models.OneToOneField(
        Patient, on_delete=models.CASCADE, related_name="notification_preference"
    )
    reminders = models.BooleanField("email me reminders before my appointments", default=True)
    # An address the mail server refused: later messages to it fail at once (no retries)
    # until the patient's email changes.
    bounced_email = models.EmailField(blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    bounce_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(bounced_email="") | Q(bounced_at__isnull=False),
                name="notification_preference_bounce_has_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient}: reminders {'on' if self.reminders else 'off'}"


class NotificationKind(models.TextChoices):
    REQUEST_RECEIVED = "request_received", "Request received"
    CONFIRMED = "confirmed", "Confirmation"
    REMINDER = "reminder", "Reminder"
    RESCHEDULED = "rescheduled", "Moved"
    CANCELLED = "cancelled", "Cancellation"
    DECLINED = "declined", "Request declined"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"
    COURSE_BOOKED = "course_booked", "Course booked"
    INTAKE_MISSING = "intake_missing", "Intake still missing"
    AFTER_CARE = "after_care", "After-care note"
    # Sent with the course's last session: end of the course, 4 and 12 weeks later
    # (context["checkin"] names which; see booking.notifications.schedule_outcome_surveys).
    OUTCOME_SURVEY = "outcome_survey", "How are you doing (course questionnaire)"


class NotificationState(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not sent (no longer needed)"


class Notification(models.Model):
    """One email in the outbox. Services write rows in the same transaction as the change they
    announce; `python manage.py send_notifications` claims due rows (FOR UPDATE SKIP LOCKED,
    then a lease), sends them and records the outcome."""

    Kind = NotificationKind
    State = NotificationState

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="notifications")
    appointment = models.ForeignKey(
        Appointment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    offer = models.ForeignKey(
        WaitlistOffer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    reminder_hours = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For reminders: how many hours before the appointment."
    )
    # What the message must say that the rows may no longer tell: the time before a move,
    # the appointment's time a reminder was scheduled for.
    context = models.JSONField(default=dict, blank=True)
    send_after = models.DateTimeField(default=timezone.now)
    to_email = models.EmailField(blank=True, help_text="The address it was (last) sent to.")
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is sending it; others leave it until then."
    )
    claimed_by = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["send_after", "id"]
        indexes = [
            # The worker's queue: due rows waiting to be sent.
            models.Index(
                fields=["send_after", "id"],
                condition=Q(state="pending"),
                name="notification_queue",
            ),
            models.Index(
                fields=["location", "-created_at"],
                condition=Q(state="failed"),
                name="notification_failures",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=NotificationKind.values), name="notification_kind_is_known"
            ),
            models.CheckConstraint(
                condition=Q(state__in=NotificationState.values), name="notification_state_is_known"
            ),
            models.CheckConstraint(
                condition=~Q(state="sent") | Q(sent_at__isnull=False),
                name="notification_sent_has_a_time",
            ),
            models.CheckConstraint(
                condition=~Q(kind="reminder")
                | Q(reminder_hours__isnull=False, appointment__isnull=False),
                name="notification_reminder_has_appointment_and_hours",
            ),
            models.CheckConstraint(
                condition=Q(appointment__isnull=False)
                | Q(course__isnull=False)
                | Q(offer__isnull=False),
                name="notification_is_about_something",
            ),
            # However often an appointment is moved, one waiting reminder per lead time...
            models.UniqueConstraint(
                fields=["appointment", "reminder_hours"],
                condition=Q(state="pending", kind="reminder"),
                name="notification_one_pending_reminder_per_lead_time",
            ),
            # ...and one waiting nudge about the intake questionnaire.
            models.UniqueConstraint(
                fields=["appointment"],
                condition=Q(state="pending", kind="intake_missing"),
                name="notification_one_pending_intake_nudge",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.patient} ({self.get_state_display().lower()})"


class CalendarFeed(models.Model):
    """A practitioner's private iCalendar feed. Only a hash of the secret in its address is
    kept, so the address is shown once, when made; making a new one retires the old."""

    practitioner = models.OneToOneField(
        Practitioner, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.practitioner}"
