"""Patients choose whether they get reminders; confirmations and changes always go."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking import notifications
from booking.models import Notification, NotificationPreference

pytestmark = pytest.mark.django_db

URL = "booking:reminder_settings"


def test_a_patient_turns_reminders_off_and_on(login, patient, book):
    appointment = book(patient)
    client = login(patient.user)
    page = client.get(reverse(URL)).content.decode()
    assert 'name="reminders"' in page and "checked" in page and patient.email in page
    response = client.post(reverse(URL), {})
    assert response.url == reverse(URL)
    assert NotificationPreference.objects.get(patient=patient).reminders is False
    waiting = appointment.notifications.filter(
        kind=Notification.Kind.REMINDER, state=Notification.State.PENDING
    )
    assert not waiting.exists()
    assert "will not send you reminders" in client.get(response.url).content.decode()
    client.post(reverse(URL), {"reminders": "on"})
    assert waiting.count() == 2


def test_the_page_warns_when_emails_to_the_patient_are_refused(login, patient):
    notifications.record_bounce(patient.email, reason="550 5.1.1 User unknown")
    page = login(patient.user).get(reverse(URL)).content.decode()
    assert "We cannot email you" in page and "User unknown" in page


def test_the_patients_menu_links_to_it(login, patient):
    page = login(patient.user).get(reverse("clinic:patient_home")).content.decode()
    assert f'href="{reverse(URL)}"' in page


def test_staff_cannot_open_it_and_it_takes_get_or_post_only(login, patient, front_desk):
    assert login(front_desk).get(reverse(URL)).status_code == 403
    assert login(patient.user).put(reverse(URL)).status_code == 405
