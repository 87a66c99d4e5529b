"""Managers set each location's reminder times in the admin; saving re-plans the reminders
already waiting, and times outside one hour to two weeks are refused on the field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.models import LocationReminderPolicy, Notification

pytestmark = pytest.mark.django_db

ADD = "admin:booking_locationreminderpolicy_add"


def _post(client, location, hours: str):
    return client.post(
        reverse(ADD),
        {"location": location.pk, "hours": hours, "intake_reminder_hours": 72},
    )


def test_a_manager_sets_the_times_and_waiting_reminders_follow(
    login, manager, clinic, book, patient
):
    appointment = book(patient)
    response = _post(login(manager), clinic.location, "72, 3")
    assert response.status_code == 302
    assert LocationReminderPolicy.objects.get(location=clinic.location).hours == [72, 3]
    waiting = appointment.notifications.filter(
        kind=Notification.Kind.REMINDER, state=Notification.State.PENDING
    )
    assert set(waiting.values_list("reminder_hours", flat=True)) == {72, 3}


@pytest.mark.parametrize("hours", ["24, 400", "0", "48, 24, 12, 6, 2"])
def test_times_outside_the_rules_are_refused_with_a_message(login, manager, clinic, hours):
    response = _post(login(manager), clinic.location, hours)
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not LocationReminderPolicy.objects.exists()
