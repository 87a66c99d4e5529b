"""`python manage.py send_notifications`: once (cron) or as a loop (systemd)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management.base import CommandError

from booking.models import Notification
from tests.conftest import command_help, command_output

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    return command_output("send_notifications", *args)


def test_it_has_a_help_text_saying_how_it_is_run():
    help_text = command_help("send_notifications")
    assert "SKIP LOCKED" in help_text and "--loop" in help_text


def test_run_once_it_sends_what_is_due_and_says_so(book, patient):
    book(patient)
    output = _run()
    assert "Done: sent 1, retrying 0, failed 0, skipped 0." in output
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(state=Notification.State.SENT).count() == 1
    assert "Done: sent 0" in _run()


def test_small_batches_still_send_everything_due(book, patient, clinic):
    from tests.booking.conftest import next_weekday
    from tests.factories import PatientFactory

    for day in range(3):
        book(PatientFactory(), next_weekday(clinic.location, day, 10))
    assert "Done: sent 3" in _run("--batch", "1")


@pytest.mark.django_db(transaction=True)
def test_as_a_loop_it_keeps_going_until_told_to_stop(location, practitioner, patient):
    from tests.booking.conftest import next_weekday
    from tests.booking.factories import a_booking, a_clinic
    from tests.factories import UserFactory

    clinic = a_clinic(location=location, practitioner=practitioner)
    a_booking(
        clinic,
        next_weekday(location, 1, 10),
        patient=patient,
        actor=UserFactory(role="front_desk"),
    )
    output = _run("--loop", "--interval", "0", "--rounds", "2")
    assert "Sending notifications as" in output and "Done: sent 1" in output


def test_in_development_the_console_backend_prints_the_emails(book, patient, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    book(patient)
    _run()
    printed = capsys.readouterr().out
    assert "Subject: Confirmed: Initial assessment" in printed
    assert "BEGIN:VCALENDAR" in printed and "METHOD:REQUEST" in printed


@pytest.mark.parametrize("args", [["--batch", "0"], ["--interval", "-1"], ["--rounds", "-2"]])
def test_it_refuses_nonsense_options(args):
    with pytest.raises(CommandError):
        _run(*args)


def test_each_round_passes_lapsed_waitlist_offers_to_the_next_patient(
    clinic, patient, other_patient
):
    import datetime as dt

    from booking import services
    from booking.models import WaitlistOffer
    from tests.booking.conftest import next_weekday
    from tests.booking.factories import a_booking, joined_waitlist

    booked = a_booking(clinic, next_weekday(clinic.location, 1, 10))
    for waiting in (patient, other_patient):
        joined_waitlist(clinic, waiting)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    WaitlistOffer.objects.update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    output = _run()
    assert "1 waitlist offer(s) expired and passed on." in output
    assert WaitlistOffer.objects.get(state="open").entry.patient == other_patient


# transaction=True: between rounds the loop closes old connections, the test's included.
@pytest.mark.django_db(transaction=True)
def test_as_a_loop_it_waits_the_interval_between_rounds_and_stops_after_the_rounds_asked(
    monkeypatch,
):
    from types import SimpleNamespace

    from booking import notifications
    from booking.management.commands import send_notifications

    rounds, slept = [], []
    send_due = notifications.send_due

    def counted(**kwargs):
        rounds.append(kwargs)
        return send_due(**kwargs)

    monkeypatch.setattr(notifications, "send_due", counted)
    monkeypatch.setattr(send_notifications, "time", SimpleNamespace(sleep=slept.append))
    output = _run("--loop", "--interval", "2", "--rounds", "3")
    assert len(rounds) == 3
    # Two waits of 2 s between three rounds, in half-second steps so a stop is heard quickly.
    assert sum(slept) == 4.0 and max(slept) == 0.5
    assert "(every 2 s)" in output and "Done: sent 0" in output


def test_each_round_folds_the_dashboards_tallies(book, patient):
    """A booking appends tally entries for the results dashboard; a round of the worker folds
    them into one entry a combination (booking.reports.tallies)."""
    from booking.models import VisitReportRow, VisitReportTally

    book(patient)
    assert VisitReportTally.objects.filter(folded=False).exists()

    _run()

    assert not VisitReportTally.objects.filter(folded=False).exists()
    assert VisitReportTally.objects.get().rows_counted == VisitReportRow.objects.count() == 1
