"""A patient closes their account: the login goes, the clinical record stays."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from booking import notifications, services
from booking.models import (
    ACTIVE,
    Appointment,
    Notification,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.notifications import links
from clinic.models import AccessLog, Patient, User
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course, a_placed_hold, an_appointment, joined_waitlist
from tests.booking.races import first_holds_its_lock
from tests.factories import PASSWORD, PatientFactory
from tests.intake.factories import signed_assessment, submitted_intake

pytestmark = pytest.mark.django_db

FILL_CLOSED_ACCOUNTS = importlib.import_module(
    "clinic.migrations.0011_patient_account_closed_at"
).FILL_CLOSED_ACCOUNTS


def test_closing_removes_the_login_and_keeps_the_clinical_record(login, patient, clinic):
    submitted_intake(patient)
    signed_assessment(patient, clinic.practitioner)
    past_start = timezone.now() - dt.timedelta(days=10)
    an_appointment(clinic, patient, past_start, status=Status.COMPLETED)
    future_start = timezone.now() + dt.timedelta(days=10)
    future = an_appointment(clinic, patient, future_start, room=clinic.rooms[1])
    user = patient.user
    client = login(user)
    wrong = client.post(reverse("booking:close_account"), {"password": "nope"})
    assert "That is not your password" in wrong.content.decode()

    response = client.post(reverse("booking:close_account"), {"password": PASSWORD})
    assert response.url == reverse("clinic:welcome")

    user.refresh_from_db()
    patient.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()
    assert user.email.endswith("@accounts.invalid")
    assert patient.user is None  # the record stays, without a login
    assert (patient.first_name, patient.date_of_birth) != ("", None)
    assert patient.intakes.count() == 1
    future.refresh_from_db()
    assert (future.status, future.cancelled_by) == (Status.CANCELLED, "patient")
    assert Appointment.objects.filter(patient=patient, status=Status.COMPLETED).count() == 1
    assert AccessLog.objects.filter(patient=patient, action="delete").exists()
    # The old session and the old password no longer open anything.
    assert client.get(reverse("clinic:patient_home")).status_code == 302
    assert (
        Client().post(reverse("login"), {"username": "jordan", "password": PASSWORD}).status_code
        == 200
    )
    # The email is free for a new account.
    assert not User.objects.filter(email=patient.email).exists()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_staff_cannot_close_a_patients_account_through_this_page(login, front_desk):
    assert (
        login(front_desk).post(reverse("booking:close_account"), {"password": PASSWORD}).status_code
        == 403
    )


@pytest.fixture
def course_ending_today(clinic, patient):
    """Four weekly sessions: three done, the last checked in an hour ago."""
    return a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED, Status.COMPLETED, Status.COMPLETED, Status.CHECKED_IN],
        first_start=timezone.now() - dt.timedelta(days=21, hours=1),
    )


def _surveys(patient):
    return Notification.objects.filter(patient=patient, kind=Notification.Kind.OUTCOME_SURVEY)


def test_a_closed_account_gets_no_more_questionnaires(
    clinic, patient, front_desk, course_ending_today
):
    # The course ended before the closing: its questionnaires (the day after, 4 and 12
    # weeks later) were waiting; the closing withdraws them. Its cancellation notice goes.
    last = course_ending_today.appointments.get(status=Status.CHECKED_IN)
    services.change_status(last, to=Status.COMPLETED, actor=front_desk)
    assert _surveys(patient).filter(state=Notification.State.PENDING).count() == 3
    ahead = an_appointment(clinic, patient, timezone.now() + dt.timedelta(days=10))

    services.close_patient_account(patient, actor=patient.user)

    patient.refresh_from_db()
    assert patient.account_closed_at is not None
    assert set(_surveys(patient).values_list("state", "last_error")) == {
        (Notification.State.SKIPPED, "The patient closed their account.")
    }
    cancelled = ahead.notifications.get(kind=Notification.Kind.CANCELLED)
    assert cancelled.state == Notification.State.PENDING


def test_a_visit_completed_after_the_closing_sends_no_questionnaire(
    patient, front_desk, course_ending_today
):
    # The patient closed their account from the waiting room; the desk then completes the
    # visit, which ends the course and writes its questionnaires: the worker does not send them.
    services.close_patient_account(patient, actor=patient.user)
    last = course_ending_today.appointments.get(status=Status.CHECKED_IN)
    services.change_status(last, to=Status.COMPLETED, actor=front_desk)
    later = timezone.now() + dt.timedelta(weeks=13)
    mail.outbox.clear()
    notifications.send_due(worker="w1", now=later)
    assert set(_surveys(patient).values_list("state", "last_error")) == {
        (Notification.State.SKIPPED, "The patient closed their account.")
    }
    assert not [m for m in mail.outbox if "how is your heel" in m.subject or "course" in m.subject]


def test_accounts_closed_before_the_mark_existed_are_marked(patient):
    # clinic 0011 finds them by the access log's row for the closing, on a record that no
    # longer has a login; a patient registered by phone (never a login) is not marked.
    closed = PatientFactory(user=None, email="", first_name="Sam", last_name="Closed")
    AccessLog.objects.create(
        actor=patient.user,
        actor_role="patient",
        patient=closed,
        record_type="clinic.patient",
        record_id=str(closed.pk),
        action=AccessLog.Action.DELETE,
    )
    by_phone = PatientFactory(user=None, email="", first_name="Ray", last_name="Phone")
    with connection.cursor() as cursor:
        cursor.execute(FILL_CLOSED_ACCOUNTS)
    closed.refresh_from_db()
    by_phone.refresh_from_db()
    patient.refresh_from_db()
    assert closed.account_closed_at is not None
    assert by_phone.account_closed_at is None and patient.account_closed_at is None


def test_links_in_emails_sent_before_the_closing_no_longer_open(
    client, clinic, patient, time_machine
):
    # The emails stay in the patient's mailbox, maybe a shared one: their links stop working.
    # A visit the desk books afterwards, when the patient phones, gets links that work.
    before = an_appointment(clinic, patient, timezone.now() + dt.timedelta(days=3))
    manage = reverse("booking:link_manage", args=[before.pk, links.make_token(before)])
    assert client.get(manage).status_code == 200
    services.close_patient_account(patient, actor=patient.user)
    refused = client.get(manage)
    assert refused.status_code == 400
    assert "the account it was sent to has been closed" in refused.content.decode()
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=5), tick=True)
    by_phone = an_appointment(
        clinic, patient, timezone.now() + dt.timedelta(days=4), room=clinic.rooms[1]
    )
    opened = client.get(
        reverse("booking:link_manage", args=[by_phone.pk, links.make_token(by_phone)])
    )
    assert opened.status_code == 200


def test_a_questionnaire_link_sent_before_the_closing_no_longer_opens(
    client, patient, front_desk, course_ending_today
):
    last = course_ending_today.appointments.get(status=Status.CHECKED_IN)
    services.change_status(last, to=Status.COMPLETED, actor=front_desk)
    path = links.survey_path(last, "after_care")
    assert path is not None and client.get(path).status_code == 200
    services.close_patient_account(patient, actor=patient.user)
    refused = client.get(path)
    assert refused.status_code == 400
    assert "the account it was sent to has been closed" in refused.content.decode()


# --- Closing while a request of the patient's is on its way (another tab) -----------------------


def _close(patient):
    return lambda: services.close_patient_account(patient, actor=patient.user)


def _nothing_live_left(patient) -> bool:
    """No waitlist place waiting or offered, no appointment requested or booked."""
    places = WaitlistEntry.objects.filter(patient=patient, state__in=["waiting", "offered"])
    return not places.exists() and not Appointment.objects.filter(ACTIVE, patient=patient).exists()


@pytest.fixture(params=["joins the waitlist", "sends a request", "takes an offer"])
def from_another_tab(request, clinic, patient, other_patient):
    """What the patient does in another tab as the account closes, ready to run."""
    user = patient.user
    if request.param == "joins the waitlist":
        return lambda: joined_waitlist(clinic, patient, actor=user)
    if request.param == "sends a request":
        hold = a_placed_hold(clinic, patient, next_weekday(clinic.location, 1, 10))
        return lambda: services.request_appointment(hold=hold, actor=user)
    # The patient waits for an assessment; next Tuesday at 10:00 frees up and is offered.
    joined_waitlist(clinic, patient)
    freed = an_appointment(clinic, other_patient, next_weekday(clinic.location, 1, 10))
    services.cancel_appointment(freed, by="patient", actor=None, reason="Unwell")
    offered = WaitlistOffer.objects.get(entry__patient=patient)
    return lambda: services.accept_offer(offered, actor=user)


@pytest.mark.django_db(transaction=True)
def test_what_arrives_while_the_account_closes_is_refused(patient, from_another_tab):
    closed, arriving, waited = first_holds_its_lock(
        _close(patient),
        from_another_tab,
        won="done",
        lost=(services.AccountClosed, "refused"),
    )
    assert (closed, waited) == ("done", True), arriving
    assert arriving.startswith("refused: This account has been closed"), arriving
    assert _nothing_live_left(patient)


@pytest.mark.django_db(transaction=True)
def test_what_was_done_just_before_the_closing_is_undone_by_it(patient, from_another_tab):
    done, closed, waited = first_holds_its_lock(
        from_another_tab,
        _close(patient),
        won="done",
        lost=(services.BookingError, "refused"),
    )
    assert (done, closed, waited) == ("done", "done", True)
    assert _nothing_live_left(patient)


def test_the_desk_still_books_for_a_patient_whose_account_is_closed(clinic, patient, front_desk):
    """By phone: the desk's actions are not the patient's online ones."""
    services.close_patient_account(patient, actor=patient.user)
    entry = joined_waitlist(clinic, patient, actor=front_desk)
    assert entry.state == WaitlistEntry.State.WAITING


def test_an_offer_to_a_place_the_desk_made_after_the_closing_is_emailed(
    clinic, patient, other_patient, front_desk, time_machine
):
    """The patient phoned, and the desk put them on the waitlist: without a login, the offer's
    email (with the clinic's number) is the only way they hear of a time held for them."""
    services.close_patient_account(patient, actor=patient.user)
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=5), tick=True)
    joined_waitlist(clinic, patient, actor=front_desk)
    freed = an_appointment(clinic, other_patient, next_weekday(clinic.location, 1, 10))
    services.cancel_appointment(freed, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get(entry__patient=patient)
    mail.outbox.clear()
    notifications.send_due(worker="w1", now=timezone.now() + dt.timedelta(minutes=1))
    assert offer.notifications.get().state == Notification.State.SENT
    assert [patient.email] in [m.to for m in mail.outbox]


def test_closing_twice_keeps_the_first_closing_time(patient, time_machine):
    services.close_patient_account(patient, actor=patient.user)
    patient.refresh_from_db()
    first = patient.account_closed_at
    time_machine.move_to(timezone.now() + dt.timedelta(minutes=5), tick=True)
    services.close_patient_account(patient, actor=None)
    patient.refresh_from_db()
    assert patient.account_closed_at == first
