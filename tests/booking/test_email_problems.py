"""Staff see, per appointment, which emails went out and when, and a list of the ones that
could not be sent, at their own locations, to phone the patient and send them again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import notifications
from booking.models import Notification, NotificationPreference
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

State = Notification.State


@pytest.fixture
def failed(book, settings):
    """A confirmation the mail server refused (the address does not exist)."""
    settings.EMAIL_BACKEND = "tests.booking.email_backends.RefusingBackend"
    patient = PatientFactory(first_name="Grace", last_name="Liu")
    appointment = book(patient)
    notifications.send_due(worker="w", now=timezone.now())
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return appointment.notifications.get(kind=Notification.Kind.CONFIRMED)


def test_the_appointment_page_shows_staff_what_was_sent_and_when(login, front_desk, book, patient):
    appointment = book(patient)
    notifications.send_due(worker="w", now=timezone.now())
    page = (
        login(front_desk)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    assert "Emails to the patient" in page
    assert "Confirmation" in page and "Sent" in page and "sent " in page
    assert "Reminder (24 h before)" in page and "Waiting to be sent" in page


def test_patients_do_not_see_the_email_log(login, book, patient):
    appointment = book(patient)
    page = (
        login(patient.user)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    assert "Emails to the patient" not in page


def test_failures_are_listed_for_staff_of_the_location(login, failed, front_desk, manager):
    for person in (front_desk, manager):
        page = login(person).get(reverse("booking:email_problems")).content.decode()
        assert "Grace Liu" in page and "Address refused" in page and "User unknown" in page


def test_staff_of_another_location_do_not_see_them(login, failed, front_desk_elsewhere):
    page = login(front_desk_elsewhere).get(reverse("booking:email_problems")).content.decode()
    assert "Grace Liu" not in page and "every email went out" in page
    response = login(front_desk_elsewhere).post(
        reverse("booking:notification_send_again", args=[failed.pk])
    )
    assert response.status_code == 404


def test_staff_send_a_failed_email_again_after_fixing_the_address(login, failed, front_desk):
    failed.patient.email = "grace.liu@example.net"
    failed.patient.save()
    response = login(front_desk).post(
        reverse("booking:notification_send_again", args=[failed.pk]), {"back": "appointment"}
    )
    assert response.url == reverse("booking:appointment_detail", args=[failed.appointment_id])
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.last_error) == (State.PENDING, 0, "")
    assert NotificationPreference.objects.get(patient=failed.patient).bounced_email == ""
    notifications.send_due(worker="w", now=timezone.now())
    failed.refresh_from_db()
    assert (failed.state, failed.to_email) == (State.SENT, "grace.liu@example.net")


def test_only_a_failed_email_can_be_sent_again(login, book, patient, front_desk):
    appointment = book(patient)
    waiting = appointment.notifications.get(kind=Notification.Kind.CONFIRMED)
    response = login(front_desk).post(
        reverse("booking:notification_send_again", args=[waiting.pk]), follow=True
    )
    assert "Only a message that failed can be sent again" in response.content.decode()


def test_the_pages_refuse_patients_and_the_wrong_method(login, failed, patient, front_desk):
    assert login(patient.user).get(reverse("booking:email_problems")).status_code == 403
    assert (
        login(patient.user)
        .post(reverse("booking:notification_send_again", args=[failed.pk]))
        .status_code
        == 403
    )
    assert login(front_desk).post(reverse("booking:email_problems")).status_code == 405
    assert (
        login(front_desk)
        .get(reverse("booking:notification_send_again", args=[failed.pk]))
        .status_code
        == 405
    )


def test_the_list_runs_a_fixed_number_of_queries(
    login, failed, front_desk, book, settings, django_assert_max_num_queries
):
    settings.EMAIL_BACKEND = "tests.booking.email_backends.RefusingBackend"
    for hours in (2, 4, 6):
        book(PatientFactory(), failed.appointment.starts_at + dt.timedelta(hours=hours))
        notifications.send_due(worker="w", now=timezone.now())
    client = login(front_desk)
    with django_assert_max_num_queries(8):
        client.get(reverse("booking:email_problems"))
