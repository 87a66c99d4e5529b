"""A no-show or a check-in set in error is taken back on the visit's day, saying why, and its
history keeps both steps. A no-show undone (the patient came late) checks the visit in and
credits a missed-visit fee already invoiced; it is refused once the freed time has gone to
someone else. A check-in undone (the wrong row, or the patient left before being seen) books the
visit again; it is refused once a signed note records the visit. On any other day each stays as
it is, with the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from booking import services
from booking.billing import payments
from booking.billing import world as billing_world
from booking.billing.ledger import balance_of
from booking.billing.models import CreditNote, Invoice, InvoiceKind
from booking.models import Notification, Status
from tests.booking.factories import a_course, a_course_record, an_appointment
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_the_location(clinic, time_machine):
    """`at_the_location(hour, minute, days=0)`: the clock moved to that time on the location's
    wall clock, on the suite's day there (plus `days`), whatever the suite's instant."""
    day = clinic.location.today()

    def move(hour: int, minute: int = 0, days: int = 0) -> dt.datetime:
        local = dt.datetime.combine(day + dt.timedelta(days=days), dt.time(hour, minute))
        instant = local.replace(tzinfo=clinic.location.zone)
        time_machine.move_to(instant, tick=False)
        return instant

    return move


@pytest.fixture
def missed(clinic, patient, front_desk, intake, at_the_location):
    """`patient`'s assessment at 10:00 on the location's clock, marked a no-show at 10:20."""
    intake.ready(patient)
    visit = an_appointment(clinic, patient, at_the_location(10))
    at_the_location(10, 20)
    return services.change_status(visit, to=Status.NO_SHOW, actor=front_desk)


@pytest.fixture
def charging(clinic):
    """The location bills an assessment 120.00 and every no-show 60.00 (a first one too)."""
    billing_world.terms(clinic.location, currency="CAD")
    billing_world.fee(clinic.location, clinic.assessment, "120.00")
    billing_world.cancellation_policy(
        clinic.location, no_show_fee="60.00", first_offence_waived=False
    )


@pytest.fixture
def charged(charging, missed):
    """`missed` at a location that charged it: the visit, and its missed-visit fee's invoice."""
    return missed, Invoice.objects.get(appointment=missed, kind=InvoiceKind.NO_SHOW)


def _undo(appointment, actor, reason="Arrived late: the bus broke down"):
    return services.undo_no_show(
        appointment, actor=actor, reason=reason, expected_version=appointment.version
    )


def test_the_visit_is_checked_in_with_both_steps_in_its_history(
    missed, front_desk, practitioner, at_the_location
):
    at_the_location(10, 35)
    _undo(missed, front_desk)
    missed.refresh_from_db()
    assert missed.status == Status.CHECKED_IN
    assert [(e.from_status, e.to_status, e.reason) for e in missed.events.order_by("id")] == [
        ("confirmed", "no_show", ""),
        ("no_show", "checked_in", "No-show undone: Arrived late: the bus broke down"),
    ]
    assert missed.events.order_by("id").last().details == {"undoes": "no_show"}
    # The visit goes on as any checked-in one.
    done = services.change_status(missed, to=Status.COMPLETED, actor=practitioner.user)
    assert done.status == Status.COMPLETED


def test_late_on_the_visits_day_on_the_locations_clock_it_may_still_be_undone(
    missed, front_desk, at_the_location
):
    # 23:50 in Toronto is already the next day in UTC.
    at_the_location(23, 50)
    assert _undo(missed, front_desk).status == Status.CHECKED_IN


def test_the_next_day_it_stays_a_no_show(missed, front_desk, at_the_location):
    at_the_location(0, 5, days=1)
    with pytest.raises(services.TransitionRefused, match="only on the day of the visit"):
        _undo(missed, front_desk)
    missed.refresh_from_db()
    assert (missed.status, missed.events.count()) == (Status.NO_SHOW, 1)


def test_it_is_refused_once_the_time_has_gone_to_someone_else(
    clinic, missed, front_desk, at_the_location
):
    # The no-show freed the practitioner's time; a walk-in took it.
    an_appointment(clinic, PatientFactory(), missed.starts_at, status=Status.CHECKED_IN)
    at_the_location(10, 40)
    with pytest.raises(services.SlotTaken):
        _undo(missed, front_desk)
    missed.refresh_from_db()
    assert (missed.status, missed.events.count()) == (Status.NO_SHOW, 1)


def test_it_is_refused_once_the_missed_session_of_a_course_is_booked_again(
    clinic, patient, front_desk, intake, at_the_location
):
    intake.ready(patient)
    course = a_course_record(patient, clinic.practitioner)
    session = dict(service=clinic.needling, course=course, session_number=3)
    missed = an_appointment(clinic, patient, at_the_location(10), **session)
    at_the_location(10, 40)
    missed = services.change_status(missed, to=Status.NO_SHOW, actor=front_desk)
    an_appointment(clinic, patient, missed.starts_at + dt.timedelta(days=2), **session)
    with pytest.raises(services.SlotTaken, match="session of the course is already booked"):
        _undo(missed, front_desk)
    missed.refresh_from_db()
    assert missed.status == Status.NO_SHOW


def test_only_a_no_show_is_undone_and_only_with_a_reason(
    clinic, patient, missed, front_desk, at_the_location
):
    with pytest.raises(services.TransitionRefused, match="Say why a no-show was wrong"):
        _undo(missed, front_desk, reason="  \n ")
    at_the_location(11, 30)
    confirmed = an_appointment(clinic, patient, at_the_location(11))
    with pytest.raises(services.TransitionRefused, match="This appointment is confirmed"):
        _undo(confirmed, front_desk)


def test_it_needs_the_current_consent_as_any_check_in(missed, front_desk, intake):
    intake.record(missed.patient, submitted=True, consent_current=False)
    with pytest.raises(services.ConsentNeeded):
        _undo(missed, front_desk)
    missed.refresh_from_db()
    assert missed.status == Status.NO_SHOW


def test_an_undo_from_an_old_page_is_refused(missed, front_desk):
    with pytest.raises(services.StaleAppointment):
        services.undo_no_show(missed, actor=front_desk, reason="Late", expected_version=1)


def test_the_missed_visit_fee_is_credited_and_the_visit_invoiced_as_usual(
    charged, front_desk, practitioner, at_the_location
):
    visit, fee = charged
    at_the_location(10, 30)
    _undo(visit, front_desk)
    credit = CreditNote.objects.get(invoice=fee)
    assert credit.amount == Decimal("60.00") and credit.reason.startswith("No-show undone:")
    assert balance_of(fee).balance == Decimal("0.00")
    services.change_status(visit, to=Status.COMPLETED, actor=practitioner.user)
    assert Invoice.objects.get(appointment=visit, kind=InvoiceKind.VISIT).total == Decimal("120.00")


def test_a_visit_missed_after_all_once_its_no_show_was_undone_is_charged_again(charged, front_desk):
    # The desk undid the wrong row's no-show, then put it right: the patient did miss the visit.
    visit, _ = charged
    visit = _undo(visit, front_desk, reason="Wrong row")
    visit = services.undo_check_in(visit, actor=front_desk, reason="Wrong row")
    visit = services.change_status(visit, to=Status.NO_SHOW, actor=front_desk)
    first, again = Invoice.objects.filter(appointment=visit, kind=InvoiceKind.NO_SHOW).order_by(
        "id"
    )
    assert (balance_of(first).balance, balance_of(again).balance) == (Decimal("0"), Decimal("60"))
    # Undone once more, only the fee still standing is credited.
    _undo(visit, front_desk, reason="Came at 10:40 after all")
    assert balance_of(again).balance == Decimal("0.00")
    assert CreditNote.objects.filter(invoice=first).count() == 1


def test_the_course_questionnaires_follow_the_last_session_once_its_no_show_is_undone(
    clinic, patient, front_desk, practitioner, intake, at_the_location
):
    intake.ready(patient)
    three_weeks_ago = at_the_location(10) - dt.timedelta(weeks=3)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED] * 3 + [Status.CONFIRMED],
        first_start=three_weeks_ago,
    )
    last = course.appointments.get(session_number=4)
    at_the_location(10, 20)
    # Missed, the last session ended the course at session 3: its questionnaires were asked for.
    last = services.change_status(last, to=Status.NO_SHOW, actor=front_desk)
    surveys = Notification.objects.filter(kind=Notification.Kind.OUTCOME_SURVEY)
    assert {s.appointment_id for s in surveys} == {course.appointments.get(session_number=3).pk}
    at_the_location(10, 25)
    last = _undo(last, front_desk)
    # The course goes on: nothing goes out about session 3 as its end.
    assert not surveys.filter(state=Notification.State.PENDING).exists()
    at_the_location(10, 40)
    done = services.change_status(last, to=Status.COMPLETED, actor=practitioner.user)
    waiting = surveys.filter(state=Notification.State.PENDING).order_by("send_after")
    assert [(s.appointment_id, s.send_after - done.ends_at) for s in waiting] == [
        (done.pk, dt.timedelta(days=1)),
        (done.pk, dt.timedelta(weeks=4)),
        (done.pk, dt.timedelta(weeks=12)),
    ]


# --- At the desk ---------------------------------------------------------------------------------


def test_the_desk_undoes_it_from_the_appointments_page_on_its_day(
    login, missed, front_desk, at_the_location
):
    client = login(front_desk)
    at_the_location(10, 30)
    page = client.get(reverse("booking:appointment_detail", args=[missed.pk])).content.decode()
    url = reverse("booking:desk_undo_no_show", args=[missed.pk])
    assert f'href="{url}"' in page
    assert "Arrived late" in client.get(url).content.decode()
    response = client.post(url, {"version": missed.version, "reason": "Came at 10:25"}, follow=True)
    assert "is checked in: the no-show is undone" in messages_said(response)
    missed.refresh_from_db()
    assert missed.status == Status.CHECKED_IN
    # The next day the button is gone, and the page says why it cannot be done.
    at_the_location(9, days=1)
    services_refusal = client.get(reverse("booking:appointment_detail", args=[missed.pk]))
    assert f'href="{url}"' not in services_refusal.content.decode()


def test_the_desk_is_told_that_a_missed_visit_fee_already_paid_is_the_patients(
    login, charged, front_desk, at_the_location
):
    visit, fee = charged
    payments.take_payment(fee, amount="60.00", method="card", actor=front_desk)
    at_the_location(10, 30)
    response = login(front_desk).post(
        reverse("booking:desk_undo_no_show", args=[visit.pk]),
        {"version": visit.version, "reason": "Came at 10:25"},
        follow=True,
    )
    said = messages_said(response)
    assert "is checked in: the no-show is undone" in said
    assert f"60.00 CAD paid on its missed-visit fee {fee.display_number}" in said


def test_the_desk_is_told_why_when_it_is_refused(login, missed, front_desk, at_the_location):
    at_the_location(8, days=1)
    url = reverse("booking:desk_undo_no_show", args=[missed.pk])
    page = login(front_desk).get(reverse("booking:appointment_detail", args=[missed.pk]))
    assert f'href="{url}"' not in page.content.decode()
    response = login(front_desk).post(
        url, {"version": missed.version, "reason": "Came"}, follow=True
    )
    assert "only on the day of the visit" in messages_said(response)
    missed.refresh_from_db()
    assert missed.status == Status.NO_SHOW


def test_the_desk_of_another_location_cannot_reach_it(login, missed, front_desk_elsewhere):
    url = reverse("booking:desk_undo_no_show", args=[missed.pk])
    client = login(front_desk_elsewhere)
    assert client.get(url).status_code == 404
    assert client.post(url, {"version": missed.version, "reason": "Came"}).status_code == 404
    missed.refresh_from_db()
    assert missed.status == Status.NO_SHOW


# --- A check-in -----------------------------------------------------------------------------------


@pytest.fixture
def checked_in(clinic, patient, front_desk, intake, at_the_location):
    """`patient`'s assessment at 10:00 on the location's clock, checked in at 9:50."""
    intake.ready(patient)
    visit = an_appointment(clinic, patient, at_the_location(10))
    at_the_location(9, 50)
    return services.check_in(visit, actor=front_desk)


def test_a_check_in_undone_books_the_visit_again_to_be_marked_as_usual(
    checked_in, front_desk, at_the_location
):
    at_the_location(10, 5)
    again = services.undo_check_in(
        checked_in, actor=front_desk, reason="Wrong row", expected_version=checked_in.version
    )
    assert again.status == Status.CONFIRMED
    last = again.events.order_by("id").last()
    assert (last.from_status, last.to_status, last.reason, last.details) == (
        "checked_in",
        "confirmed",
        "Check-in undone: Wrong row",
        {"undoes": "checked_in"},
    )
    # The patient left before being seen: the visit is now cancelled (or missed) as any.
    at_the_location(10, 30)
    services.change_status(again, to=Status.NO_SHOW, actor=front_desk)


def test_a_check_in_is_not_undone_on_another_day_nor_once_a_signed_note_records_it(
    login, checked_in, front_desk, at_the_location, monkeypatch
):
    at_the_location(0, 1, days=1)
    with pytest.raises(services.TransitionRefused, match="only on the day of the visit"):
        services.undo_check_in(checked_in, actor=front_desk, reason="Wrong row")
    at_the_location(10, 30)
    url = reverse("booking:desk_undo_check_in", args=[checked_in.pk])
    page = reverse("booking:appointment_detail", args=[checked_in.pk])
    assert f'href="{url}"' in login(front_desk).get(page).content.decode()
    monkeypatch.setattr("booking.gates.visit_is_recorded", lambda pk: pk == checked_in.pk)
    with pytest.raises(services.TransitionRefused, match="A signed note records this visit"):
        services.undo_check_in(checked_in, actor=front_desk, reason="Wrong row")
    # The appointment's page does not offer what would be refused.
    assert f'href="{url}"' not in login(front_desk).get(page).content.decode()
    checked_in.refresh_from_db()
    assert (checked_in.status, checked_in.events.count()) == (Status.CHECKED_IN, 1)


def test_the_desk_undoes_a_check_in_from_the_appointments_page(
    login, checked_in, front_desk, at_the_location
):
    client = login(front_desk)
    at_the_location(10)
    url = reverse("booking:desk_undo_check_in", args=[checked_in.pk])
    page = client.get(reverse("booking:appointment_detail", args=[checked_in.pk]))
    assert f'href="{url}"' in page.content.decode()
    assert 'value="Checked in by mistake"' in client.get(url).content.decode()
    response = client.post(url, {"version": checked_in.version, "reason": ""}, follow=True)
    assert "Say what happened." in response.content.decode()
    response = client.post(
        url, {"version": checked_in.version, "reason": "Left before being seen"}, follow=True
    )
    assert "is booked again: the check-in is undone" in messages_said(response)
    checked_in.refresh_from_db()
    assert checked_in.status == Status.CONFIRMED


def test_each_undo_page_offers_only_its_own_undo(login, checked_in, front_desk, at_the_location):
    # The check-in's page opened where the no-show's is (an old bookmark, a colleague's undo).
    at_the_location(10)
    page = login(front_desk).get(reverse("booking:desk_undo_no_show", args=[checked_in.pk]))
    text = page.content.decode()
    assert "This appointment is checked in: there is no no-show to undo." in text
    assert "<form" not in text.split("<main", 1)[1].split("</main>", 1)[0]
