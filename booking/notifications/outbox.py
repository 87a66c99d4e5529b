"""The outbox's vocabulary and its rows: the kinds of message, the worker's settings, who a
message goes to and what they asked for, adding and withdrawing rows, and what staff see of
an appointment's messages and of the ones that failed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from booking.models import (
    Appointment,
    Course,
    LocationReminderPolicy,
    Notification,
    NotificationPreference,
    WaitlistOffer,
)
from clinic.models import Location, Patient

Kind = Notification.Kind
State = Notification.State

# Rows that wait for a time before the appointment, and follow it when it moves.
SCHEDULED_KINDS = (Kind.REMINDER, Kind.INTAKE_MISSING)
# Messages the clinic sends unasked, not about a change the patient or the desk just made:
# they stop once the patient closes their account (booking.services.accounts).
FOLLOW_UP_KINDS = (Kind.OUTCOME_SURVEY, Kind.INTAKE_MISSING, Kind.WAITLIST_OFFER)
# Booked too late for the usual intake nudge: send it this long after booking instead...
INTAKE_NUDGE_DELAY = dt.timedelta(hours=1)
# ...unless that leaves less than this before the visit (the counter does it then).
INTAKE_NUDGE_MARGIN = dt.timedelta(hours=3)


class NotificationError(Exception):
    """A request about a message that cannot be met; `str()` says why, for staff."""


# --- Settings (read here so that clinic/settings.py needs none of them) ------------------------


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 8))


def retry_base() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "NOTIFICATIONS_RETRY_SECONDS", 60)))


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "NOTIFICATIONS_LEASE_SECONDS", 300)))


def retry_delay(attempts: int) -> dt.timedelta:
    """After the 1st, 2nd, 3rd… failed attempt: 1, 2, 4… times the base, at most 6 hours."""
    return min(retry_base() * 2 ** max(attempts - 1, 0), dt.timedelta(hours=6))


# --- Who, and what they asked for ---------------------------------------------------------------


def recipient(patient: Patient) -> str:
    """The patient's own email; the login's when the record has none."""
    email = patient.email or (patient.user.email if patient.user_id else "")
    return email.strip()


def reminder_policy(location: Location) -> LocationReminderPolicy:
    try:
        return location.reminder_policy
    except LocationReminderPolicy.DoesNotExist:
        return LocationReminderPolicy(location=location)


def preference(patient: Patient) -> NotificationPreference:
    """The patient's saved choices, or the defaults (reminders on) if they never chose."""
    found = NotificationPreference.objects.filter(patient=patient).first()
    return found or NotificationPreference(patient=patient)


def wants_reminders(patient: Patient) -> bool:
    return preference(patient).reminders


# --- Writing messages (called by booking.services inside their transaction) -------------------


def message(
    kind: str,
    *,
    patient: Patient,
    location: Location,
    now: dt.datetime,
    appointment: Appointment | None = None,
    course: Course | None = None,
    offer: WaitlistOffer | None = None,
    context: dict | None = None,
    send_after: dt.datetime | None = None,
    reminder_hours: int | None = None,
) -> Notification:
    """A message for the outbox, not saved yet (`enqueue` saves one; a caller writing several
    at once saves them in one statement)."""
    return Notification(
        kind=kind,
        patient=patient,
        location=location,
        appointment=appointment,
        course=course,
        offer=offer,
        context=context or {},
        send_after=send_after or now,
        reminder_hours=reminder_hours,
        to_email=recipient(patient),
        created_at=now,
    )


def message_about(appointment: Appointment, kind: str, now: dt.datetime, **fields) -> Notification:
    return message(
        kind,
        patient=appointment.patient,
        location=appointment.location,
        appointment=appointment,
        now=now,
        **fields,
    )


def enqueue(kind: str, **fields) -> Notification:
    written = message(kind, **fields)
    written.save(force_insert=True)
    return written


def enqueue_about(appointment: Appointment, kind: str, now: dt.datetime, **fields) -> Notification:
    written = message_about(appointment, kind, now, **fields)
    written.save(force_insert=True)
    return written


def withdraw(rows: QuerySet[Notification], reason: str) -> int:
    """Mark waiting messages as no longer needed (a worker sending one right now still
    records it as sent)."""
    return rows.filter(state=State.PENDING).update(
        state=State.SKIPPED, last_error=reason[:500], claimed_until=None
    )


# --- What staff see ---------------------------------------------------------------------------------


def history(appointment: Appointment) -> list[Notification]:
    """Every row about the appointment (and its course), oldest first."""
    about = Q(appointment=appointment)
    if appointment.course_id:
        about |= Q(course_id=appointment.course_id)
    return list(Notification.objects.filter(about).order_by("created_at", "id"))


@dataclass
class Email:
    """One email as the patient would count it, and the rows the outbox kept of it: a reminder
    re-planned after a move, a 'moved' message replaced by a newer one before it went, a
    message sent again are one email whose latest row says where it stands."""

    rows: list[Notification] = field(default_factory=list)  # oldest first

    @property
    def latest(self) -> Notification:
        return self.rows[-1]

    @property
    def earlier(self) -> list[Notification]:
        return self.rows[:-1]


def _same_email(row: Notification) -> tuple:
    return (
        row.kind,
        row.appointment_id,
        row.course_id if row.appointment_id is None else None,
        row.reminder_hours,
        row.context.get("checkin"),
    )


def emails(appointment: Appointment) -> list[Email]:
    """The appointment's emails (and its course's), one each, in the order they were first
    written. A row joins the email of the same kind (and lead time, and questionnaire) until
    that one is sent; after that it is a new email (a reminder for the new time after the
    old one went out, a second move)."""
    found: list[Email] = []
    open_emails: dict[tuple, Email] = {}
    for row in history(appointment):
        key = _same_email(row)
        email = open_emails.get(key)
        if email is None or email.latest.state == State.SENT:
            email = open_emails[key] = Email()
            found.append(email)
        email.rows.append(row)
    return found


def failures(locations: QuerySet[Location] | None) -> QuerySet[Notification]:
    """Messages that could not be sent, at `locations` (None: everywhere), newest first."""
    rows = Notification.objects.filter(state=State.FAILED)
    if locations is not None:
        rows = rows.filter(location__in=locations)
    return rows.select_related("patient", "location", "appointment__service").order_by(
        "-created_at", "-id"
    )
