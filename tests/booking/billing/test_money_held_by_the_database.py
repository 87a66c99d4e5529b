"""The money rules PostgreSQL holds itself, whatever writes the rows (a service with a bug, a
script, the shell): credit notes never take more off an invoice than it asks, payments never
pay more than it asks, refunds never give back more than was received, and a session drawn from
a package is a completed session of its course, within the package. Each check locks the
invoice, so two transactions writing money on it at once are checked one after the other."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.billing import payments
from booking.billing.ledger import balance_of
from booking.billing.models import (
    CreditNote,
    Payment,
    PaymentKind,
    PaymentStatus,
    SessionDrawdown,
)
from booking.billing.packages import pay_course_ahead
from booking.models import Appointment, Status
from tests.booking.billing.conftest import an_invoiced_visit
from tests.booking.factories import a_course, an_appointment
from tests.booking.races import at_once, first_holds_its_lock

pytestmark = pytest.mark.django_db


def _payment(invoice, amount: str, *, kind=PaymentKind.PAYMENT, status=PaymentStatus.SUCCEEDED):
    with transaction.atomic():
        return Payment.objects.create(
            invoice=invoice,
            kind=kind,
            method="cash",
            amount=Decimal(amount),
            status=status,
            received_on=invoice.issued_on,
        )


def _credit_note(invoice, amount: str, *, number: int, location=None):
    with transaction.atomic():
        return CreditNote.objects.create(
            invoice=invoice,
            location=location or invoice.location,
            number_prefix=invoice.number_prefix,
            year=invoice.year,
            number=number,
            amount=Decimal(amount),
            reason="Written by hand",
        )


def test_credit_notes_never_take_more_off_an_invoice_than_its_total(invoice, front_desk):
    payments.issue_credit_note(invoice, amount="100.00", reason="Wrong length", actor=front_desk)
    with pytest.raises(IntegrityError, match="credit notes of invoice .* exceed its total"):
        _credit_note(invoice, "20.01", number=2)
    _credit_note(invoice, "20.00", number=2)
    assert balance_of(invoice).credited == Decimal("120.00")


def test_a_credit_note_is_numbered_where_its_invoice_was_issued(invoice, other_location):
    with pytest.raises(IntegrityError, match="another location than its invoice"):
        _credit_note(invoice, "10.00", number=1, location=other_location)


def test_payments_never_pay_more_than_the_invoice_asks(invoice, front_desk):
    payments.issue_credit_note(invoice, amount="20.00", reason="Wrong length", actor=front_desk)
    _payment(invoice, "60.00")
    with pytest.raises(IntegrityError, match="payments on invoice .* exceed what it asks"):
        _payment(invoice, "40.01")
    _payment(invoice, "40.00")
    assert balance_of(invoice).balance == Decimal("0.00")


def test_refunds_give_back_only_what_was_received_not_what_is_pending(invoice):
    """A card payment still waiting for its processor's answer may yet fail: nothing of it is
    given back before it is received."""
    _payment(invoice, "50.00", status=PaymentStatus.PENDING)
    with pytest.raises(IntegrityError, match="would exceed what was paid"):
        _payment(invoice, "10.00", kind=PaymentKind.REFUND)


def test_a_pending_payment_is_not_asked_for_again_at_the_desk(invoice, front_desk):
    payments.take_payment(
        invoice,
        amount="100.00",
        method="card",
        actor=front_desk,
        processor="stripe",
        processor_reference="pi_1",
        status=PaymentStatus.PENDING,
    )
    with pytest.raises(payments.PaymentRefused, match="100.00 CAD is waiting for the processor"):
        payments.take_payment(invoice, amount="20.01", method="cash", actor=front_desk)
    payments.take_payment(invoice, amount="20.00", method="cash", actor=front_desk)


@pytest.fixture
def package(billed, patient, front_desk):
    """A course of four 30-minute sessions (95.00 each), the first three weeks ago, paid ahead:
    380.00."""
    first = timezone.now() - dt.timedelta(days=21)
    course = a_course(billed, patient, statuses=[Status.CONFIRMED] * 4, first_start=first)
    return pay_course_ahead(course, actor=front_desk)


def _completed(appointment):
    """Written directly, by the only way a visit becomes completed (the database refuses a
    jump from confirmed: `appointment_status_changes_as_allowed`)."""
    row = Appointment.objects.filter(pk=appointment.pk)
    row.update(status=Status.CHECKED_IN)
    row.update(status=Status.COMPLETED)
    return appointment


def _drawn(package, appointment, amount):
    with transaction.atomic():
        return SessionDrawdown.objects.create(
            package=package, appointment=appointment, amount=Decimal(amount)
        )


def test_a_session_drawn_from_a_package_is_a_completed_session_of_its_course(
    package, billed, patient
):
    elsewhere = _completed(an_appointment(billed, patient, timezone.now() - dt.timedelta(days=30)))
    with pytest.raises(IntegrityError, match="completed session of its course"):
        _drawn(package, elsewhere, "10.00")
    not_yet = package.course.appointments.order_by("session_number")[0]
    with pytest.raises(IntegrityError, match="completed session of its course"):
        _drawn(package, not_yet, "10.00")


def test_sessions_never_draw_more_than_the_package(package):
    first, second = [
        _completed(s) for s in package.course.appointments.order_by("session_number")[:2]
    ]
    _drawn(package, first, "95.00")
    with pytest.raises(IntegrityError, match="draw more than package"):
        _drawn(package, second, "285.01")
    _drawn(package, second, "285.00")


@pytest.mark.django_db(transaction=True)
def test_two_payments_written_at_once_without_the_services_lock_pay_once(
    billed, patient, practitioner
):
    """Each transaction inserts the whole 120.00 on its own connection at the same instant; the
    database's check waits for the other's commit, then sees it, so one of them is refused."""
    invoice = an_invoiced_visit(billed, patient, practitioner, hours_ago=2)
    outcomes = at_once(
        [lambda: _payment(invoice, "120.00"), lambda: _payment(invoice, "120.00")],
        won="paid",
        lost=(IntegrityError, "refused"),
    )
    assert outcomes == ["paid", "refused"]
    assert balance_of(invoice).balance == Decimal("0.00")


@pytest.mark.django_db(transaction=True)
def test_a_second_refund_waits_for_the_first_and_sees_it(billed, patient, practitioner, front_desk):
    invoice = an_invoiced_visit(billed, patient, practitioner, hours_ago=2)
    payments.take_payment(invoice, amount="120.00", method="cash", actor=front_desk)
    first, second, waited = first_holds_its_lock(
        lambda: _payment(invoice, "100.00", kind=PaymentKind.REFUND),
        lambda: _payment(invoice, "100.00", kind=PaymentKind.REFUND),
        won="refunded",
        lost=(IntegrityError, "refused"),
    )
    assert first == "refunded" and second.startswith("refused: refunds of invoice")
    assert waited
