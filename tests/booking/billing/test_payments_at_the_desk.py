"""Payments at the desk: whole or partial, by any method, never more than owed; refunds never more
than paid (the database refuses it too); the form says what is wrong on the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse

from booking.billing import payments
from booking.billing.ledger import balance_of
from booking.billing.models import Payment, PaymentKind, PaymentMethod, PaymentStatus
from clinic.models import AccessLog
from tests.booking.billing.conftest import an_invoiced_visit

pytestmark = pytest.mark.django_db


def test_partial_payments_by_different_methods_add_up_to_the_balance(invoice, front_desk):
    payments.take_payment(invoice, amount="50.00", method=PaymentMethod.DEBIT, actor=front_desk)
    assert balance_of(invoice).balance == Decimal("70.00")
    payments.take_payment(invoice, amount="70", method=PaymentMethod.CASH, actor=front_desk)
    figures = balance_of(invoice)
    assert (figures.paid, figures.balance) == (Decimal("120.00"), Decimal("0.00"))
    cash = Payment.objects.get(method=PaymentMethod.CASH)
    assert (cash.processor, cash.status, cash.received_on) == (
        "desk",
        PaymentStatus.SUCCEEDED,
        invoice.location.today(),
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [("120.01", "120.00 CAD left to pay"), ("0", "above zero"), ("abc", "such as 45.00")],
)
def test_a_payment_more_than_owed_or_not_an_amount_is_refused(invoice, front_desk, amount, message):
    with pytest.raises(payments.PaymentRefused, match=message):
        payments.take_payment(invoice, amount=amount, method="cash", actor=front_desk)
    assert not Payment.objects.exists()


def test_a_refund_gives_back_at_most_what_was_paid(invoice, front_desk):
    payments.take_payment(invoice, amount="120.00", method="card", actor=front_desk)
    payments.refund(invoice, amount="20.00", method="card", reason="Overcharged", actor=front_desk)
    assert balance_of(invoice).balance == Decimal("20.00")
    with pytest.raises(payments.PaymentRefused, match="Only 100.00 CAD was paid"):
        payments.refund(invoice, amount="100.01", method="card", reason="x", actor=front_desk)


def test_the_database_refuses_refunds_beyond_what_was_paid_and_changes_to_payments(
    invoice, front_desk
):
    paid = payments.take_payment(invoice, amount="30.00", method="cash", actor=front_desk)
    with pytest.raises(IntegrityError, match="would exceed what was paid"):
        with transaction.atomic():
            Payment.objects.create(
                invoice=invoice,
                kind=PaymentKind.REFUND,
                method="cash",
                amount=Decimal("30.01"),
                received_on=invoice.issued_on,
            )
    for statement in (
        "UPDATE billing_payment SET amount = 1 WHERE id = %s",
        "DELETE FROM billing_payment WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="a recorded payment never changes"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [paid.pk])


def test_a_processors_pending_payment_gets_its_answer_once(invoice, front_desk):
    """How a card processor would plug in: a pending payment with the processor's reference,
    whose status its answer sets; the same reference is never recorded twice."""
    pending = payments.take_payment(
        invoice,
        amount="120.00",
        method="card",
        actor=front_desk,
        processor="stripe",
        processor_reference="pi_123",
        status=PaymentStatus.PENDING,
    )
    assert balance_of(invoice).balance == Decimal("120.00")  # not received yet
    Payment.objects.filter(pk=pending.pk).update(status=PaymentStatus.SUCCEEDED)
    assert balance_of(invoice).balance == Decimal("0.00")
    with pytest.raises(DatabaseError, match="never changes"):
        with transaction.atomic():
            Payment.objects.filter(pk=pending.pk).update(status=PaymentStatus.FAILED)


def test_the_desk_takes_a_payment_on_the_invoice_page_and_it_is_logged(invoice, front_desk, login):
    browser = login(front_desk)
    page = browser.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    assert "Balance due: 120.00" in page.content.decode()
    response = browser.post(
        reverse("billing:invoice_pay", args=[invoice.pk]),
        {"amount": "45.00", "method": "debit"},
        follow=True,
    )
    assert "Payment of 45.00 CAD recorded." in response.content.decode()
    assert balance_of(invoice).balance == Decimal("75.00")
    actions = set(
        AccessLog.objects.filter(actor=front_desk, record_type="billing.invoice").values_list(
            "action", flat=True
        )
    )
    assert actions == {"view", "change"}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12,50", "Enter an amount such as 45.00."),
        ("-3", "Enter an amount above zero."),
        ("1.001", "to the cent"),
        ("500.00", "120.00 CAD left to pay"),
    ],
)
def test_a_wrong_amount_is_said_on_the_field_never_a_500(
    invoice, front_desk, login, amount, message
):
    response = login(front_desk).post(
        reverse("billing:invoice_pay", args=[invoice.pk]), {"amount": amount, "method": "cash"}
    )
    assert response.status_code == 422
    assert message in str(response.context["payment_form"].errors["amount"])
    assert not Payment.objects.exists()


def test_a_patient_sees_their_invoices_and_balance(invoice, patient, login, front_desk):
    payments.take_payment(invoice, amount="20.00", method="cash", actor=front_desk)
    page = login(patient.user).get(reverse("billing:my_invoices")).content.decode()
    assert invoice.display_number in page and "100.00 due" in page


def test_the_invoices_list_takes_a_fixed_number_of_queries(
    billed, patient, practitioner, login, django_assert_num_queries
):
    browser = login(patient.user)
    browser.get(reverse("billing:my_invoices"))  # warm the session
    for hours in (30, 20, 10):
        an_invoiced_visit(billed, patient, practitioner, hours)
    # The fifth: the years the patient paid in (links to the year-end statements).
    with django_assert_num_queries(5):
        browser.get(reverse("billing:my_invoices"))


def test_a_payment_form_sent_twice_records_the_payment_once(invoice, front_desk, login):
    """A double click on "Record the payment" for part of the balance: the second form was drawn
    before the first payment, so it records nothing and the page says why."""
    browser = login(front_desk)
    page = browser.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    seen = page.context["payment_form"]["seen"].value()
    assert f'name="seen" value="{seen}"' in page.content.decode()
    form = {"amount": "45.00", "method": "debit", "seen": seen}
    browser.post(reverse("billing:invoice_pay", args=[invoice.pk]), form)
    again = browser.post(reverse("billing:invoice_pay", args=[invoice.pk]), form, follow=True)
    assert "changed after this page was opened" in again.content.decode()
    assert balance_of(invoice).balance == Decimal("75.00")
    assert Payment.objects.count() == 1


def test_a_refund_form_drawn_before_another_desks_refund_gives_nothing_back(
    invoice, front_desk, login
):
    payments.take_payment(invoice, amount="120.00", method="card", actor=front_desk)
    browser = login(front_desk)
    page = browser.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    seen = page.context["refund_form"]["seen"].value()
    payments.refund(invoice, amount="20.00", method="card", actor=front_desk, reason="Overpaid")
    response = browser.post(
        reverse("billing:invoice_refund", args=[invoice.pk]),
        {"amount": "20.00", "method": "card", "reason": "Overpaid", "seen": seen},
        follow=True,
    )
    assert "changed after this page was opened" in response.content.decode()
    assert balance_of(invoice).refunded == Decimal("20.00")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("45.005", "to the cent"),
        (Decimal("0.001"), "to the cent"),
        ("NaN", "such as 45.00"),
        ("sNaN", "such as 45.00"),
        ("Infinity", "such as 45.00"),
        ("1e30", "such as 45.00"),
    ],
)
def test_the_services_refuse_an_amount_not_to_the_cent_rather_than_round_it(
    invoice, front_desk, amount, message
):
    """A processor's webhook or a script calls the services without the desk's form: half a cent
    is not rounded away into a payment nobody made, and 'NaN' is refused, not a server error."""
    with pytest.raises(payments.PaymentRefused, match=message):
        payments.take_payment(invoice, amount=amount, method="cash", actor=front_desk)
    with pytest.raises(payments.PaymentRefused, match=message):
        payments.issue_credit_note(invoice, amount=amount, reason="Test", actor=front_desk)
    assert not Payment.objects.exists() and not invoice.credit_notes.exists()


def test_the_invoice_shown_again_with_a_refusal_is_in_the_access_log(invoice, front_desk, login):
    """The page drawn again with the form's error shows the invoice (its services, the
    patient) like any reading of it: it is written to the access log as one."""
    response = login(front_desk).post(
        reverse("billing:invoice_pay", args=[invoice.pk]), {"amount": "999.00", "method": "cash"}
    )
    assert response.status_code == 422 and invoice.display_number in response.content.decode()
    entry = AccessLog.objects.get(record_type="billing.invoice", record_id=str(invoice.pk))
    assert (entry.actor, entry.patient, entry.action) == (front_desk, invoice.patient, "view")


def test_what_the_insurer_paid_goes_back_to_the_insurer_and_the_patients_money_to_them(
    invoice, front_desk
):
    """The insurer paid 100.00 directly and the patient 20.00 at the desk; the invoice is then
    credited in full. The patient is given back their 20.00, no more: the insurer's 100.00 is
    the insurer's (given to the patient it read as -80.00 'paid by you' on the receipt, and took
    80.00 off their year's medical expenses), and goes back to the insurer."""
    payments.take_payment(invoice, amount="100.00", method="insurer", actor=front_desk)
    payments.take_payment(invoice, amount="20.00", method="cash", actor=front_desk)
    payments.issue_credit_note(invoice, amount="120.00", reason="Billed in error", actor=front_desk)
    with pytest.raises(payments.PaymentRefused, match="20.00 CAD .* patient"):
        payments.refund(invoice, amount="50.00", method="cash", reason="x", actor=front_desk)
    with pytest.raises(payments.PaymentRefused, match="100.00 CAD .* insurer"):
        payments.refund(invoice, amount="120.00", method="insurer", reason="x", actor=front_desk)
    payments.refund(invoice, amount="20.00", method="cash", reason="Error", actor=front_desk)
    payments.refund(invoice, amount="100.00", method="insurer", reason="Error", actor=front_desk)
    assert balance_of(invoice).balance == Decimal("0.00")
