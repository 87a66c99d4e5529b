"""What one invoice holds in the patient's favour pays another of theirs: a refund of credit moved
out of the one and a payment of credit moved into the other, recorded together, never more than
the credit or than what is owed, only between the same patient's invoices at one location. No
money changes hands, so the day close counts it apart; the database refuses a half of the pair."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from booking.billing import payments
from booking.billing.day_close import close_day, csv_rows
from booking.billing.forms import PaymentForm, RefundForm
from booking.billing.ledger import balance_of
from booking.billing.models import InvoiceEvent, Payment, PaymentKind, PaymentMethod
from tests.booking.billing.conftest import an_invoiced_visit
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

MOVED = PaymentMethod.CREDIT_MOVED


@pytest.fixture
def in_favour(billed, patient, practitioner, front_desk):
    """An assessment invoiced at 120.00, paid in full, then corrected by a credit note of 50.00:
    the invoice holds 50.00 in the patient's favour."""
    invoice = an_invoiced_visit(billed, patient, practitioner, hours_ago=30)
    payments.take_payment(invoice, amount="120.00", method="card", actor=front_desk)
    payments.issue_credit_note(invoice, amount="50.00", reason="Charged twice", actor=front_desk)
    assert balance_of(invoice).balance == Decimal("-50.00")
    return invoice


@pytest.fixture
def next_invoice(billed, patient, practitioner):
    """The patient's next visit, 120.00 still to pay."""
    return an_invoiced_visit(billed, patient, practitioner, hours_ago=2)


def _history(invoice) -> list[tuple[str, Decimal, str]]:
    return list(invoice.events.order_by("id").values_list("kind", "amount", "reason"))[-1:]


def test_the_credit_pays_the_patients_next_invoice_with_a_line_in_each_history(
    in_favour, next_invoice, front_desk
):
    moved = payments.move_credit(in_favour, next_invoice, actor=front_desk)
    assert balance_of(in_favour).balance == Decimal("0.00")
    assert balance_of(next_invoice).balance == Decimal("70.00")
    out = moved.moved_from
    assert (out.invoice, out.kind, out.method, out.amount) == (
        in_favour,
        PaymentKind.REFUND,
        MOVED,
        Decimal("50.00"),
    )
    assert (moved.invoice, moved.kind, moved.method) == (next_invoice, PaymentKind.PAYMENT, MOVED)
    assert _history(in_favour) == [
        (InvoiceEvent.Kind.REFUND, Decimal("50.00"), f"Moved to {next_invoice.display_number}")
    ]
    assert _history(next_invoice) == [
        (InvoiceEvent.Kind.PAYMENT, Decimal("50.00"), f"Moved from {in_favour.display_number}")
    ]


def test_it_moves_no_more_than_the_other_invoice_owes_and_keeps_the_rest(
    in_favour, next_invoice, front_desk
):
    payments.take_payment(next_invoice, amount="100.00", method="cash", actor=front_desk)
    moved = payments.move_credit(in_favour, next_invoice, actor=front_desk)
    assert moved.amount == Decimal("20.00")
    assert balance_of(in_favour).balance == Decimal("-30.00")
    assert balance_of(next_invoice).balance == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("50.01", "holds 50.00 CAD in the patient's favour; 50.01 is more than that"),
        ("0", "above zero"),
    ],
)
def test_more_than_the_credit_is_refused(in_favour, next_invoice, front_desk, amount, message):
    with pytest.raises(payments.PaymentRefused, match=message):
        payments.move_credit(in_favour, next_invoice, amount=amount, actor=front_desk)
    assert not Payment.objects.filter(method=MOVED).exists()


def test_more_than_the_other_invoice_owes_is_refused(in_favour, next_invoice, front_desk):
    payments.take_payment(next_invoice, amount="100.00", method="cash", actor=front_desk)
    with pytest.raises(payments.PaymentRefused, match="has 20.00 CAD left to pay; 30.00"):
        payments.move_credit(in_favour, next_invoice, amount="30.00", actor=front_desk)


def test_only_between_the_same_patients_invoices_at_one_location(
    in_favour, billed, practitioner, front_desk, other_location
):
    from booking.billing import world as billing_world
    from tests.booking.factories import a_clinic

    someone_else = an_invoiced_visit(billed, PatientFactory(), practitioner, hours_ago=5)
    elsewhere = a_clinic(location=other_location)
    billing_world.terms(other_location, currency="USD")
    billing_world.fee(other_location, elsewhere.assessment, "150.00")
    at_another_location = an_invoiced_visit(
        elsewhere, in_favour.patient, elsewhere.practitioner, hours_ago=5
    )
    for target in (someone_else, at_another_location):
        with pytest.raises(payments.PaymentRefused, match="same patient at the same location"):
            payments.move_credit(in_favour, target, actor=front_desk)
    with pytest.raises(payments.PaymentRefused, match="Choose another invoice"):
        payments.move_credit(in_favour, in_favour, actor=front_desk)
    assert not Payment.objects.filter(method=MOVED).exists()


def test_an_invoice_with_nothing_in_favour_moves_nothing(next_invoice, in_favour, front_desk):
    with pytest.raises(payments.PaymentRefused, match="holds nothing in the patient's favour"):
        payments.move_credit(next_invoice, in_favour, actor=front_desk)


def test_the_desk_cannot_record_credit_moved_as_a_payment_or_refund_of_its_own(
    next_invoice, in_favour, front_desk
):
    with pytest.raises(payments.PaymentRefused):
        payments.take_payment(next_invoice, amount="10.00", method=MOVED, actor=front_desk)
    with pytest.raises(payments.PaymentRefused):
        payments.refund(in_favour, amount="10.00", method=MOVED, reason="x", actor=front_desk)
    for form in (PaymentForm(), RefundForm()):
        assert MOVED not in dict(form.fields["method"].choices)


def test_the_database_refuses_half_a_move_or_a_pair_that_does_not_match(
    in_favour, next_invoice, front_desk
):
    def row(invoice, kind, amount, **fields):
        return Payment.objects.create(
            invoice=invoice,
            kind=kind,
            method=MOVED,
            amount=Decimal(amount),
            received_on=dt.date(2027, 6, 9),
            recorded_by=front_desk,
            **fields,
        )

    # A payment of moved credit that names no refund, or a half still waiting: refused at once.
    with pytest.raises(IntegrityError, match="payment_moved_credit_names_its_refund"):
        with transaction.atomic():
            row(next_invoice, PaymentKind.PAYMENT, "10.00")
    with pytest.raises(IntegrityError, match="payment_moved_credit_is_settled"):
        with transaction.atomic():
            row(in_favour, PaymentKind.REFUND, "10.00", status="pending")
    # Checked at commit (asked for now): a refund no payment names, or amounts that differ.
    for amounts in [("10.00", None), ("10.00", "9.00")]:
        with pytest.raises(IntegrityError, match="pays no other invoice|does not match"):
            with transaction.atomic():
                out = row(in_favour, PaymentKind.REFUND, amounts[0])
                if amounts[1]:
                    row(next_invoice, PaymentKind.PAYMENT, amounts[1], moved_from=out)
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS billing_credit_moved_in_pairs IMMEDIATE")
    assert not Payment.objects.filter(method=MOVED).exists()


def test_the_desk_moves_the_credit_from_the_invoice_page(
    in_favour, next_invoice, front_desk, login
):
    client = login(front_desk)
    page = client.get(reverse("billing:invoice_detail", args=[in_favour.pk])).content.decode()
    assert "Pay another invoice with the credit" in page
    assert f"{next_invoice.display_number} of " in page
    response = client.post(
        reverse("billing:invoice_move_credit", args=[in_favour.pk]),
        {"target": next_invoice.pk, "amount": ""},
        follow=True,
    )
    assert f"50.00 CAD moved to {next_invoice.display_number}." in response.content.decode()
    assert balance_of(next_invoice).balance == Decimal("70.00")
    # Nothing left in favour: the form is gone; an invoice that owes never offers it.
    for invoice in (in_favour, next_invoice):
        page = client.get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
        assert "Pay another invoice with the credit" not in page


def test_an_invoice_not_on_the_list_is_refused_on_the_field(
    in_favour, billed, practitioner, front_desk, login
):
    someone_else = an_invoiced_visit(billed, PatientFactory(), practitioner, hours_ago=5)
    response = login(front_desk).post(
        reverse("billing:invoice_move_credit", args=[in_favour.pk]),
        {"target": someone_else.pk, "amount": "10.00"},
    )
    assert response.status_code == 422
    assert "Choose one of the patient&#x27;s invoices listed." in response.content.decode()
    assert not Payment.objects.filter(method=MOVED).exists()


def test_the_day_close_counts_moved_credit_apart_from_money(
    in_favour, next_invoice, front_desk, billed
):
    before = close_day(billed.location, billed.location.today())
    payments.move_credit(in_favour, next_invoice, actor=front_desk)
    after = close_day(billed.location, billed.location.today())
    assert (after.paid, after.refunded, after.net_received) == (
        before.paid,
        before.refunded,
        before.net_received,
    )
    assert after.moved == Decimal("50.00")
    moved_rows = [row for row in csv_rows(after) if row[7] == MOVED.label]
    assert [row[8] for row in moved_rows] == [Decimal("-50.00"), Decimal("50.00")]


@pytest.mark.django_db(transaction=True)
def test_two_desks_moving_the_same_credit_at_once_move_it_once(
    billed, patient, practitioner, front_desk
):
    """Two desks move the same 50.00 at the same instant, each to another of the patient's
    invoices: the second waits for the first's locks, then finds nothing left in favour."""
    from tests.booking.races import at_once

    source = an_invoiced_visit(billed, patient, practitioner, hours_ago=30)
    payments.take_payment(source, amount="120.00", method="card", actor=front_desk)
    payments.issue_credit_note(source, amount="50.00", reason="Charged twice", actor=front_desk)
    first = an_invoiced_visit(billed, patient, practitioner, hours_ago=2)
    second = an_invoiced_visit(billed, patient, practitioner, hours_ago=5)
    outcomes = at_once(
        [
            lambda: payments.move_credit(source, first, actor=front_desk),
            lambda: payments.move_credit(source, second, actor=front_desk),
        ],
        won="moved",
        lost=(payments.PaymentRefused, "refused"),
    )
    assert outcomes == ["moved", "refused"]
    assert balance_of(source).balance == Decimal("0.00")
    owed = sorted([balance_of(first).balance, balance_of(second).balance])
    assert owed == [Decimal("70.00"), Decimal("120.00")]


def test_credit_is_not_moved_onto_what_a_processor_is_still_paying(
    in_favour, next_invoice, front_desk
):
    """100.00 of the next invoice's 120.00 is waiting for the card processor's answer: only
    20.00 is left to ask for, as a payment at the desk is told; moving the whole 50.00 of credit
    there was refused by the database (a server error) instead of by the rules."""
    payments.take_payment(
        next_invoice,
        amount="100.00",
        method="card",
        actor=front_desk,
        processor="stripe",
        processor_reference="pi_456",
        status="pending",
    )
    with pytest.raises(payments.PaymentRefused, match="20.00 CAD left to pay"):
        payments.move_credit(in_favour, next_invoice, amount="50.00", actor=front_desk)
    moved = payments.move_credit(in_favour, next_invoice, actor=front_desk)
    assert moved.amount == Decimal("20.00")
    assert balance_of(in_favour).balance == Decimal("-30.00")
