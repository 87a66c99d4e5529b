"""Check-out is one step at the desk: complete → invoice → payment → receipt emailed (a plain
email through the outbox listing the invoice); a refused payment undoes the whole step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.billing.checkout import check_out
from booking.billing.ledger import balance_of
from booking.billing.models import Invoice
from booking.billing.payments import PaymentRefused
from booking.models import Notification, Status
from booking.notifications import render_parts
from tests.booking.factories import an_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(billed, patient):
    return an_appointment(
        billed, patient, timezone.now() - dt.timedelta(minutes=50), status=Status.CHECKED_IN
    )


def test_check_out_completes_invoices_takes_the_payment_and_emails_the_receipt(visit, front_desk):
    done = check_out(visit, actor=front_desk, amount="120.00", method="card")
    assert done.appointment.status == Status.COMPLETED
    assert balance_of(done.invoice).balance == Decimal("0.00")
    receipt = Notification.objects.get(kind=Notification.Kind.RECEIPT)
    assert (receipt.patient, receipt.appointment) == (visit.patient, visit)
    subject, text, html, _ = render_parts(receipt, now=timezone.now())
    assert done.invoice.display_number in subject
    assert "Initial assessment (60 min)" in text and "Total: 120.00 CAD" in text
    assert "Payment" in text and "(Card at the terminal): 120.00" in text
    assert "Balance: 0.00 CAD" in text
    assert "Initial assessment (60 min)" in html


def test_a_refused_payment_leaves_the_visit_checked_in_and_uninvoiced(visit, front_desk):
    with pytest.raises(PaymentRefused):
        check_out(visit, actor=front_desk, amount="999.00", method="cash")
    visit.refresh_from_db()
    assert visit.status == Status.CHECKED_IN
    assert not Invoice.objects.exists() and not Notification.objects.filter(kind="receipt").exists()


def test_the_appointment_page_offers_check_out_and_the_desk_uses_it(visit, front_desk, login):
    browser = login(front_desk)
    page = browser.get(reverse("booking:appointment_detail", args=[visit.pk])).content.decode()
    assert "Check out" in page and "invoiced at 120.00" in page
    response = browser.post(
        reverse("billing:appointment_checkout", args=[visit.pk]),
        {"version": visit.version, "amount": "100.00", "method": "debit", "email_receipt": "on"},
        follow=True,
    )
    invoice = Invoice.objects.get(appointment=visit)
    assert response.redirect_chain[-1][0] == reverse("billing:invoice_detail", args=[invoice.pk])
    assert f"Checked out: {invoice.display_number}, 100.00 CAD paid." in response.content.decode()
    page = browser.get(reverse("booking:appointment_detail", args=[visit.pk])).content.decode()
    assert "Balance due" in page and "owes 20.00 CAD in all" in page


def test_check_out_with_an_amount_but_no_method_says_so(visit, front_desk, login):
    response = login(front_desk).post(
        reverse("billing:appointment_checkout", args=[visit.pk]),
        {"version": visit.version, "amount": "10.00"},
        follow=True,
    )
    assert "Choose how the patient paid." in response.content.decode()
    visit.refresh_from_db()
    assert visit.status == Status.CHECKED_IN


def test_a_check_out_sent_twice_takes_the_payment_once(visit, front_desk, login):
    """A double click (or the browser sending the form again): the second finds the visit
    completed and is refused; the patient's 60.00 is recorded once, one receipt is sent."""
    browser = login(front_desk)
    url = reverse("billing:appointment_checkout", args=[visit.pk])
    form = {"version": visit.version, "amount": "60.00", "method": "cash", "email_receipt": "on"}
    browser.post(url, form)
    again = browser.post(url, form, follow=True)
    assert "it is now completed" in again.content.decode()
    invoice = Invoice.objects.get(appointment=visit)
    assert (balance_of(invoice).paid, balance_of(invoice).balance) == (
        Decimal("60.00"),
        Decimal("60.00"),
    )
    assert Notification.objects.filter(kind=Notification.Kind.RECEIPT).count() == 1


def test_checking_out_a_visit_already_completed_takes_nothing(visit, front_desk):
    from booking import services

    services.change_status(visit, to=Status.COMPLETED, actor=front_desk)
    with pytest.raises(services.TransitionRefused, match="cannot be marked completed"):
        check_out(visit, actor=front_desk, amount="60.00", method="cash")
    assert balance_of(Invoice.objects.get(appointment=visit)).paid == Decimal("0.00")
