"""Emails to patients, through an outbox in PostgreSQL.

Writing: the booking services call the functions of the first part inside their own
transaction, so a message exists exactly when the change it announces was committed (a
rolled-back booking leaves no message). Reminders and the intake nudge are rows scheduled
for later, made to follow their appointment by `schedule()`: created when it is confirmed,
moved with it, withdrawn when it is cancelled or the patient turns reminders off.

Sending: `send_due()` (run by `python manage.py send_notifications`) claims due rows with
`SELECT … FOR UPDATE SKIP LOCKED` and marks them with a lease, then sends them outside the
transaction. Workers on any number of servers therefore never pick the same row, and a
worker killed mid-send leaves a row that another claims once the lease has run out (so a
message is sent at most one more time, with the same Message-ID, which mail clients use to
drop the duplicate). Failures are retried with exponential back-off and given up after
`NOTIFICATIONS_MAX_ATTEMPTS`; an address the mail server refuses is recorded against the
patient and not tried again until it changes. Messages are rendered when sent, from
subject / text / HTML templates in `templates/emails/`, in the location's voice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import smtplib
import socket
import zoneinfo
from dataclasses import dataclass
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import SafeMIMEText
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from booking import calendars, gates, links
from booking.models import (
    ACTIVE_STATUSES,
    MOVABLE_STATUSES,
    Appointment,
    CancelledBy,
    Course,
    LocationReminderPolicy,
    Notification,
    NotificationPreference,
    Status,
    WaitlistOffer,
)
from clinic.models import Location, Patient, ServiceKind

log = logging.getLogger(__name__)

Kind = Notification.Kind
State = Notification.State

# Rows that wait for a time before the appointment, and follow it when it moves.
SCHEDULED_KINDS = (Kind.REMINDER, Kind.INTAKE_MISSING)
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


def _enqueue(
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
    return Notification.objects.create(
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


def _about(appointment: Appointment, kind: str, now: dt.datetime, **fields) -> Notification:
    return _enqueue(
        kind,
        patient=appointment.patient,
        location=appointment.location,
        appointment=appointment,
        now=now,
        **fields,
    )


def _withdraw(rows: QuerySet[Notification], reason: str) -> int:
    """Mark waiting messages as no longer needed (a worker sending one right now still
    records it as sent)."""
    return rows.filter(state=State.PENDING).update(
        state=State.SKIPPED, last_error=reason[:500], claimed_until=None
    )


def appointment_created(appointment: Appointment, *, now: dt.datetime) -> None:
    """A new appointment: 'request received' while the front desk has to confirm it, the
    confirmation (with the invite) when it is confirmed straight away."""
    if appointment.status == Status.CONFIRMED:
        _about(appointment, Kind.CONFIRMED, now)
    elif appointment.status == Status.REQUESTED:
        _about(appointment, Kind.REQUEST_RECEIVED, now)
    schedule(appointment, now=now)


def status_changed(appointment: Appointment, *, previous: str, now: dt.datetime) -> None:
    if appointment.status == Status.CONFIRMED and previous == Status.REQUESTED:
        _about(appointment, Kind.CONFIRMED, now)
    elif (
        appointment.status == Status.COMPLETED
        and appointment.service.kind == ServiceKind.DRY_NEEDLING
    ):
        _about(appointment, Kind.AFTER_CARE, now)
    schedule(appointment, now=now)
    if appointment.status in (Status.COMPLETED, Status.NO_SHOW):
        schedule_outcome_surveys(appointment.course_id, now=now)


def appointment_cancelled(appointment: Appointment, *, previous: str, now: dt.datetime) -> None:
    """Cancelled by the patient or the clinic; a request the clinic cancels is declined."""
    _withdraw(
        appointment.notifications.filter(
            kind__in=[Kind.REQUEST_RECEIVED, Kind.CONFIRMED, Kind.RESCHEDULED]
        ),
        "The appointment was cancelled before this was sent.",
    )
    declined = previous == Status.REQUESTED and appointment.cancelled_by == CancelledBy.CLINIC
    _about(
        appointment,
        Kind.DECLINED if declined else Kind.CANCELLED,
        now,
        context={"was_confirmed": previous != Status.REQUESTED},
    )
    schedule(appointment, now=now)
    schedule_outcome_surveys(appointment.course_id, now=now)


def appointment_moved(
    appointment: Appointment,
    *,
    from_starts_at: dt.datetime,
    from_location: Location,
    from_practitioner: str,
    now: dt.datetime,
    proposal: str = "",
) -> None:
    """`proposal`: the clinic's message when it answers a request with another time (the
    patient is asked to accept it rather than told it moved)."""
    context = {
        "from_starts_at": from_starts_at.astimezone(dt.UTC).isoformat(),
        "from_location_id": from_location.pk,
        "from_location": from_location.name,
        "from_time_zone": from_location.time_zone,
        "from_practitioner": from_practitioner,
    }
    # Moved again before the first message went out: one message, from the time the
    # patient last heard about to the new one.
    waiting = appointment.notifications.filter(state=State.PENDING, kind=Kind.RESCHEDULED)
    earlier = waiting.order_by("created_at", "id").first()
    if earlier is not None:
        context = earlier.context
        _withdraw(waiting, "Replaced by a newer message about the same appointment.")
    context = {key: value for key, value in context.items() if key != "proposal"}
    if proposal:
        context["proposal"] = proposal
    _about(appointment, Kind.RESCHEDULED, now, context=context)
    schedule(appointment, now=now)


def course_booked(course: Course, *, now: dt.datetime) -> None:
    """One message listing every session (each with its invite), and each session's reminders."""
    sessions = list(
        course.appointments.select_related("location", "service", "patient").order_by(
            "session_number"
        )
    )
    _enqueue(
        Kind.COURSE_BOOKED,
        patient=course.patient,
        location=sessions[0].location,
        course=course,
        now=now,
    )
    for appointment in sessions:
        schedule(appointment, now=now)


def slot_offered(offer: WaitlistOffer, *, now: dt.datetime) -> None:
    _enqueue(
        Kind.WAITLIST_OFFER,
        patient=offer.entry.patient,
        location=offer.hold.location,
        offer=offer,
        now=now,
    )


def offer_ended(offer: WaitlistOffer) -> None:
    _withdraw(offer.notifications.all(), "The offer ended before this was sent.")


# --- The course questionnaires: end of course, 4 and 12 weeks after ---------------------------------

# When each questionnaire's invitation goes, after the course's last attended session.
OUTCOME_SURVEYS = (
    ("end_of_course", dt.timedelta(days=1)),
    ("follow_up_4", dt.timedelta(weeks=4)),
    ("follow_up_12", dt.timedelta(weeks=12)),
)


def schedule_outcome_surveys(course_id: int | None, *, now: dt.datetime) -> list[Notification]:
    """Once a course is over (no session left booked, at least one attended), invite the
    patient to the end-of-course questionnaire the day after the last session and to the
    follow-ups 4 and 12 weeks after it: scheduled rows, each written once per course."""
    if course_id is None:
        return []
    course = Course.objects.select_for_update().select_related("patient").get(pk=course_id)
    sessions = list(course.appointments.select_related("location"))
    if any(s.status in (*MOVABLE_STATUSES, Status.CHECKED_IN) for s in sessions):
        return []
    attended = [s for s in sessions if s.status == Status.COMPLETED]
    if not attended:
        return []
    last = max(attended, key=lambda s: s.ends_at)
    written = set(
        course.notifications.filter(kind=Kind.OUTCOME_SURVEY)
        .exclude(state=State.SKIPPED)
        .values_list("context__checkin", flat=True)
    )
    rows = []
    for checkin, delay in OUTCOME_SURVEYS:
        if checkin in written:
            continue
        rows.append(
            _enqueue(
                Kind.OUTCOME_SURVEY,
                patient=course.patient,
                location=last.location,
                appointment=last,
                course=course,
                now=now,
                send_after=max(last.ends_at + delay, now),
                context={"checkin": checkin},
            )
        )
    return rows


def outcome_survey_not_needed(notification: Notification, *, now: dt.datetime) -> str:
    """Why a course questionnaire's invitation should not go ('' if it should)."""
    from intake.clinical.selectors import current_answer, visits

    checkin = notification.context.get("checkin", "")
    if links.checkin_path(notification.appointment, checkin, now=now) is None:
        return "The questionnaire no longer applies (the course went on) or has closed."
    visit = next(iter(visits(appointment_ids=[notification.appointment_id])), None)
    if visit is not None and current_answer(checkin, visit) is not None:
        return "The patient has already answered."
    return ""


# --- Scheduled messages that follow their appointment ---------------------------------------------


def _wanted(
    appointment: Appointment, now: dt.datetime, policy: LocationReminderPolicy
) -> dict[tuple[str, int | None], dt.datetime]:
    """The scheduled messages the appointment should have now, and when each is due."""
    wanted: dict[tuple[str, int | None], dt.datetime] = {}
    # "24 hours before" is 24 real hours, also across the night the clocks change (arithmetic on
    # a time given on the location's clock would count wall-clock hours).
    starts_at = appointment.starts_at.astimezone(dt.UTC)
    if starts_at <= now:
        return wanted
    if appointment.status == Status.CONFIRMED and wants_reminders(appointment.patient):
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


def _scheduled_for(appointment: Appointment) -> str:
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
    scheduled_for = _scheduled_for(appointment)
    waiting = appointment.notifications.select_for_update().filter(
        state=State.PENDING, kind__in=SCHEDULED_KINDS
    )
    for row in waiting:
        key = (row.kind, row.reminder_hours)
        if key in wanted and row.context.get("starts_at") == scheduled_for:
            del wanted[key]
            continue
        _withdraw(
            Notification.objects.filter(pk=row.pk),
            _why_withdrawn(appointment, row, scheduled_for),
        )
    for (kind, hours), at in sorted(wanted.items(), key=lambda item: item[1]):
        if at > now:
            _about(
                appointment,
                kind,
                now,
                send_after=at,
                reminder_hours=hours,
                context={"starts_at": scheduled_for},
            )


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
        when = timezone.localtime(choice.bounced_at).date().isoformat()
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


# --- Rendering ----------------------------------------------------------------------------------


def _sender(location: Location) -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return formataddr((f"{settings.CLINIC_NAME} {location.name}", address))


def _message_id(notification: Notification) -> str:
    # The same for every attempt, so that mail clients drop a duplicate sent after a crash.
    stamp = int(notification.created_at.timestamp())
    return f"<notification-{notification.pk}.{stamp}@{links.site_domain()}>"


def _calendar_part(content: bytes, *, method: str, filename: str) -> MIMEText:
    # Django's MIME text sends short lines as they are (iCalendar folds at 75 octets), so
    # the invite stays readable rather than base64.
    part = SafeMIMEText(content.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _sessions(course: Course) -> list[Appointment]:
    return list(
        course.appointments.filter(status__in=ACTIVE_STATUSES)
        .select_related("location", "practitioner__user", "service", "room", "patient__user")
        .order_by("session_number")
    )


def _manage_link(appointment: Appointment, now: dt.datetime) -> str:
    if appointment.is_movable and appointment.starts_at > now:
        return links.manage_url(appointment, now=now)
    return ""


def _intake_link(n: Notification, appointment: Appointment | None) -> str:
    """The questionnaire link, for an assessment of a patient who can log in and has not
    submitted it yet."""
    if (
        appointment is None
        or appointment.service.kind != ServiceKind.ASSESSMENT
        or n.patient.user_id is None
    ):
        return ""
    if n.kind != Kind.INTAKE_MISSING:
        if gates.intake_submitted([n.patient_id]).get(n.patient_id):
            return ""
    return links.absolute(gates.intake_form_path(n.patient))


def render_parts(
    notification: Notification, *, now: dt.datetime
) -> tuple[str, str, str, list[MIMEText]]:
    """Subject, plain text, HTML and calendar attachments of a message, as of `now`."""
    n = notification
    appointment = n.appointment
    context: dict = {
        "clinic_name": settings.CLINIC_NAME,
        "location": n.location,
        "patient": n.patient,
        "appointment": appointment,
        "has_login": n.patient.user_id is not None,
        "appointments_url": links.absolute(reverse("booking:my_appointments")),
        "manage_url": _manage_link(appointment, now) if appointment else "",
        "intake_url": _intake_link(n, appointment),
        "context": n.context,
    }
    attachments: list[MIMEText] = []
    if n.kind in (Kind.CONFIRMED, Kind.RESCHEDULED) and appointment.status == Status.CONFIRMED:
        attachments.append(
            _calendar_part(
                calendars.invite(appointment, method=calendars.REQUEST, now=now),
                method=calendars.REQUEST,
                filename="appointment.ics",
            )
        )
    if n.kind == Kind.RESCHEDULED:
        zone = zoneinfo.ZoneInfo(n.context["from_time_zone"])
        context["from_starts_at"] = dt.datetime.fromisoformat(n.context["from_starts_at"])
        context["from_zone"] = zone
        context["location_changed"] = n.context.get("from_location_id") != appointment.location_id
        if n.context.get("proposal"):
            context["accept_url"] = links.absolute(
                reverse("booking:appointment_detail", args=[appointment.pk])
            )
    elif n.kind == Kind.CANCELLED and n.context.get("was_confirmed", True):
        # Only an appointment the patient had an invite for has an event to cancel.
        attachments.append(
            _calendar_part(
                calendars.invite(appointment, method=calendars.CANCEL, now=now),
                method=calendars.CANCEL,
                filename="appointment-cancelled.ics",
            )
        )
    elif n.kind == Kind.WAITLIST_OFFER:
        context["offer"] = n.offer
        context["hold"] = n.offer.hold
    elif n.kind == Kind.COURSE_BOOKED:
        sessions = _sessions(n.course)
        context["course"] = n.course
        context["sessions"] = [(s, _manage_link(s, now)) for s in sessions]
        for session in sessions:
            attachments.append(
                _calendar_part(
                    calendars.invite(session, method=calendars.REQUEST, now=now),
                    method=calendars.REQUEST,
                    filename=f"session-{session.session_number}.ics",
                )
            )
    elif n.kind == Kind.AFTER_CARE:
        path = gates.aftercare_checkin_path(appointment)
        context["checkin_url"] = links.absolute(path) if path else ""
    elif n.kind == Kind.OUTCOME_SURVEY:
        path = links.checkin_path(appointment, n.context["checkin"], now=now)
        context["checkin_url"] = links.absolute(path) if path else ""
        context["checkin"] = n.context["checkin"]
    if n.kind == Kind.REMINDER and appointment.course_id:
        # Before a needling session: how the heel has been, in a minute, from the reminder.
        path = links.checkin_path(appointment, "before_session", now=now)
        context["checkin_url"] = links.absolute(path) if path else ""
    base = f"emails/{n.kind}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    text = render_to_string(f"{base}.txt", context)
    html = render_to_string(f"{base}.html", context)
    return subject, text, html, attachments


def build_message(
    notification: Notification, *, to: str, now: dt.datetime, connection=None
) -> EmailMultiAlternatives:
    subject, text, html, attachments = render_parts(notification, now=now)
    location = notification.location
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=_sender(location),
        to=[to],
        reply_to=[location.email] if location.email else None,
        headers={"Message-ID": _message_id(notification)},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    for part in attachments:
        message.attach(part)
    return message


# --- Sending (the worker) ---------------------------------------------------------------------------


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@transaction.atomic
def claim_due(*, worker: str, limit: int, now: dt.datetime) -> tuple[list[int], dt.datetime]:
    """Claim up to `limit` due messages for `worker`: rows another worker is claiming right
    now are skipped (SKIP LOCKED), and rows under another worker's lease are left alone."""
    until = now + lease()
    ids = list(
        Notification.objects.select_for_update(skip_locked=True)
        .filter(state=State.PENDING, send_after__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("send_after", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        Notification.objects.filter(pk__in=ids).update(
            claimed_until=until, claimed_by=worker, attempts=F("attempts") + 1
        )
    return ids, until


def not_needed(notification: Notification, *, now: dt.datetime) -> str:
    """Why a due message should no longer go out ('' if it should)."""
    n = notification
    appointment = n.appointment
    if n.kind == Kind.REMINDER:
        if appointment.status != Status.CONFIRMED:
            return f"The appointment is {appointment.get_status_display().lower()}."
        if appointment.starts_at <= now:
            return "The appointment had already started when the reminder was due to go."
        if n.context.get("starts_at") != _scheduled_for(appointment):
            return "The appointment moved."
        if not wants_reminders(n.patient):
            return "The patient turned reminders off."
    elif n.kind == Kind.INTAKE_MISSING:
        if appointment.status not in MOVABLE_STATUSES or appointment.starts_at <= now:
            return "The appointment is no longer ahead."
        if gates.intake_submitted([n.patient_id]).get(n.patient_id):
            return "The questionnaire was submitted."
    elif n.kind in (Kind.REQUEST_RECEIVED, Kind.CONFIRMED, Kind.RESCHEDULED):
        if appointment.status == Status.CANCELLED:
            return "The appointment was cancelled."
    elif n.kind == Kind.WAITLIST_OFFER:
        if n.offer.state != WaitlistOffer.State.OPEN or n.offer.expires_at <= now:
            return "The offer ended."
    elif n.kind == Kind.OUTCOME_SURVEY:
        return outcome_survey_not_needed(n, now=now)
    return ""


def _refused_address(error: Exception) -> bool:
    """The server refused the recipient for good (5xx), not for now (4xx, e.g. greylisting)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    return False


def _permanent(error: Exception) -> bool:
    return isinstance(error, smtplib.SMTPDataError) and 500 <= error.smtp_code < 600


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for code, reply in error.recipients.values()
        ]
        return "; ".join(parts)[:300] or "refused"
    return f"{type(error).__name__}: {error}"[:300]


def _record(pk: int, *, only_if_pending: bool = True, **fields) -> None:
    rows = Notification.objects.filter(pk=pk)
    if only_if_pending:
        rows = rows.filter(state=State.PENDING)
    rows.update(claimed_until=None, **fields)


def deliver(pk: int, *, worker: str, now: dt.datetime, connection=None) -> str:
    """Send one claimed message and record what happened: 'sent', 'retrying', 'failed' or
    'skipped'."""
    n = Notification.objects.select_related(
        "location",
        "patient__user",
        "appointment__location",
        "appointment__service",
        "appointment__practitioner__user",
        "appointment__room",
        "appointment__course",
        "appointment__patient__user",
        "course__patient",
        "offer__hold__location",
        "offer__hold__practitioner__user",
        "offer__hold__service",
    ).get(pk=pk)
    if n.state != State.PENDING or n.claimed_by != worker:
        return "skipped"  # withdrawn, or taken over after our lease ran out
    address = recipient(n.patient)
    try:
        reason = not_needed(n, now=now)
        if reason:
            _record(pk, state=State.SKIPPED, last_error=reason)
            return "skipped"
        problem = address_problem(n.patient, address)
        if problem:
            _record(pk, state=State.FAILED, last_error=problem[:500], to_email=address)
            return "failed"
        message = build_message(n, to=address, now=now, connection=connection)
        if message.send() != 1:
            raise smtplib.SMTPException("The mail backend accepted nothing.")
    except Exception as error:  # noqa: BLE001 - every failure is recorded; the worker goes on
        # Whatever went wrong (the mail server, a template, a question to intake), the
        # message is retried with back-off and given up after the limit, never looped on.
        if not isinstance(error, smtplib.SMTPException | OSError):
            log.exception("Notification %s could not be sent", pk)
        if connection is not None:
            _close_quietly(connection)
        return _failed_attempt(n, error, address=address, now=now)
    # Recorded even if the row was withdrawn meanwhile: it was sent.
    _record(
        pk,
        only_if_pending=False,
        state=State.SENT,
        sent_at=now,
        to_email=address,
        last_error="",
    )
    return "sent"


def _failed_attempt(n: Notification, error: Exception, *, address: str, now: dt.datetime) -> str:
    text = _describe(error)
    log.warning("Notification %s (%s) attempt %s failed: %s", n.pk, n.kind, n.attempts, text)
    if _refused_address(error):
        record_bounce(address, reason=text, now=now)
        _record(n.pk, state=State.FAILED, to_email=address, last_error=f"Address refused: {text}")
        return "failed"
    if _permanent(error):
        _record(n.pk, state=State.FAILED, to_email=address, last_error=f"Refused: {text}")
        return "failed"
    if n.attempts >= max_attempts():
        _record(
            n.pk,
            state=State.FAILED,
            to_email=address,
            last_error=f"Gave up after {n.attempts} attempts. Last error: {text}",
        )
        return "failed"
    _record(
        n.pk,
        send_after=now + retry_delay(n.attempts),
        last_error=f"Attempt {n.attempts} failed, will retry: {text}",
    )
    return "retrying"


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - a broken connection is reopened for the next message
        log.debug("Closing the mail connection failed", exc_info=True)


@dataclass
class Outcome:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, "
            f"skipped {self.skipped}"
        )


def send_due(
    *, worker: str | None = None, limit: int = 20, now: dt.datetime | None = None
) -> Outcome:
    """Claim and send one batch of due messages. `now` fixes the clock (tests)."""
    worker = worker or default_worker_name()
    clock = (lambda: now) if now is not None else timezone.now
    ids, lease_end = claim_due(worker=worker, limit=limit, now=clock())
    outcome = Outcome(claimed=len(ids))
    if not ids:
        return outcome
    # Leave time to finish a send before the lease runs out and another worker may take it.
    margin = dt.timedelta(seconds=int(getattr(settings, "EMAIL_TIMEOUT", 20) or 20) + 10)
    connection = get_connection()
    try:
        for position, pk in enumerate(ids):
            at = clock()
            if at >= lease_end - margin:
                rest = ids[position:]
                Notification.objects.filter(
                    pk__in=rest, claimed_by=worker, state=State.PENDING
                ).update(claimed_until=None, attempts=F("attempts") - 1)
                outcome.released = len(rest)
                break
            result = deliver(pk, worker=worker, now=at, connection=connection)
            setattr(outcome, result, getattr(outcome, result) + 1)
    finally:
        _close_quietly(connection)
    return outcome


# --- What staff see ---------------------------------------------------------------------------------


def history(appointment: Appointment) -> list[Notification]:
    """Every message about the appointment (and its course), oldest first."""
    about = Q(appointment=appointment)
    if appointment.course_id:
        about |= Q(course_id=appointment.course_id)
    return list(Notification.objects.filter(about).order_by("created_at", "id"))


def failures(locations: QuerySet[Location] | None) -> QuerySet[Notification]:
    """Messages that could not be sent, at `locations` (None: everywhere), newest first."""
    rows = Notification.objects.filter(state=State.FAILED)
    if locations is not None:
        rows = rows.filter(location__in=locations)
    return rows.select_related("patient", "location", "appointment__service").order_by(
        "-created_at", "-id"
    )
