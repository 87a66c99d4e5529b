"""Addresses that do not work: a bounce recorded against the patient, so the address is not
tried again until it changes, and sending a message again once it is fixed.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from booking.models import (
    Notification,
    NotificationPreference,
)
from booking.notifications.outbox import NotificationError, State, preference
from clinic.models import Patient

# --- Addresses that do not work ---------------------------------------------------------------


def address_problem(patient: Patient, address: str) -> str:
    """Why a message to `address` cannot be sent ('' if it can): checked before each send,
    so a bad address fails at once instead of being retried."""
    if not address:
        return "No email address on file: please phone the patient."
    try:
        validate_email(address)
    except ValidationError:
        return f"The email address on file ({address}) is not a valid address."
    choice = preference(patient)
    if choice.bounced_email and choice.bounced_email.lower() == address.lower():
        # On the patient's clock (the server's is UTC, a day ahead every evening).
        when = choice.bounced_at.astimezone(patient.zone).date().isoformat()
        return (
            f"{address} was refused by the mail server on {when} ({choice.bounce_reason}). "
            "Correct the patient's email, then send again."
        )
    return ""


def record_bounce(address: str, *, reason: str, now: dt.datetime | None = None) -> int:
    """Remember that mail to `address` is refused, for every patient using it. Later
    messages to it fail at once, until the patient's address changes or staff send again."""
    now = now or timezone.now()
    patients = Patient.objects.filter(
        Q(email__iexact=address) | Q(email="", user__email__iexact=address)
    )
    count = 0
    for patient in patients:
        NotificationPreference.objects.update_or_create(
            patient=patient,
            defaults={
                "bounced_email": address,
                "bounced_at": now,
                "bounce_reason": reason[:300],
            },
        )
        count += 1
    return count


@transaction.atomic
def send_again(notification: Notification, *, now: dt.datetime | None = None) -> Notification:
    """Staff send a failed message again (after checking the address with the patient): the
    address is trusted again, and the attempts start from zero."""
    now = now or timezone.now()
    row = Notification.objects.select_for_update().select_related("patient").get(pk=notification.pk)
    if row.state != State.FAILED:
        raise NotificationError("Only a message that failed can be sent again.")
    NotificationPreference.objects.filter(patient=row.patient).update(
        bounced_email="", bounced_at=None, bounce_reason=""
    )
    row.state = State.PENDING
    row.attempts = 0
    row.send_after = now
    row.claimed_until = None
    row.claimed_by = ""
    row.last_error = ""
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise NotificationError(
            "A newer message of this kind is already waiting to be sent for this appointment."
        ) from None
    return row


def record_late_bounce(
    address: str, *, reason: str, now: dt.datetime | None = None
) -> Notification | None:
    """A bounce that came back after the message was handed over (a delivery-status email):
    remember the address as refused, and mark the last message sent to it in the past week
    as failed, so that staff see which message the patient missed. Returns that message."""
    now = now or timezone.now()
    record_bounce(address, reason=reason, now=now)
    last = (
        Notification.objects.filter(
            state=State.SENT, to_email__iexact=address, sent_at__gte=now - dt.timedelta(days=7)
        )
        .order_by("-sent_at", "-id")
        .first()
    )
    if last is not None:
        Notification.objects.filter(pk=last.pk).update(
            state=State.FAILED, last_error=f"Bounced after it was sent: {reason}"[:500]
        )
    return last
