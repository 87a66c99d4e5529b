"""A course paid ahead: one package invoice, each completed session drawn from it (no invoice of
its own), a cancelled session never drawn, and a course that ends early settled with its
arithmetic: unused sessions credited, what was paid beyond the sessions used given back or kept
in the patient's favour."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.billing import payments
from booking.billing.ledger import balance_of
from booking.billing.models import Invoice, InvoiceKind, SessionDrawdown
from booking.billing.packages import end_course_early, pay_course_ahead
from booking.models import Status
from tests.booking.factories import a_course, an_amended_plan, an_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(billed, patient):
    """Four weekly 30-minute sessions, the first three weeks ago, all checked in... as far as the
    test moves them; booked as confirmed."""
    first = timezone.now() - dt.timedelta(days=21)
    return a_course(billed, patient, statuses=[Status.CONFIRMED] * 4, first_start=first)


def _sessions(course):
    return list(course.appointments.order_by("session_number"))


def _complete(session, actor):
    services.change_status(session, to=Status.CHECKED_IN, actor=actor, now=session.starts_at)
    services.change_status(session, to=Status.COMPLETED, actor=actor, now=session.ends_at)


@pytest.fixture
def consent_ok(monkeypatch):
    monkeypatch.setattr("booking.gates.consent_is_current", lambda patient: True)


def _assert_unused_credited_and_given_back(package) -> None:
    """Two unused sessions of 95.00 credited off the package, and as much given back."""
    figures = balance_of(package)
    assert (figures.credited, figures.refunded, figures.balance) == (
        Decimal("190.00"),
        Decimal("190.00"),
        Decimal("0.00"),
    )


def test_a_paid_ahead_course_draws_each_completed_session_and_never_a_cancelled_one(
    course, front_desk, consent_ok
):
    package = pay_course_ahead(course, actor=front_desk, amount="380.00", method="card")
    assert (package.kind, package.total, package.lines.get().quantity) == (
        InvoiceKind.COURSE_PACKAGE,
        Decimal("380.00"),
        4,
    )
    one, two, three, four = _sessions(course)
    for session in (one, two, three):
        _complete(session, front_desk)
    services.cancel_appointment(
        four, by="patient", actor=front_desk, reason="Feeling better", offer_to_waitlist=False
    )
    assert Invoice.objects.filter(kind=InvoiceKind.VISIT).count() == 0
    assert list(SessionDrawdown.objects.values_list("amount", flat=True)) == [Decimal("95.00")] * 3
    figures = balance_of(package)
    assert (figures.drawn, figures.balance) == (Decimal("285.00"), Decimal("0.00"))


def test_a_course_ended_early_is_refunded_with_the_arithmetic_shown(course, front_desk, consent_ok):
    package = pay_course_ahead(course, actor=front_desk, amount="380.00", method="card")
    one, two, three, four = _sessions(course)
    _complete(one, front_desk)
    _complete(two, front_desk)
    with pytest.raises(payments.PaymentRefused, match="still booked"):
        end_course_early(course, actor=front_desk, refund_by="card", reason="Pain gone")
    for session in (three, four):
        services.cancel_appointment(
            session, by="patient", actor=front_desk, reason="Better", offer_to_waitlist=False
        )
    settled = end_course_early(course, actor=front_desk, refund_by="card", reason="Pain gone")
    assert settled.lines("CAD") == [
        "Package: 4 sessions, 380.00 CAD",
        "Used: 2 sessions, 190.00 CAD",
        "Unused: 2 sessions, 190.00 CAD (credit note)",
        "Paid: 380.00 CAD",
        "Paid beyond the sessions used: 380.00 - 190.00 = 190.00 CAD",
        "Given back: 190.00 CAD",
    ]
    _assert_unused_credited_and_given_back(package)


def test_a_course_ended_early_can_leave_the_money_in_the_patients_favour(
    course, front_desk, consent_ok
):
    package = pay_course_ahead(course, actor=front_desk, amount="380.00", method="cash")
    one, *rest = _sessions(course)
    _complete(one, front_desk)
    for session in rest:
        services.cancel_appointment(
            session, by="clinic", actor=front_desk, reason="Moved away", offer_to_waitlist=False
        )
    settled = end_course_early(course, actor=front_desk, reason="Moved away")
    assert settled.lines("CAD")[-1] == "Kept in the patient's favour: 285.00 CAD"
    assert balance_of(package).balance == Decimal("-285.00")


def test_shares_that_do_not_divide_evenly_leave_the_rounding_to_the_last_session(
    billed, patient, front_desk, consent_ok
):
    """Six sessions at 33.33 with 13% tax: 199.98 + 26.00 = 225.98, which six does not divide."""
    from booking.billing import world as billing_world

    billing_world.terms(
        billed.location, currency="CAD", tax_exempt=False, tax_rate="0.13", tax_label="HST 13%"
    )
    billing_world.fee(billed.location, billed.needling, "33.33", minutes=20)
    first = timezone.now() - dt.timedelta(days=30)
    course = a_course(
        billed,
        patient,
        statuses=[Status.CONFIRMED] * 6,
        first_start=first,
        minutes=20,
        interval=dt.timedelta(days=5),
    )
    package = pay_course_ahead(course, actor=front_desk)
    assert (package.subtotal, package.tax, package.total) == (
        Decimal("199.98"),
        Decimal("26.00"),
        Decimal("225.98"),
    )
    for session in _sessions(course):
        _complete(session, front_desk)
    shares = list(SessionDrawdown.objects.order_by("id").values_list("amount", flat=True))
    assert shares == [Decimal("37.66")] * 5 + [Decimal("37.68")]
    assert sum(shares) == package.total


def test_the_course_page_offers_the_package_and_the_desk_pays_it(course, front_desk, login):
    browser = login(front_desk)
    page = browser.get(reverse("booking:course_detail", args=[course.pk])).content.decode()
    assert "Invoice the course as a package" in page
    response = browser.post(
        reverse("billing:course_pay_ahead", args=[course.pk]),
        {"amount": "100.00", "method": "e_transfer"},
        follow=True,
    )
    package = Invoice.objects.get(course=course, kind=InvoiceKind.COURSE_PACKAGE)
    assert f"invoiced as a package: {package.display_number}" in response.content.decode()
    assert balance_of(package).balance == Decimal("280.00")
    again = browser.post(reverse("billing:course_pay_ahead", args=[course.pk]), follow=True)
    assert "already paid ahead" in again.content.decode()


def test_checking_out_a_session_of_a_paid_course_draws_it_from_the_package(
    course, front_desk, login, consent_ok
):
    pay_course_ahead(course, actor=front_desk, amount="380.00", method="card")
    session = _sessions(course)[0]
    services.change_status(session, to=Status.CHECKED_IN, actor=front_desk, now=session.starts_at)
    session.refresh_from_db()
    browser = login(front_desk)
    page = browser.get(reverse("booking:appointment_detail", args=[session.pk])).content.decode()
    assert (
        "drawn from the course&#x27;s package" in page or "drawn from the course's package" in page
    )
    response = browser.post(
        reverse("billing:appointment_checkout", args=[session.pk]),
        {"version": session.version},
        follow=True,
    )
    assert "session is drawn from the course" in response.content.decode()
    assert SessionDrawdown.objects.filter(appointment=session).exists()
    assert not Invoice.objects.filter(appointment=session).exists()


def _paid_ahead_two_seen_the_rest_cancelled(course, front_desk):
    """The four sessions paid ahead by card (380.00), two seen, two cancelled: the package."""
    package = pay_course_ahead(course, actor=front_desk, amount="380.00", method="card")
    one, two, *rest = _sessions(course)
    _complete(one, front_desk)
    _complete(two, front_desk)
    for session in rest:
        services.cancel_appointment(
            session, by="patient", actor=front_desk, reason="Better", offer_to_waitlist=False
        )
    return package


@pytest.mark.django_db(transaction=True)
def test_ending_a_course_twice_at_once_credits_and_refunds_it_once(course, front_desk, consent_ok):
    """A double click (or two desks) on "End the course early": the second waits for the first,
    then finds nothing more to credit or give back."""
    from tests.booking.races import at_once

    package = _paid_ahead_two_seen_the_rest_cancelled(course, front_desk)
    at_once(
        [lambda: end_course_early(course, actor=front_desk, refund_by="card", reason="Pain gone")]
        * 2,
        won="ended",
        lost=(payments.PaymentRefused, "refused"),
    )
    _assert_unused_credited_and_given_back(package)


def _session_three_booked_again_and_checked_in(course, billed, patient):
    """The course's third session, cancelled, booked again two hours ago and checked in."""
    return an_appointment(
        billed,
        patient,
        timezone.now() - dt.timedelta(hours=2),
        service=billed.needling,
        course=course,
        session_number=3,
        status=Status.CHECKED_IN,
    )


def test_a_session_booked_again_after_the_course_ended_early_is_invoiced_as_a_visit(
    course, billed, patient, front_desk, consent_ok
):
    """The unused sessions were credited off the package (and what was paid for them given
    back): a session seen after that draws nothing from it, or it would be free."""
    package = _paid_ahead_two_seen_the_rest_cancelled(course, front_desk)
    end_course_early(course, actor=front_desk, refund_by="card", reason="Pain gone")
    again = _session_three_booked_again_and_checked_in(course, billed, patient)
    services.change_status(again, to=Status.COMPLETED, actor=front_desk)
    assert not SessionDrawdown.objects.filter(appointment=again).exists()
    visit = Invoice.objects.get(appointment=again)
    assert (visit.kind, visit.total) == (InvoiceKind.VISIT, Decimal("95.00"))
    figures = balance_of(package)
    assert (figures.drawn, figures.credited, figures.balance) == (
        Decimal("190.00"),
        Decimal("190.00"),
        Decimal("0.00"),
    )
    assert package.events.filter(kind="settled", reason="Pain gone").exists()


def test_the_desk_of_another_location_cannot_invoice_or_settle_the_courses_package(
    course, patient, front_desk, front_desk_elsewhere, other_location, login, consent_ok
):
    """The patient is registered at both locations, so both desks see the course; its package
    is Leaside's (its first session's), and only Leaside's desk invoices it and gives money back
    from it (the other desk cannot even open the invoice)."""
    patient.locations.add(other_location)
    browser = login(front_desk_elsewhere)
    pay_ahead = reverse("billing:course_pay_ahead", args=[course.pk])
    assert browser.post(pay_ahead, {"amount": "380.00", "method": "cash"}).status_code == 403
    assert not Invoice.objects.filter(course=course).exists()
    package = pay_course_ahead(course, actor=front_desk, amount="380.00", method="card")
    one, *rest = _sessions(course)
    _complete(one, front_desk)
    for session in rest:
        services.cancel_appointment(
            session, by="patient", actor=front_desk, reason="Better", offer_to_waitlist=False
        )
    page = browser.get(reverse("booking:course_detail", args=[course.pk])).content.decode()
    assert package.display_number not in page and "Invoice the course" not in page
    end_early = reverse("billing:course_end_early", args=[course.pk])
    response = browser.post(end_early, {"reason": "Pain gone", "refund_by": "cash"})
    assert response.status_code == 403
    figures = balance_of(package)
    assert (figures.credited, figures.refunded) == (Decimal("0.00"), Decimal("0.00"))


def test_a_course_with_sessions_already_invoiced_is_not_paid_ahead(course, front_desk, consent_ok):
    """Two sessions were seen and invoiced as visits: a package of all four would bill them a
    second time (570.00 for four sessions of 95.00)."""
    one, two, *_ = _sessions(course)
    _complete(one, front_desk)
    _complete(two, front_desk)
    with pytest.raises(payments.PaymentRefused, match="already seen and invoiced"):
        pay_course_ahead(course, actor=front_desk, amount="190.00", method="card")
    assert not Invoice.objects.filter(kind=InvoiceKind.COURSE_PACKAGE).exists()
    assert Invoice.objects.filter(kind=InvoiceKind.VISIT).count() == 2


def test_an_amount_typed_at_the_check_out_of_a_paid_ahead_session_is_not_dropped(
    course, front_desk, login, consent_ok
):
    """The session has no invoice of its own (it is drawn from the package): 50.00 typed in is
    refused with the reason, the visit stays checked in, rather than the money vanishing."""
    package = pay_course_ahead(course, actor=front_desk)
    session = _sessions(course)[0]
    services.change_status(session, to=Status.CHECKED_IN, actor=front_desk, now=session.starts_at)
    session.refresh_from_db()
    response = login(front_desk).post(
        reverse("billing:appointment_checkout", args=[session.pk]),
        {"version": session.version, "amount": "50.00", "method": "cash"},
        follow=True,
    )
    assert f"drawn from the course's package {package.display_number}" in " ".join(
        str(m) for m in response.context["messages"]
    )
    session.refresh_from_db()
    assert session.status == Status.CHECKED_IN
    assert not SessionDrawdown.objects.exists()
    assert balance_of(package).paid == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("year_begun", [True, False], ids=["any-day", "first-invoice-of-year"])
def test_a_course_paid_ahead_while_another_patient_is_checked_out_at_the_desk(
    course, billed, front_desk, consent_ok, year_begun
):
    """Two desks at one location: one invoices a course as a package while the other checks
    out another patient. The check-out waits for the package's number, then takes the next,
    instead of one of them failing with a deadlock (a status change locked the location's row,
    which the package's invoice needs at its commit)."""
    from booking.billing.models import NumberCounter
    from tests.booking.factories import an_appointment
    from tests.booking.races import first_holds_its_lock
    from tests.factories import PatientFactory

    if year_begun:
        NumberCounter.objects.create(
            location=billed.location, year=billed.location.today().year, series="invoice"
        )

    other = an_appointment(
        billed,
        PatientFactory(locations=[billed.location]),
        timezone.now() - dt.timedelta(hours=2),
        status=Status.CHECKED_IN,
    )
    first, second, waited = first_holds_its_lock(
        lambda: pay_course_ahead(course, actor=front_desk),
        lambda: services.change_status(other, to=Status.COMPLETED, actor=front_desk),
        won="done",
        lost=(payments.PaymentRefused, "refused"),
    )
    assert (first, second, waited) == ("done", "done", True)
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2]


@pytest.mark.django_db(transaction=True)
def test_a_session_checked_out_while_the_course_is_paid_ahead_is_billed_once(
    course, front_desk, consent_ok
):
    """One desk completes session 1 (invoicing it as a visit: there is no package yet) while
    another invoices the course as a package: the second waits for the first, then sees the
    visit's invoice and refuses, instead of billing session 1 in both."""
    from tests.booking.races import first_holds_its_lock

    session = _sessions(course)[0]
    services.change_status(session, to=Status.CHECKED_IN, actor=front_desk, now=session.starts_at)
    first, second, waited = first_holds_its_lock(
        lambda: services.change_status(
            session, to=Status.COMPLETED, actor=front_desk, now=session.ends_at
        ),
        lambda: pay_course_ahead(course, actor=front_desk),
        won="done",
        lost=(payments.PaymentRefused, "refused"),
    )
    assert first == "done" and second.startswith("refused: Sessions of this course were already")
    assert waited
    assert list(Invoice.objects.values_list("kind", flat=True)) == [InvoiceKind.VISIT]


@pytest.mark.django_db(transaction=True)
def test_a_session_checked_out_while_its_course_is_being_paid_ahead_draws_from_the_package(
    course, front_desk, consent_ok
):
    """The other order: one desk invoices the course as a package while another completes
    session 1. The completion waits for the package to be written, then draws from it, instead
    of invoicing the session as a visit as well (billed twice)."""
    from tests.booking.races import first_holds_its_lock

    session = _sessions(course)[0]
    services.change_status(session, to=Status.CHECKED_IN, actor=front_desk, now=session.starts_at)
    first, second, waited = first_holds_its_lock(
        lambda: pay_course_ahead(course, actor=front_desk),
        lambda: services.change_status(
            session, to=Status.COMPLETED, actor=front_desk, now=session.ends_at
        ),
        won="done",
        lost=(payments.PaymentRefused, "refused"),
    )
    assert (first, second, waited) == ("done", "done", True)
    assert list(Invoice.objects.values_list("kind", flat=True)) == [InvoiceKind.COURSE_PACKAGE]
    assert SessionDrawdown.objects.filter(appointment=session).exists()


def test_a_course_paid_ahead_is_not_extended_by_a_plan_amended_to_more_sessions(course, front_desk):
    """Its price was for the sessions it planned: the sessions a plan adds later are booked and
    invoiced as visits of their own, and the package's shares stay as they were paid."""
    pay_course_ahead(course, actor=front_desk)
    an_amended_plan(course, reason="Two more sessions", planned_sessions=6)
    with pytest.raises(services.CourseNotAllowed, match="paid ahead as a package of 4 sessions"):
        services.extend_course_to_its_plan(course)
    course.refresh_from_db()
    assert course.sessions_planned == 4


def test_a_course_ended_early_is_settled_once(course, front_desk, login, consent_ok):
    """Settled, the package is closed: the course page no longer offers to end the course (with
    an "if it ended now" that no longer means anything), and ending it again is refused rather
    than writing a second "course ended early" in the package's history."""
    package = _paid_ahead_two_seen_the_rest_cancelled(course, front_desk)
    end_course_early(course, actor=front_desk, reason="Pain gone")
    with pytest.raises(payments.PaymentRefused, match="already ended early"):
        end_course_early(course, actor=front_desk, refund_by="card", reason="Asked again")
    browser = login(front_desk)
    page = browser.get(reverse("booking:course_detail", args=[course.pk])).content.decode()
    assert "End the course and settle the package" not in page
    assert "ended early" in page
    response = browser.post(
        reverse("billing:course_end_early", args=[course.pk]),
        {"reason": "Clicked again", "refund_by": ""},
        follow=True,
    )
    assert "already ended early" in response.content.decode()
    assert package.events.filter(kind="settled").count() == 1
    figures = balance_of(package)
    assert (figures.credited, figures.refunded, figures.balance) == (
        Decimal("190.00"),
        Decimal("0.00"),
        Decimal("-190.00"),
    )


@pytest.mark.django_db(transaction=True)
def test_a_course_ended_while_the_package_is_being_refunded_gives_back_what_is_left(
    course, front_desk, consent_ok
):
    """One desk gives 100.00 back on the package's page while another ends the course early:
    the settlement waits for that refund and gives back only what is still paid beyond the two
    sessions used (90.00), not the 190.00 it would have given before, which left the course
    "settled" with 100.00 owing."""
    from tests.booking.races import first_holds_its_lock

    package = _paid_ahead_two_seen_the_rest_cancelled(course, front_desk)
    first, second, waited = first_holds_its_lock(
        lambda: payments.refund(
            package, amount="100.00", method="cash", reason="Asked for", actor=front_desk
        ),
        lambda: end_course_early(course, actor=front_desk, refund_by="card", reason="Pain gone"),
        won="done",
        lost=(payments.PaymentRefused, "refused"),
    )
    assert (first, second, waited) == ("done", "done", True)
    _assert_unused_credited_and_given_back(package)


def test_the_check_out_of_a_session_booked_after_the_course_ended_says_it_is_invoiced(
    course, billed, patient, front_desk, login, consent_ok
):
    """The package is settled, so the session is invoiced as a visit at its fee: the check-out
    form says so and asks for the payment, not that it is drawn from the package."""
    _paid_ahead_two_seen_the_rest_cancelled(course, front_desk)
    end_course_early(course, actor=front_desk, refund_by="card", reason="Pain gone")
    again = _session_three_booked_again_and_checked_in(course, billed, patient)
    page = login(front_desk).get(reverse("booking:appointment_detail", args=[again.pk]))
    text = page.content.decode()
    assert "invoiced at 95.00" in text
    assert "drawn from the course" not in text
