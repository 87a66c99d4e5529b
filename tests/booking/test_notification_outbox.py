"""The booking services write their emails to the outbox in the same transaction as the change:
one message per event, nothing when the change is rolled back, and reminders scheduled as rows
that follow their appointment (created, moved, withdrawn)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking import notifications, services
from booking.forms import slot_choice_value
from booking.models import (
    LocationReminderPolicy,
    Notification,
    Status,
)
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_placed_hold, a_slot_hold, a_waitlist_entry
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
State = Notification.State


def _kinds(**filters) -> list[str]:
    return list(
        Notification.objects.filter(**filters).order_by("id").values_list("kind", flat=True)
    )


def _pending_reminders(appointment) -> dict[int, dt.datetime]:
    return dict(
        appointment.notifications.filter(kind=Kind.REMINDER, state=State.PENDING).values_list(
            "reminder_hours", "send_after"
        )
    )


def test_a_confirmed_booking_writes_its_confirmation_and_schedules_reminders(book, patient):
    appointment = book(patient)
    # Written in the order they fall due: now, 72 hours before (intake), 48 and 24 hours before.
    assert _kinds(appointment=appointment, state=State.PENDING) == [
        Kind.CONFIRMED,
        Kind.INTAKE_MISSING,
        Kind.REMINDER,
        Kind.REMINDER,
    ]
    assert _pending_reminders(appointment) == {
        48: appointment.starts_at - dt.timedelta(hours=48),
        24: appointment.starts_at - dt.timedelta(hours=24),
    }
    confirmation = appointment.notifications.get(kind=Kind.CONFIRMED)
    assert confirmation.to_email == patient.email
    assert confirmation.location == appointment.location


@pytest.mark.time_machine(dt.datetime(2028, 3, 1, 15, tzinfo=dt.UTC), tick=True)
def test_a_time_given_on_the_locations_clock_keeps_its_reminders(clinic, patient, book):
    # The same instant as a UTC time, with the location's offset: not a move, and 24 hours
    # before is 24 real hours even when the clocks change in between (Toronto, 12 March 2028).
    starts_at = dt.datetime(2028, 3, 13, 10, tzinfo=clinic.location.zone)
    appointment = book(patient, starts_at)
    assert _pending_reminders(appointment) == {
        48: dt.datetime(2028, 3, 11, 14, tzinfo=dt.UTC),  # 09:00 EST, before the change
        24: dt.datetime(2028, 3, 12, 14, tzinfo=dt.UTC),
    }
    notifications.send_due(worker="test", now=dt.datetime(2028, 3, 12, 14, tzinfo=dt.UTC))
    assert appointment.notifications.filter(kind=Kind.REMINDER, state=State.SENT).count() == 2


def test_a_rolled_back_booking_leaves_no_message(book, patient):
    with pytest.raises(RuntimeError), transaction.atomic():
        book(patient)
        assert Notification.objects.count() == 4
        raise RuntimeError("the surrounding work failed")
    assert Notification.objects.count() == 0


def test_a_course_that_fails_on_one_session_writes_nothing(clinic, patient, prescribe, front_desk):
    prescribe(patient, clinic.practitioner, sessions=4)
    first = next_weekday(clinic.location, 1, 10)
    choices = [
        services.SessionChoice(
            n + 1, clinic.location, clinic.practitioner, first + dt.timedelta(weeks=n)
        )
        for n in range(4)
    ]
    choices[3] = services.SessionChoice(
        4, clinic.location, clinic.practitioner, first.replace(hour=3)
    )
    with pytest.raises(services.BookingError):
        services.book_course(patient=patient, choices=choices, actor=front_desk)
    assert Notification.objects.count() == 0


def test_an_online_request_says_received_until_the_front_desk_confirms(clinic, patient, front_desk):
    hold = a_placed_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    appointment = services.request_appointment(hold=hold, actor=patient.user)
    # Requested: no reminders yet (the time is not confirmed), but the intake nudge is set.
    assert _kinds(appointment=appointment) == [Kind.REQUEST_RECEIVED, Kind.INTAKE_MISSING]
    services.change_status(appointment, to=Status.CONFIRMED, actor=front_desk)
    assert _kinds(appointment=appointment)[2:] == [Kind.CONFIRMED, Kind.REMINDER, Kind.REMINDER]


def test_a_location_that_confirms_automatically_sends_the_confirmation_only(clinic, patient):
    clinic.location.confirms_requests_automatically = True
    clinic.location.save()
    hold = a_placed_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    appointment = services.request_appointment(hold=hold, actor=patient.user)
    assert Kind.REQUEST_RECEIVED not in _kinds(appointment=appointment)
    assert _kinds(appointment=appointment)[0] == Kind.CONFIRMED


def test_moving_an_appointment_moves_its_reminders_and_says_where_from(book, patient, front_desk):
    appointment = book(patient)
    old_start = appointment.starts_at
    new_start = old_start + dt.timedelta(days=1, hours=2)
    services.reschedule_appointment(appointment, starts_at=new_start, actor=front_desk)
    assert _pending_reminders(appointment) == {
        48: new_start - dt.timedelta(hours=48),
        24: new_start - dt.timedelta(hours=24),
    }
    withdrawn = appointment.notifications.filter(kind=Kind.REMINDER, state=State.SKIPPED)
    assert withdrawn.count() == 2
    assert "moved" in withdrawn.first().last_error
    moved = appointment.notifications.get(kind=Kind.RESCHEDULED)
    assert dt.datetime.fromisoformat(moved.context["from_starts_at"]) == old_start
    assert moved.context["from_location"] == appointment.location.name


def test_moving_twice_before_the_email_goes_sends_one_message_from_the_first_time(
    book, patient, front_desk
):
    appointment = book(patient)
    original = appointment.starts_at
    for hours in (1, 2):
        services.reschedule_appointment(
            appointment, starts_at=original + dt.timedelta(hours=hours), actor=front_desk
        )
    waiting = appointment.notifications.filter(kind=Kind.RESCHEDULED, state=State.PENDING)
    assert waiting.count() == 1
    assert dt.datetime.fromisoformat(waiting.get().context["from_starts_at"]) == original


def test_a_move_at_the_desk_adds_one_email_and_re_plans_each_waiting_one_once(
    login, book, patient, front_desk, clinic
):
    # The most a location asks for: four reminders, and the intake nudge.
    LocationReminderPolicy.objects.create(location=clinic.location, hours=[168, 72, 48, 24])
    appointment = book(patient, next_weekday(clinic.location, 1, 10, weeks_ahead=2))
    client = login(front_desk)
    emails_before = len(notifications.emails(appointment))
    assert emails_before == 6  # confirmation, intake nudge, four reminders

    for day in (3, 4):  # moved, then moved again before the first email about it went
        target = next_weekday(clinic.location, day, 14, weeks_ahead=2)
        response = client.post(
            reverse("booking:desk_move", args=[appointment.pk]),
            {
                "version": appointment.version,
                "location": clinic.location.slug,
                "slot": slot_choice_value(clinic.practitioner.pk, target),
            },
            follow=True,
        )
        assert "Moved to" in messages_said(response)
        appointment.refresh_from_db()
        waiting = appointment.notifications.filter(state=State.PENDING)
        # One of each, for the new time: nothing piles up in what will be sent...
        assert sorted(waiting.values_list("kind", "reminder_hours")) == sorted(
            [(Kind.CONFIRMED, None), (Kind.RESCHEDULED, None), (Kind.INTAKE_MISSING, None)]
            + [(Kind.REMINDER, hours) for hours in (168, 72, 48, 24)]
        )
        assert {
            row.context["starts_at"]
            for row in waiting.filter(kind__in=notifications.SCHEDULED_KINDS)
        } == {notifications.start_as_scheduled(appointment)}
    # ...the outbox keeps what each move withdrew (5 rows each, and the first move's message)...
    assert appointment.notifications.filter(state=State.SKIPPED).count() == 11
    # ...and the appointment's page counts emails, not rows: the two moves added one.
    assert len(notifications.emails(appointment)) == emails_before + 1


def test_cancelling_withdraws_what_waits_and_writes_the_cancellation(book, patient, front_desk):
    appointment = book(patient)
    services.cancel_appointment(
        appointment, by="clinic", actor=front_desk, reason="Practitioner unwell"
    )
    assert _kinds(appointment=appointment, state=State.PENDING) == [Kind.CANCELLED]
    assert set(_kinds(appointment=appointment, state=State.SKIPPED)) == {
        Kind.CONFIRMED,
        Kind.REMINDER,
        Kind.INTAKE_MISSING,
    }


def test_declining_a_request_tells_the_patient_why(clinic, patient, front_desk, book):
    appointment = book(patient, status=Status.REQUESTED)
    services.decline_request(appointment, actor=front_desk, reason="Priya is away that week")
    declined = appointment.notifications.get(kind=Kind.DECLINED)
    assert declined.state == State.PENDING
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_by) == (Status.CANCELLED, "clinic")
    assert appointment.cancellation_reason == "Priya is away that week"


def test_only_a_request_can_be_declined(book, patient, front_desk):
    appointment = book(patient)
    with pytest.raises(services.TransitionRefused, match="Only a requested appointment"):
        services.decline_request(appointment, actor=front_desk, reason="No")


def test_a_patient_cancelling_writes_a_cancellation_not_a_decline(book, patient):
    appointment = book(patient, status=Status.REQUESTED)
    services.patient_cancel(appointment, actor=patient.user, reason="Feeling better")
    assert Kind.CANCELLED in _kinds(appointment=appointment)
    assert Kind.DECLINED not in _kinds(appointment=appointment)


def test_a_completed_needling_session_sends_after_care_and_an_assessment_does_not(
    clinic, patient, front_desk, book, book_course, intake
):
    intake.ready(patient)  # check-in needs the current consent
    needling = book_course(patient, 4).appointments.get(session_number=1)
    assessment = book(patient, next_weekday(clinic.location, 4, 10))
    for appointment in (needling, assessment):
        at = appointment.starts_at + dt.timedelta(minutes=5)
        services.change_status(appointment, to=Status.CHECKED_IN, actor=front_desk, now=at)
        services.change_status(appointment, to=Status.COMPLETED, actor=front_desk, now=at)
    assert Kind.AFTER_CARE in _kinds(appointment=needling)
    assert Kind.AFTER_CARE not in _kinds(appointment=assessment)


def test_a_booked_course_writes_one_message_and_reminders_for_every_session(patient, book_course):
    course = book_course(patient, sessions=4)
    assert _kinds(course=course) == [Kind.COURSE_BOOKED]
    assert Notification.objects.filter(kind=Kind.REMINDER, appointment__course=course).count() == 8
    # Needling sessions need no intake nudge, and no separate confirmations are written.
    assert not Notification.objects.filter(kind__in=[Kind.INTAKE_MISSING, Kind.CONFIRMED]).exists()


def test_a_booked_course_writes_its_messages_in_one_statement_as_schedule_would(
    patient, book_course
):
    with CaptureQueriesContext(connection) as captured:
        course = book_course(patient, sessions=6)
    inserts = [q for q in captured if q["sql"].startswith('INSERT INTO "booking_notification"')]
    assert len(inserts) == 1
    # The policy and the patient's choice are read once for the course, not once a session.
    policy_reads = [q for q in captured if 'FROM "booking_locationreminderpolicy"' in q["sql"]]
    choice_reads = [q for q in captured if 'FROM "booking_notificationpreference"' in q["sql"]]
    assert (len(policy_reads), len(choice_reads)) == (1, 1)
    # What was written is what `schedule` wants: scheduling each session again changes nothing.
    written = set(
        Notification.objects.filter(appointment__course=course).values_list("pk", "state")
    )
    for appointment in course.appointments.all():
        notifications.schedule(appointment, now=timezone.now())
    after = set(Notification.objects.filter(appointment__course=course).values_list("pk", "state"))
    assert after == written
    assert len(written) == 12


@pytest.mark.parametrize(
    "status, first", [(Status.CONFIRMED, Kind.CONFIRMED), (Status.REQUESTED, Kind.REQUEST_RECEIVED)]
)
def test_a_new_appointment_writes_its_messages_in_one_statement_as_schedule_would(
    book, patient, status, first
):
    with CaptureQueriesContext(connection) as captured:
        appointment = book(patient, status=status)
    inserts = [q for q in captured if q["sql"].startswith('INSERT INTO "booking_notification"')]
    assert len(inserts) == 1
    written = list(appointment.notifications.order_by("id").values_list("pk", "kind", "state"))
    assert written[0][1] == first
    notifications.schedule(appointment, now=timezone.now())
    assert list(appointment.notifications.order_by("id").values_list("pk", "kind", "state")) == (
        written
    )


def test_a_course_booked_for_a_patient_without_reminders_writes_none(patient, book_course):
    notifications.set_reminders(patient, wanted=False)
    course = book_course(patient, sessions=4)
    assert _kinds(course=course) == [Kind.COURSE_BOOKED]
    assert not Notification.objects.filter(appointment__course=course).exists()


def test_a_waitlist_offer_is_emailed_and_withdrawn_when_the_offer_ends(patient, freed_for):
    waiting = PatientFactory()
    _, offer = freed_for(waiting, patient)
    message = offer.notifications.get()
    assert (message.kind, message.patient, message.state) == (
        Kind.WAITLIST_OFFER,
        waiting,
        State.PENDING,
    )
    services.decline_offer(offer)
    message.refresh_from_db()
    assert message.state == State.SKIPPED


def test_accepting_an_offer_confirms_the_new_appointment(clinic, patient):
    hold = a_slot_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    entry = a_waitlist_entry(clinic, patient, weekdays=[2], earliest=dt.time(9), latest=dt.time(12))
    offer = entry.offers.create(hold=hold, expires_at=hold.expires_at)
    appointment = services.accept_offer(offer, actor=patient.user)
    assert _kinds(appointment=appointment)[0] == Kind.CONFIRMED


def test_reminders_booked_too_late_for_them_are_not_written(book, patient, clinic):
    appointment = book(patient)
    # Booked 30 hours ahead: the 48-hour reminder's time has passed; the 24-hour one is set.
    now = appointment.starts_at - dt.timedelta(hours=30)
    other = book(PatientFactory(), appointment.starts_at + dt.timedelta(hours=3), now=now)
    assert set(_pending_reminders(other)) == {24}


def test_a_patient_who_turns_reminders_off_gets_none_and_turning_them_on_brings_them_back(
    book, patient
):
    appointment = book(patient)
    notifications.set_reminders(patient, wanted=False)
    assert _pending_reminders(appointment) == {}
    skipped = appointment.notifications.filter(kind=Kind.REMINDER, state=State.SKIPPED)
    assert skipped.first().last_error == "The patient turned reminders off."
    # Confirmations still go, and new bookings get no reminders.
    assert appointment.notifications.get(kind=Kind.CONFIRMED).state == State.PENDING
    assert _pending_reminders(book(patient, appointment.starts_at + dt.timedelta(days=1))) == {}
    notifications.set_reminders(patient, wanted=True)
    assert set(_pending_reminders(appointment)) == {48, 24}


def test_a_location_policy_sets_the_reminders_and_re_plans_waiting_ones(book, patient, clinic):
    appointment = book(patient)
    policy = LocationReminderPolicy.objects.create(location=clinic.location, hours=[72, 2])
    notifications.reminder_policy_changed(clinic.location)
    assert set(_pending_reminders(appointment)) == {72, 2}
    policy.hours = []
    policy.save()
    notifications.reminder_policy_changed(clinic.location)
    assert _pending_reminders(appointment) == {}


def test_scheduling_again_changes_nothing(book, patient):
    appointment = book(patient)
    before = list(Notification.objects.values_list("id", "state", "send_after"))
    notifications.schedule(appointment, now=timezone.now())
    notifications.schedule(appointment, now=timezone.now() + dt.timedelta(minutes=5))
    assert list(Notification.objects.values_list("id", "state", "send_after")) == before


def test_the_database_allows_one_waiting_reminder_per_lead_time(book, patient):
    from django.db import IntegrityError

    appointment = book(patient)
    with pytest.raises(IntegrityError, match="notification_one_pending_reminder_per_lead_time"):
        Notification.objects.create(
            kind=Kind.REMINDER,
            appointment=appointment,
            patient=patient,
            location=appointment.location,
            reminder_hours=24,
        )


def test_the_database_refuses_a_policy_outside_one_hour_to_two_weeks(clinic):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError, match="reminder_policy_hours_at_most_336"):
        LocationReminderPolicy.objects.create(location=clinic.location, hours=[24, 400])
