"""Staff see, per appointment, which emails went out and when, and a list of the ones that
could not be sent, at their own locations, to phone the patient and send them again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import notifications, services
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


def _email_rows(page: str) -> list[str]:
    table = page.split('class="table table-sm email-history"', 1)[1].split("</table>", 1)[0]
    return [
        row.split("</th>", 1)[0].rsplit(">", 1)[1] for row in table.split('<th scope="row"')[1:]
    ]


def test_the_appointment_page_shows_one_row_per_email_with_its_earlier_versions_on_demand(
    login, front_desk, book, patient
):
    appointment = book(patient)
    for hours in (2, 3):  # moved twice before any email went out
        services.reschedule_appointment(
            appointment,
            starts_at=appointment.starts_at + dt.timedelta(hours=hours),
            actor=front_desk,
        )
    appointment.refresh_from_db()
    assert appointment.notifications.count() == 12  # what the outbox keeps...
    page = (
        login(front_desk)
        .get(reverse("booking:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    # ...and what staff read: one row per email, each at its latest state.
    assert _email_rows(page) == [
        "Confirmation",
        "Intake still missing",
        "Reminder (48 h before)",
        "Reminder (24 h before)",
        "Moved",
    ]
    assert page.count("<details>") == 4  # the re-planned three and the replaced move
    assert "3 versions" in page and "2 versions" in page
    assert "The appointment moved; the message follows it to the new time." in page
    assert "Replaced by a newer message about the same appointment." in page


def test_an_email_sent_before_a_move_stays_apart_from_the_one_for_the_new_time(
    front_desk, book, patient, time_machine
):
    appointment = book(patient)
    reminder = appointment.notifications.get(reminder_hours=48)
    time_machine.move_to(reminder.send_after, tick=False)
    notifications.send_due(worker="w", now=timezone.now())
    services.reschedule_appointment(
        appointment, starts_at=appointment.starts_at + dt.timedelta(hours=3), actor=front_desk
    )
    emails = notifications.emails(appointment)
    reminders_48 = [e for e in emails if e.latest.reminder_hours == 48]
    assert [[row.state for row in e.rows] for e in reminders_48] == [
        [State.SENT],
        [State.PENDING],
    ]


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
