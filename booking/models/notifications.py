"""What the outbox needs in the database: each location's reminder policy, each patient's
choices, the messages themselves, and the practitioners' calendar feeds (written and sent by
`booking.notifications`).
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.validators import ArrayMaxLengthValidator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone

from booking.models.appointments import Appointment, Course
from booking.models.waitlist import WaitlistOffer
from clinic.models import Location, Patient, Practitioner

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
    # A payment's receipt, listing its invoice (booking.billing.receipts).
    RECEIPT = "receipt", "Receipt"


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
