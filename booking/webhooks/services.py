"""Workflows of the managers' webhook pages: registering an endpoint (its secret made here),
changing what it listens to, rotating its secret, disabling and enabling it, and sending a
delivery again. Each takes domain objects and keyword arguments and runs in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from booking.webhooks.models import Delivery, Endpoint
from booking.webhooks.signing import new_secret
from clinic.models import Location, User

# After a rotation the old secret signs too for this long, so the receiver can switch over.
ROTATION_OVERLAP = dt.timedelta(hours=24)


class WebhookError(Exception):
    """A request the webhook pages refuse; `str()` says why, for the manager."""


@transaction.atomic
def register_endpoint(
    *,
    name: str,
    url: str,
    events: list[str],
    locations: Iterable[Location],
    by: User,
    now: dt.datetime,
) -> Endpoint:
    endpoint = Endpoint.objects.create(
        name=name, url=url, events=events, secret=new_secret(), created_by=by, created_at=now
    )
    endpoint.locations.set(locations)
    return endpoint


@transaction.atomic
def update_endpoint(
    endpoint: Endpoint, *, name: str, url: str, events: list[str], locations: Iterable[Location]
) -> Endpoint:
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.name, locked.url, locked.events = name, url, events
    locked.save(update_fields=["name", "url", "events"])
    locked.locations.set(locations)
    return locked


@dataclass(frozen=True)
class Rotation:
    endpoint: Endpoint
    # Only the secret just replaced keeps signing: one replaced earlier, still inside its 24
    # hours, stops now, and a receiver still checking with it fails from now.
    earlier_secret_stopped: bool


@transaction.atomic
def rotate_secret(endpoint: Endpoint, *, now: dt.datetime) -> Rotation:
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    stopped = len(locked.signing_secrets(now)) > 1
    locked.previous_secret = locked.secret
    locked.previous_secret_until = now + ROTATION_OVERLAP
    locked.secret = new_secret()
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return Rotation(locked, earlier_secret_stopped=stopped)


@transaction.atomic
def disable_endpoint(endpoint: Endpoint, *, by: User, now: dt.datetime) -> Endpoint:
    """Deliveries wait (nothing is posted) until the endpoint is enabled again."""
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    if locked.is_enabled:
        locked.is_enabled = False
        locked.disabled_at = now
        locked.disabled_reason = f"Disabled by {by.full_name or by.email}."[:300]
        locked.save(update_fields=["is_enabled", "disabled_at", "disabled_reason"])
    return locked


@transaction.atomic
def enable_endpoint(endpoint: Endpoint) -> Endpoint:
    """The deliveries that waited are posted by the next round; its failures start afresh."""
    locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.is_enabled = True
    locked.disabled_at = None
    locked.disabled_reason = ""
    locked.failing_since = None
    locked.tell_managers = False
    locked.save(
        update_fields=[
            "is_enabled",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "tell_managers",
        ]
    )
    return locked


@transaction.atomic
def redeliver(delivery: Delivery, *, now: dt.datetime) -> Delivery:
    """The same message (same id and payload, so the receiver can drop a duplicate), as a new
    row of the log, due now."""
    if not delivery.endpoint.is_enabled:
        raise WebhookError("Enable the endpoint first: nothing is sent to a disabled endpoint.")
    return Delivery.objects.create(
        endpoint=delivery.endpoint,
        event=delivery.event,
        message_id=delivery.message_id,
        payload=delivery.payload,
        redelivery_of=delivery,
        next_attempt_at=now,
        created_at=now,
    )
