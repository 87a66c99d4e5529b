"""Webhook endpoints (where another system wants to hear about changes) and their deliveries
(one signed POST of one event to one endpoint, with its attempts).

The database keeps the rules: an endpoint listens to at least one known event, a disabled
endpoint says since when, and a delivery's event, message id and payload never change once
written (a trigger in `0002_delivery_is_immutable` refuses it), so the log shows what was sent.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.models import Location, User


class Event(models.TextChoices):
    """What an endpoint may listen to. The names follow the Standard Webhooks habit of
    `thing.happened`; receivers match on them, so they never change once released."""

    APPOINTMENT_REQUESTED = "appointment.requested", "Appointment requested"
    APPOINTMENT_CONFIRMED = "appointment.confirmed", "Appointment confirmed"
    APPOINTMENT_MOVED = "appointment.moved", "Appointment moved"
    APPOINTMENT_CANCELLED = "appointment.cancelled", "Appointment cancelled"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in", "Patient checked in"
    APPOINTMENT_COMPLETED = "appointment.completed", "Appointment completed"
    APPOINTMENT_NO_SHOW = "appointment.no_show", "Patient did not come (no-show)"
    QUESTIONNAIRE_SUBMITTED = "questionnaire.submitted", "Intake questionnaire submitted"
    COURSE_BOOKED = "course.booked", "Course of sessions booked"


class Endpoint(models.Model):
    """A receiver registered by a manager. The signing secret is kept as it is (it signs every
    delivery), shown to the manager once, when made or rotated. After a rotation the previous
    secret signs too until `previous_secret_until`, so the receiver can switch without a gap."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    events = ArrayField(models.CharField(max_length=40, choices=Event.choices))
    # No location chosen: every location (and events of no location, such as a questionnaire
    # submitted without a preferred location).
    locations = models.ManyToManyField(Location, blank=True, related_name="+")
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failed attempt since the last success; a day of it disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    # Disabled by the worker and the managers not emailed yet: the worker sends the email
    # (the flag is set in the transaction that disables, so the email cannot be lost).
    tell_managers = models.BooleanField(default=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(events__len__gte=1), name="webhook_endpoint_listens_to_something"
            ),
            models.CheckConstraint(
                condition=Q(events__contained_by=Event.values),
                name="webhook_endpoint_events_are_known",
            ),
            models.CheckConstraint(
                condition=Q(is_enabled=True) | Q(disabled_at__isnull=False),
                name="webhook_endpoint_disabled_has_a_time",
            ),
            models.CheckConstraint(
                condition=Q(tell_managers=False) | Q(is_enabled=False),
                name="webhook_endpoint_managers_told_of_a_disabling",
            ),
            models.CheckConstraint(
                condition=Q(secret__startswith="whsec_"),
                name="webhook_endpoint_secret_is_whsec",
            ),
            models.CheckConstraint(
                condition=Q(previous_secret="") | Q(previous_secret_until__isnull=False),
                name="webhook_endpoint_previous_secret_has_an_end",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def signing_secrets(self, at) -> list[str]:
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_until and at < self.previous_secret_until:
            secrets.append(self.previous_secret)
        return secrets


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class Delivery(models.Model):
    """One event for one endpoint. Written in the same transaction as the change it tells of;
    `python manage.py send_notifications` claims due rows (FOR UPDATE SKIP LOCKED, then a
    lease), posts them and records the outcome. A redelivery is a new row with the same
    message id (receivers use `webhook-id` to drop duplicates)."""

    Status = DeliveryStatus

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=Event.choices)
    message_id = models.CharField(max_length=40, db_index=True)
    # Event, time, resource reference and location only: never health information.
    payload = models.JSONField()
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    last_response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's queue: due rows waiting to be sent.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status="pending"),
                name="webhook_delivery_queue",
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(event__in=Event.values), name="webhook_delivery_event_is_known"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_is_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="webhook_delivery_delivered_has_a_time",
            ),
            models.CheckConstraint(
                condition=Q(message_id__startswith="msg_"),
                name="webhook_delivery_message_id_is_msg",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.endpoint} ({self.get_status_display().lower()})"
