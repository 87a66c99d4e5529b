"""Sending (`python manage.py send_notifications`): due rows are claimed with
`SELECT … FOR UPDATE SKIP LOCKED` and a lease, then sent outside the transaction, so workers
on any number of servers never pick the same row, and a worker killed mid-send leaves a row
that another claims once the lease has run out (sent at most one more time, with the same
Message-ID). Failures are retried with exponential back-off and given up after
`NOTIFICATIONS_MAX_ATTEMPTS`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import smtplib
import socket
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from booking import gates, leased_batches
from booking.models import (
    MOVABLE_STATUSES,
    Notification,
    Status,
    WaitlistOffer,
)
from booking.notifications.addresses import address_problem, record_bounce
from booking.notifications.outbox import (
    FOLLOW_UP_KINDS,
    Kind,
    State,
    lease,
    max_attempts,
    recipient,
    retry_delay,
    wants_reminders,
)
from booking.notifications.reminders import start_as_scheduled
from booking.notifications.rendering import build_message
from booking.notifications.surveys import outcome_survey_not_needed

log = logging.getLogger(__name__)

# --- Sending (the worker) ---------------------------------------------------------------------------


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@transaction.atomic
def claim_due(*, worker: str, limit: int, now: dt.datetime) -> tuple[list[int], dt.datetime]:
    """Claim up to `limit` due messages for `worker`: rows another worker is claiming right
    now are skipped (SKIP LOCKED), and rows under another worker's lease are left alone."""
    until = now + lease()
    due = Notification.objects.filter(state=State.PENDING, send_after__lte=now).order_by(
        "send_after", "id"
    )
    return leased_batches.claim(due, worker=worker, limit=limit, now=now, until=until), until


def _from_before_the_closing(n: Notification) -> bool:
    """The patient closed their account, and this follow-up is not about a waitlist place the
    desk made for them afterwards, by phone: an offer to that one holds the time for them, and
    its email (with the clinic's number) is how they hear of it; without a login they cannot
    see it anywhere else."""
    closed = n.patient.account_closed_at
    if closed is None:
        return False
    return not (n.kind == Kind.WAITLIST_OFFER and n.offer.entry.created_at > closed)


def not_needed(notification: Notification, *, now: dt.datetime) -> str:
    """Why a due message should no longer go out ('' if it should)."""
    n = notification
    appointment = n.appointment
    if n.kind in FOLLOW_UP_KINDS and _from_before_the_closing(n):
        return "The patient closed their account."
    if n.kind == Kind.REMINDER:
        if appointment.status != Status.CONFIRMED:
            return f"The appointment is {appointment.get_status_display().lower()}."
        if appointment.starts_at <= now:
            return "The appointment had already started when the reminder was due to go."
        if n.context.get("starts_at") != start_as_scheduled(appointment):
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
        "offer__entry",
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
class Outcome(leased_batches.Batch):
    sent: int = 0

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
        leased_batches.work_through(
            ids,
            ours=Notification.objects.filter(state=State.PENDING, claimed_by=worker),
            stop_at=lease_end - margin,
            clock=clock,
            handle=lambda pk, at: deliver(pk, worker=worker, now=at, connection=connection),
            batch=outcome,
        )
    finally:
        _close_quietly(connection)
    return outcome
