"""Closing a patient's account: their future appointments are cancelled and they leave every
waitlist before the login goes.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from booking.models import (
    MOVABLE_STATUSES,
    Appointment,
    CancelledBy,
    Notification,
    SlotHold,
    WaitlistEntry,
)
from booking.notifications.outbox import FOLLOW_UP_KINDS, withdraw
from booking.services.appointments import cancel_appointment
from booking.services.waitlist import leave_waitlist
from clinic.models import Patient, User

# --- Closing a patient's account ---------------------------------------------------------------


@transaction.atomic
def close_patient_account(patient: Patient, *, actor: User, now: dt.datetime | None = None) -> None:
    """A patient closes their account: future appointments are cancelled, waitlist places and
    held times given up, and the login removed (see clinic.services.remove_login). The
    clinical record stays — questionnaires, consents, notes, appointment history and the
    access log — for as long as clinical-record retention requires."""
    from clinic.services import remove_login

    now = now or timezone.now()
    # First the patient's row, as a request or a waitlist place of theirs on its way from
    # another tab locks it: that one is made before and undone here, or refused after.
    closed_at = (
        Patient.objects.select_for_update(no_key=True)
        .values_list("account_closed_at", flat=True)
        .get(pk=patient.pk)
    )
    if closed_at is not None:
        return  # closed a moment ago (the form sent twice): it keeps its time
    upcoming = Appointment.objects.filter(
        patient=patient, status__in=MOVABLE_STATUSES, starts_at__gt=now
    )
    for appointment in upcoming:
        cancel_appointment(
            appointment,
            by=CancelledBy.PATIENT,
            actor=actor,
            reason="The patient closed their account",
            now=now,
        )
    for entry in WaitlistEntry.objects.filter(patient=patient).exclude(
        state=WaitlistEntry.State.WITHDRAWN
    ):
        leave_waitlist(entry)
    SlotHold.objects.filter(patient=patient, appointment__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    if patient.user_id:
        remove_login(patient.user)
    Patient.objects.filter(pk=patient.pk).update(account_closed_at=now)
    # Questionnaires and nudges already waiting go no further (the worker also skips any
    # written later, by a visit the desk completes today, say). What the closing itself
    # wrote, the cancellations, still tells the patient what became of their appointments.
    withdraw(
        Notification.objects.filter(patient=patient, kind__in=FOLLOW_UP_KINDS),
        "The patient closed their account.",
    )
