"""The demo leaves an outbox to look at: each upcoming demo appointment's first email, its
reminders waiting for their time, and a reminder policy per location; seeding again adds none."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from booking.models import LocationReminderPolicy, Notification

pytestmark = pytest.mark.django_db


def test_the_demo_has_emails_waiting_and_reseeding_adds_none():
    call_command("seed_demo")
    waiting = Notification.objects.filter(state=Notification.State.PENDING)
    kinds = set(waiting.values_list("kind", flat=True))
    assert {Notification.Kind.REQUEST_RECEIVED, Notification.Kind.CONFIRMED} <= kinds
    assert LocationReminderPolicy.objects.get(location__slug="rockville").hours == [24]
    assert LocationReminderPolicy.objects.get(location__slug="leaside").hours == [48, 24]
    before = sorted(Notification.objects.values_list("id", "kind", "state", "send_after"))
    call_command("seed_demo")
    assert sorted(Notification.objects.values_list("id", "kind", "state", "send_after")) == before
