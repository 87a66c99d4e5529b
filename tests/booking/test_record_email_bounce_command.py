"""`python manage.py record_email_bounce`: a bounce that came back after sending shows up for
staff, and the address is not written to again until it changes."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from booking import notifications
from booking.models import Notification, NotificationPreference
from tests.conftest import command_help, command_output

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    return command_output("record_email_bounce", *args)


def test_it_has_a_help_text():
    assert "bounced after it was sent" in command_help("record_email_bounce")


def test_the_last_message_is_marked_failed_and_the_address_refused(book, patient):
    appointment = book(patient)
    notifications.send_due(worker="w", now=timezone.now())
    output = _run(patient.email.upper(), "--reason", "550 5.1.1 User unknown")
    assert "the confirmation to Jordan Miles is marked failed" in output
    confirmation = appointment.notifications.get(kind=Notification.Kind.CONFIRMED)
    assert confirmation.state == Notification.State.FAILED
    assert confirmation.last_error == "Bounced after it was sent: 550 5.1.1 User unknown"
    assert NotificationPreference.objects.get(patient=patient).bounced_email


def test_an_address_with_nothing_sent_is_still_recorded(patient):
    assert "no message sent to it this week" in _run(patient.email)
    assert NotificationPreference.objects.get(patient=patient).bounce_reason == "bounced"


def test_it_refuses_something_that_is_not_an_address():
    with pytest.raises(CommandError, match="not an email address"):
        _run("nobody")
