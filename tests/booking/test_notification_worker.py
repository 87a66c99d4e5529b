"""The outbox worker sends each due message exactly once, even with several workers at once;
a killed worker's message is claimed again after its lease; failures are retried with
back-off and given up after a limit; refused and missing addresses fail at once, visibly."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from booking import notifications, services
from booking.models import Notification, NotificationPreference, Status
from booking.notifications import rendering
from tests.booking import email_backends
from tests.booking.conftest import next_weekday
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
State = Notification.State


@pytest.fixture(autouse=True)
def _fresh_backend_calls():
    email_backends.calls.clear()


@pytest.fixture
def confirmed(book, patient):
    """A confirmed appointment next week, its confirmation due now."""
    return book(patient)


def _confirmation(appointment) -> Notification:
    return appointment.notifications.get(kind=Kind.CONFIRMED)


def test_a_due_message_is_sent_once_and_its_outcome_recorded(confirmed, patient):
    now = timezone.now()
    outcome = notifications.send_due(worker="w1", now=now)
    assert (outcome.sent, outcome.claimed) == (1, 1)  # the reminders are not due yet
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [patient.email]
    row = _confirmation(confirmed)
    assert (row.state, row.sent_at, row.attempts, row.to_email) == (
        State.SENT,
        now,
        1,
        patient.email,
    )
    assert row.claimed_until is None
    assert notifications.send_due(worker="w1", now=now).claimed == 0
    assert len(mail.outbox) == 1


def test_reminders_go_out_when_due_and_not_before(confirmed):
    notifications.send_due(worker="w", now=timezone.now())
    mail.outbox.clear()
    day_before = confirmed.starts_at - dt.timedelta(hours=24)
    notifications.send_due(worker="w", now=day_before - dt.timedelta(minutes=1))
    reminders = [m.subject for m in mail.outbox if m.subject.startswith("Reminder")]
    assert len(reminders) == 1  # the 48-hour one
    notifications.send_due(worker="w", now=day_before)
    assert len([m for m in mail.outbox if m.subject.startswith("Reminder")]) == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_exactly_once(location, practitioner, settings):
    from tests.booking.factories import a_clinic, a_course

    settings.EMAIL_BACKEND = "tests.booking.email_backends.SlowRecordingBackend"
    clinic = a_clinic(location=location, practitioner=practitioner)
    course = a_course(
        clinic,
        PatientFactory(),
        statuses=[Status.COMPLETED],
        first_start=next_weekday(location, 1, 10),
    )
    appointment = course.appointments.get()
    rows = Notification.objects.bulk_create(
        Notification(
            kind=Kind.AFTER_CARE,
            appointment=appointment,
            patient=appointment.patient,
            location=location,
        )
        for _ in range(20)
    )
    barrier = threading.Barrier(2)
    errors: list[str] = []

    def work(name):
        try:
            barrier.wait()
            while notifications.send_due(worker=name, limit=2).claimed:
                pass
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{n}",), name=f"w{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = sorted(m.extra_headers["Message-ID"] for m in mail.outbox)
    assert len(ids) == 20 and len(set(ids)) == 20
    assert {m.extra_headers["X-Sent-By-Thread"] for m in mail.outbox} == {"w0", "w1"}
    sent = Notification.objects.filter(pk__in=[r.pk for r in rows])
    assert set(sent.values_list("state", "attempts")) == {(State.SENT, 1)}
    assert set(sent.values_list("claimed_by", flat=True)) == {"w0", "w1"}


def test_a_killed_workers_message_is_claimed_again_after_the_lease_and_sent_once(
    confirmed, settings
):
    settings.NOTIFICATIONS_LEASE_SECONDS = 300
    start = timezone.now()
    # The first worker claims the confirmation, then dies before sending it.
    ids, until = notifications.claim_due(worker="dead", limit=10, now=start)
    row = _confirmation(confirmed)
    assert ids == [row.pk] and until == start + dt.timedelta(seconds=300)
    # While the lease runs, nobody else takes it.
    assert (
        notifications.send_due(worker="alive", now=start + dt.timedelta(seconds=299)).claimed == 0
    )
    # Once it ran out, another worker sends it: one send, the second attempt.
    outcome = notifications.send_due(worker="alive", now=start + dt.timedelta(seconds=301))
    assert outcome.sent == 1 and len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.claimed_by) == (State.SENT, 2, "alive")
    # A worker that was only stalled, not killed, finds the row taken over and sends nothing.
    later = start + dt.timedelta(seconds=400)
    assert notifications.deliver(row.pk, worker="dead", now=later) == "skipped"
    assert len(mail.outbox) == 1


def test_the_message_id_is_the_same_at_every_attempt(confirmed):
    # Mail clients drop a second copy with the same Message-ID (after a crash mid-send).
    row = _confirmation(confirmed)
    now = timezone.now()
    first = notifications.build_message(row, to="a@example.org", now=now)
    again = notifications.build_message(row, to="a@example.org", now=now + dt.timedelta(hours=1))
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]


def test_a_server_that_is_down_is_retried_with_back_off_then_given_up(confirmed, settings):
    settings.EMAIL_BACKEND = "tests.booking.email_backends.DownBackend"
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    settings.NOTIFICATIONS_RETRY_SECONDS = 60
    row = _confirmation(confirmed)
    at = timezone.now()
    delays = []
    for attempt in range(1, 4):
        assert notifications.send_due(worker="w", now=at).retrying == 1
        row.refresh_from_db()
        assert (row.state, row.attempts) == (State.PENDING, attempt)
        assert "SMTPServerDisconnected" in row.last_error
        delays.append(row.send_after - at)
        # Not before its time...
        assert (
            notifications.send_due(worker="w", now=row.send_after - dt.timedelta(seconds=1)).claimed
            == 0
        )
        at = row.send_after
    assert delays == [dt.timedelta(minutes=1), dt.timedelta(minutes=2), dt.timedelta(minutes=4)]
    assert notifications.send_due(worker="w", now=at).failed == 1
    row.refresh_from_db()
    assert row.state == State.FAILED
    assert row.last_error.startswith("Gave up after 4 attempts.")
    assert email_backends.calls == ["down"] * 4
    assert notifications.send_due(worker="w", now=at + dt.timedelta(days=1)).claimed == 0


def test_a_message_waits_in_the_outbox_until_the_server_is_back(confirmed, settings):
    settings.EMAIL_BACKEND = "tests.booking.email_backends.DownBackend"
    now = timezone.now()
    notifications.send_due(worker="w", now=now)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    row = _confirmation(confirmed)
    row.refresh_from_db()
    assert notifications.send_due(worker="w", now=row.send_after).sent == 1
    row.refresh_from_db()
    assert (row.state, row.attempts, row.last_error) == (State.SENT, 2, "")


def test_the_day_an_address_was_refused_is_said_on_the_patients_clock(patient, location):
    # 22:00 in Toronto: the server's UTC date is already the next day.
    evening = dt.datetime.combine(location.today(), dt.time(22), tzinfo=location.zone)
    patient.preferred_location = location
    patient.save()
    notifications.record_bounce(patient.email, reason="550 User unknown", now=evening)
    said = notifications.address_problem(patient, patient.email)
    assert f"refused by the mail server on {evening.date().isoformat()} (550" in said


def test_a_refused_address_is_recorded_and_not_tried_again(
    confirmed, patient, settings, front_desk
):
    settings.EMAIL_BACKEND = "tests.booking.email_backends.RefusingBackend"
    now = timezone.now()
    assert notifications.send_due(worker="w", now=now).failed == 1
    row = _confirmation(confirmed)
    assert row.state == State.FAILED and "550" in row.last_error
    choice = NotificationPreference.objects.get(patient=patient)
    assert (choice.bounced_email, choice.bounced_at) == (patient.email, now)
    # The next message to the same address fails at once, without asking the server again.
    services.reschedule_appointment(
        confirmed, starts_at=confirmed.starts_at + dt.timedelta(hours=2), actor=front_desk
    )
    assert notifications.send_due(worker="w", now=timezone.now()).failed == 1
    moved = confirmed.notifications.get(kind=Kind.RESCHEDULED)
    assert moved.state == State.FAILED and "refused by the mail server" in moved.last_error
    assert email_backends.calls == ["refused"]
    # A corrected address is tried again.
    patient.email = "jordan.miles@example.net"
    patient.save()
    services.reschedule_appointment(
        confirmed, starts_at=confirmed.starts_at + dt.timedelta(hours=3), actor=front_desk
    )
    notifications.send_due(worker="w", now=timezone.now())
    assert email_backends.calls == ["refused", "refused"]


def test_a_temporary_refusal_is_retried(confirmed, settings):
    settings.EMAIL_BACKEND = "tests.booking.email_backends.GreylistingBackend"
    assert notifications.send_due(worker="w", now=timezone.now()).retrying == 1
    assert not NotificationPreference.objects.filter(bounced_email__gt="").exists()


@pytest.mark.parametrize(
    ("email", "problem"),
    [("", "No email address on file"), ("not-an-address", "is not a valid address")],
)
def test_a_missing_or_invalid_address_fails_at_once_for_staff_to_see(book, email, problem):
    patient = PatientFactory(user=None, email=email, first_name="Robert", last_name="Côté")
    appointment = book(patient)
    assert notifications.send_due(worker="w", now=timezone.now()).failed == 1
    row = _confirmation(appointment)
    assert row.state == State.FAILED and problem in row.last_error
    assert email_backends.calls == [] and mail.outbox == []


def test_the_intake_nudge_goes_only_if_the_questionnaire_is_still_missing(
    book, patient, monkeypatch
):
    appointment = book(patient)
    nudge = appointment.notifications.get(kind=Kind.INTAKE_MISSING)
    submitted = {}
    monkeypatch.setattr(
        "booking.gates.intake_submitted", lambda ids: {pk: submitted.get(pk, False) for pk in ids}
    )
    other = book(PatientFactory(), appointment.starts_at + dt.timedelta(hours=2))
    submitted[other.patient_id] = True
    other_nudge = other.notifications.get(kind=Kind.INTAKE_MISSING)
    notifications.send_due(worker="w", now=other_nudge.send_after)
    nudge.refresh_from_db()
    other_nudge.refresh_from_db()
    assert nudge.state == State.SENT
    assert (other_nudge.state, other_nudge.last_error) == (
        State.SKIPPED,
        "The questionnaire was submitted.",
    )


def test_the_intake_nudge_asks_intake_itself_whether_the_questionnaire_is_in(
    book, patient, other_patient
):
    from tests.intake.factories import submitted_intake

    waiting = book(patient).notifications.get(kind=Kind.INTAKE_MISSING)
    submitted_intake(other_patient)
    done = book(
        other_patient, waiting.appointment.starts_at + dt.timedelta(hours=2)
    ).notifications.get(kind=Kind.INTAKE_MISSING)
    notifications.send_due(worker="w", now=done.send_after)
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert waiting.state == State.SENT
    assert (done.state, done.last_error) == (State.SKIPPED, "The questionnaire was submitted.")


def test_a_reminder_due_after_the_appointment_started_is_dropped(confirmed):
    notifications.send_due(worker="w", now=timezone.now())
    # The worker was down for days: the reminders' time and the appointment have passed.
    outcome = notifications.send_due(worker="w", now=confirmed.starts_at + dt.timedelta(hours=1))
    assert (outcome.skipped, outcome.sent) == (3, 0)  # two reminders and the intake nudge
    reminders = confirmed.notifications.filter(kind=Kind.REMINDER)
    assert {r.last_error for r in reminders} == {
        "The appointment had already started when the reminder was due to go."
    }


def test_a_worker_near_the_end_of_its_lease_hands_the_rest_back(book, patient, clinic, settings):
    book(patient)
    book(PatientFactory(), next_weekday(clinic.location, 2, 10))
    # A lease shorter than one send's time-out: nothing may be started under it.
    settings.NOTIFICATIONS_LEASE_SECONDS = 5
    outcome = notifications.send_due(worker="w")
    assert (outcome.claimed, outcome.released, outcome.sent) == (2, 2, 0)
    assert set(
        Notification.objects.filter(kind=Kind.CONFIRMED).values_list("attempts", "claimed_until")
    ) == {(0, None)}


def test_a_message_that_cannot_be_rendered_is_retried_then_given_up_not_looped_on(
    confirmed, settings, monkeypatch
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2

    def broken(*args, **kwargs):
        raise ValueError("template bug")

    monkeypatch.setattr(rendering, "render_parts", broken)
    row = _confirmation(confirmed)
    assert notifications.send_due(worker="w", now=timezone.now()).retrying == 1
    row.refresh_from_db()
    assert "ValueError: template bug" in row.last_error
    assert notifications.send_due(worker="w", now=row.send_after).failed == 1
