"""Scheduled messages that follow their appointment (the reminder and the intake nudge):
created when it is confirmed, moved with it, withdrawn when it is cancelled or the patient
turns reminders off.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from booking.models import (
    MOVABLE_STATUSES,
    Appointment,
    LocationReminderPolicy,
    Notification,
    NotificationPreference,
    Status,
)
from booking.notifications.outbox import (
    INTAKE_NUDGE_DELAY,
    INTAKE_NUDGE_MARGIN,
    SCHEDULED_KINDS,
    Kind,
    State,
    message_about,
    reminder_policy,
    wants_reminders,
    withdraw,
)
from clinic.models import Location, Patient, ServiceKind

# --- Scheduled messages that follow their appointment ---------------------------------------------


def _wanted(
    appointment: Appointment,
    now: dt.datetime,
    policy: LocationReminderPolicy,
    reminders: bool | None = None,
) -> dict[tuple[str, int | None], dt.datetime]:
    """The scheduled messages the appointment should have now, and when each is due.

    `reminders`: whether the patient wants reminders, when the caller has read it already."""
    wanted: dict[tuple[str, int | None], dt.datetime] = {}
    # "24 hours before" is 24 real hours, also across the night the clocks change (arithmetic on
    # a time given on the location's clock would count wall-clock hours).
    starts_at = appointment.starts_at.astimezone(dt.UTC)
    if starts_at <= now:
        return wanted
    if appointment.status == Status.CONFIRMED and (
        wants_reminders(appointment.patient) if reminders is None else reminders
    ):
        for hours in policy.hours:
            wanted[(Kind.REMINDER, hours)] = starts_at - dt.timedelta(hours=hours)
    if (
        appointment.service.kind == ServiceKind.ASSESSMENT
        and appointment.status in MOVABLE_STATUSES
    ):
        at = starts_at - dt.timedelta(hours=policy.intake_reminder_hours)
        if at <= now:
            at = now + INTAKE_NUDGE_DELAY
        if at <= starts_at - INTAKE_NUDGE_MARGIN:
            wanted[(Kind.INTAKE_MISSING, None)] = at
    return wanted


def start_as_scheduled(appointment: Appointment) -> str:
    """The appointment's start as the scheduled messages remember it: always in UTC, so that a
    start given on the location's clock (same instant, other offset) is not taken for a move."""
    return appointment.starts_at.astimezone(dt.UTC).isoformat()


def _why_withdrawn(appointment: Appointment, row: Notification, scheduled_for: str) -> str:
    if appointment.status not in MOVABLE_STATUSES:
        return f"The appointment is {appointment.get_status_display().lower()}."
    if row.context.get("starts_at") != scheduled_for:
        return "The appointment moved; the message follows it to the new time."
    if row.kind == Kind.REMINDER and not wants_reminders(appointment.patient):
        return "The patient turned reminders off."
    return "The location's reminder times changed."


def schedule(
    appointment: Appointment,
    *,
    now: dt.datetime,
    policy: LocationReminderPolicy | None = None,
) -> None:
    """Make the appointment's waiting reminders and intake nudge match it as it is now.

    Rows already right are left alone (so calling this again changes nothing); the others
    are withdrawn, and the missing ones created if their time is still ahead."""
    policy = policy or reminder_policy(appointment.location)
    wanted = _wanted(appointment, now, policy)
    scheduled_for = start_as_scheduled(appointment)
    waiting = appointment.notifications.select_for_update().filter(
        state=State.PENDING, kind__in=SCHEDULED_KINDS
    )
    for row in waiting:
        key = (row.kind, row.reminder_hours)
        if key in wanted and row.context.get("starts_at") == scheduled_for:
            del wanted[key]
            continue
        withdraw(
            Notification.objects.filter(pk=row.pk),
            _why_withdrawn(appointment, row, scheduled_for),
        )
    Notification.objects.bulk_create(_messages(appointment, wanted, now))


def _messages(
    appointment: Appointment, wanted: dict[tuple[str, int | None], dt.datetime], now: dt.datetime
) -> list[Notification]:
    """The `wanted` messages whose time is still ahead, unsaved, soonest first."""
    scheduled_for = start_as_scheduled(appointment)
    return [
        message_about(
            appointment,
            kind,
            now,
            send_after=at,
            reminder_hours=hours,
            context={"starts_at": scheduled_for},
        )
        for (kind, hours), at in sorted(wanted.items(), key=lambda item: item[1])
        if at > now
    ]


def schedule_new(appointments: list[Appointment], *, now: dt.datetime) -> list[Notification]:
    """The scheduled messages of appointments written in this transaction, which nothing can
    be waiting for yet: what `schedule` would create for each, unsaved, for the caller to write
    in one statement. Each location's policy and the patient's choice are read once, not once
    an appointment (a course's six sessions would read them six times each)."""
    policies: dict[int, LocationReminderPolicy] = {}
    choices: dict[int, bool] = {}
    messages = []
    for appointment in appointments:
        if appointment.location_id not in policies:
            policies[appointment.location_id] = reminder_policy(appointment.location)
        if appointment.patient_id not in choices:
            choices[appointment.patient_id] = wants_reminders(appointment.patient)
        wanted = _wanted(
            appointment, now, policies[appointment.location_id], choices[appointment.patient_id]
        )
        messages += _messages(appointment, wanted, now)
    return messages


def _upcoming(**filters) -> QuerySet[Appointment]:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .filter(status__in=MOVABLE_STATUSES, **filters)
        .select_related("location", "service", "patient__user")
        .order_by("starts_at")
    )


@transaction.atomic
def set_reminders(
    patient: Patient, *, wanted: bool, now: dt.datetime | None = None
) -> NotificationPreference:
    """The patient's choice about reminders, applied to the appointments they already have."""
    now = now or timezone.now()
    choice, _ = NotificationPreference.objects.select_for_update().get_or_create(patient=patient)
    choice.reminders = wanted
    choice.save(update_fields=["reminders", "updated_at"])
    for appointment in _upcoming(patient=patient, starts_at__gt=now):
        schedule(appointment, now=now)
    return choice


@transaction.atomic
def reminder_policy_changed(location: Location, *, now: dt.datetime | None = None) -> int:
    """Re-plan the waiting reminders of a location's upcoming appointments after its policy
    changed. Returns how many appointments were looked at."""
    now = now or timezone.now()
    policy = reminder_policy(location)
    appointments = list(_upcoming(location=location, starts_at__gt=now))
    for appointment in appointments:
        schedule(appointment, now=now, policy=policy)
    return len(appointments)
