"""Delivering (run by `python manage.py send_notifications`, beside the emails): due rows are
claimed with `SELECT … FOR UPDATE SKIP LOCKED` and a lease, then posted outside the
transaction, so several workers never post the same row at once. A failure (no answer within
the timeout, or a status other than 2xx) is retried with exponential back-off and given up
after `WEBHOOKS_MAX_ATTEMPTS`; an endpoint that has failed for a day without a success is
disabled and the managers are emailed.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from booking import leased_batches
from booking.webhooks import signing, transport
from booking.webhooks.models import Delivery, Endpoint
from clinic.models import Role, User

log = logging.getLogger(__name__)

Status = Delivery.Status

# --- Settings (read here so that clinic/settings.py needs only their defaults) ---------------


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOKS_MAX_ATTEMPTS", 12))


def retry_base() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "WEBHOOKS_RETRY_SECONDS", 30)))


def retry_delay(attempts: int) -> dt.timedelta:
    """After the 1st, 2nd, 3rd… failed attempt: 1, 2, 4… times the base, at most 6 hours."""
    return min(retry_base() * 2 ** max(attempts - 1, 0), dt.timedelta(hours=6))


def failing_limit() -> dt.timedelta:
    return dt.timedelta(hours=int(getattr(settings, "WEBHOOKS_DISABLE_AFTER_HOURS", 24)))


def lease() -> dt.timedelta:
    # Long enough for a batch of posts, each bounded by the timeout.
    return dt.timedelta(seconds=max(60, int(transport.timeout() * 25)))


# --- Claiming and posting ------------------------------------------------------------------------


@transaction.atomic
def claim_due(*, worker: str, limit: int, now: dt.datetime) -> tuple[list[int], dt.datetime]:
    """Claim up to `limit` due deliveries of enabled endpoints for `worker`, until the lease
    returned."""
    until = now + lease()
    due = Delivery.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_enabled=True
    ).order_by("next_attempt_at", "id")
    return leased_batches.claim(due, worker=worker, limit=limit, now=now, until=until), until


def deliver(pk: int, *, worker: str, now: dt.datetime) -> str:
    """Post one claimed delivery and record what happened: 'delivered', 'retrying', 'failed'
    or 'skipped'."""
    delivery = Delivery.objects.select_related("endpoint").get(pk=pk)
    endpoint = delivery.endpoint
    if delivery.status != Status.PENDING or delivery.claimed_by != worker:
        return "skipped"  # taken over after our lease ran out
    if not endpoint.is_enabled:
        # Disabled since the batch was claimed (by a manager, or by this worker after an
        # earlier failure of the batch): nothing more is posted to it. The delivery waits in
        # its log, unclaimed and its attempt uncounted, until the endpoint is enabled again.
        Delivery.objects.filter(pk=pk, status=Status.PENDING, claimed_by=worker).update(
            claimed_until=None, attempts=F("attempts") - 1
        )
        return "skipped"
    data = signing.body(delivery.payload)
    headers = signing.signed_headers(
        message_id=delivery.message_id,
        data=data,
        at=now,
        secrets_in_use=endpoint.signing_secrets(now),
    )
    response_status = None
    try:
        response_status = transport.post(endpoint.url, data=data, headers=headers)
        error = "" if 200 <= response_status < 300 else f"The receiver answered {response_status}."
    except transport.RefusedAddress as refused:
        error = f"Refused: {refused}"
    except (OSError, http.client.HTTPException) as failure:
        error = _without_query(f"{type(failure).__name__}: {failure}", endpoint.url)
    except ValueError as failure:
        # Not foreseen (an address http.client cannot write, a library's surprise): a failed
        # attempt of this delivery, not the end of the worker's round and the emails after it.
        log.exception("Webhook delivery %s failed unexpectedly", pk)
        error = _without_query(f"{type(failure).__name__}: {failure}", endpoint.url)
    if not error:
        _delivered(delivery, response_status=response_status, now=now)
        return "delivered"
    return _failed_attempt(delivery, error[:400], response_status=response_status, now=now)


def _without_query(message: str, url: str) -> str:
    """`message` with the endpoint's query string left out: receivers often take their token
    there, and some errors (http.client's InvalidURL) quote the address they refused, which
    would put the token in the delivery log and the server's log."""
    _, has_query, query = url.partition("?")
    query = query.partition("#")[0]
    return message.replace(query, "…") if has_query and query else message


def _delivered(delivery: Delivery, *, response_status: int, now: dt.datetime) -> None:
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.DELIVERED,
            delivered_at=now,
            last_attempt_at=now,
            last_response_status=response_status,
            last_error="",
            claimed_until=None,
        )
        Endpoint.objects.filter(pk=delivery.endpoint_id).update(failing_since=None)


def _failed_attempt(
    delivery: Delivery, error: str, *, response_status: int | None, now: dt.datetime
) -> str:
    log.warning("Webhook delivery %s attempt %s failed: %s", delivery.pk, delivery.attempts, error)
    gave_up = delivery.attempts >= max_attempts()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED if gave_up else Status.PENDING,
            next_attempt_at=now if gave_up else now + retry_delay(delivery.attempts),
            last_attempt_at=now,
            last_response_status=response_status,
            last_error=(
                f"Gave up after {delivery.attempts} attempts. {error}"
                if gave_up
                else f"Attempt {delivery.attempts} failed, will retry: {error}"
            )[:500],
            claimed_until=None,
        )
        endpoint = Endpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if endpoint.failing_since is None:
            endpoint.failing_since = now
            endpoint.save(update_fields=["failing_since"])
        elif endpoint.is_enabled and now - endpoint.failing_since >= failing_limit():
            endpoint.is_enabled = False
            endpoint.disabled_at = now
            endpoint.disabled_reason = (
                f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC. "
                f"Last error: {error}"
            )[:300]
            endpoint.tell_managers = True
            endpoint.save(
                update_fields=["is_enabled", "disabled_at", "disabled_reason", "tell_managers"]
            )
    return "failed" if gave_up else "retrying"


# --- Telling the managers ----------------------------------------------------------------------


def tell_managers(*, now: dt.datetime) -> int:
    """Email the managers about each endpoint the worker disabled; how many emails went."""
    told = 0
    while True:
        with transaction.atomic():
            endpoint = (
                Endpoint.objects.select_for_update(skip_locked=True)
                .filter(tell_managers=True)
                .order_by("id")
                .first()
            )
            if endpoint is None:
                return told
            # Sent inside the lock: a failure leaves the flag set, and the next round retries.
            managers = list(
                User.objects.filter(role=Role.MANAGER, is_active=True)
                .exclude(email="")
                .values_list("email", flat=True)
            )
            context = {
                "endpoint": endpoint,
                "clinic_name": settings.CLINIC_NAME,
                "page": _absolute(reverse("webhooks:endpoint_detail", args=[endpoint.pk])),
            }
            if managers:
                send_mail(
                    render_to_string("booking/webhooks/email_disabled_subject.txt", context)
                    .strip()
                    .replace("\n", " "),
                    render_to_string("booking/webhooks/email_disabled.txt", context),
                    None,
                    managers,
                )
            endpoint.tell_managers = False
            endpoint.save(update_fields=["tell_managers"])
            told += 1


def _absolute(path: str) -> str:
    return getattr(settings, "SITE_URL", "").rstrip("/") + path


# --- One round ---------------------------------------------------------------------------------


@dataclass
class Outcome(leased_batches.Batch):
    delivered: int = 0
    managers_told: int = 0

    def __str__(self) -> str:
        return (
            f"webhooks: delivered {self.delivered}, retrying {self.retrying}, "
            f"failed {self.failed}, skipped {self.skipped}"
        )


def send_due(
    *,
    worker: str,
    limit: int = 20,
    now: dt.datetime | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> Outcome:
    """Claim and post one batch of due deliveries, then tell the managers of any endpoint
    disabled. `now` fixes the clock, `clock` replaces it (tests)."""
    clock = clock or ((lambda: now) if now is not None else timezone.now)
    ids, lease_end = claim_due(worker=worker, limit=limit, now=clock())
    outcome = Outcome(claimed=len(ids))
    # Leave time to finish a post before the lease runs out and another worker may take it.
    margin = dt.timedelta(seconds=transport.timeout() + 10)
    leased_batches.work_through(
        ids,
        ours=Delivery.objects.filter(status=Status.PENDING, claimed_by=worker),
        stop_at=lease_end - margin,
        clock=clock,
        handle=lambda pk, at: deliver(pk, worker=worker, now=at),
        batch=outcome,
    )
    try:
        outcome.managers_told = tell_managers(now=clock())
    except Exception:  # noqa: BLE001 - the email is retried next round; deliveries go on
        log.exception("The managers could not be emailed about a disabled webhook endpoint")
    return outcome
