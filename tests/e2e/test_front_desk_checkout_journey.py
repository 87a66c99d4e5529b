"""Journey: the front desk at Leaside takes the money. Jordan Miles, who still owes the fee of
last week's late cancellation, carries the "$ Due" badge on the day view; he comes in, is checked
in and checked out in one step with part of the fee paid by debit, and the rest by card on the
invoice's page; the invoice shows its number and a zero balance, its receipt downloads as a PDF
naming him and the amount, the receipt email is queued (the appointment's email history), and
the day close shows both payments by method. Axe checks each page of money."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from booking.billing.models import Invoice, InvoiceKind, Payment
from booking.models import Appointment, Notification, Status
from booking.notifications.rendering import build_message
from intake.questionnaire.models import ConsentVersion
from tests.e2e.conftest import (
    TABLET,
    check_accessibility,
    next_visit_moved_to_within_the_hour,
    no_browser_errors,
    screenshot,
)
from tests.intake.factories import sign

pytestmark = pytest.mark.django_db(transaction=True)


def _jordan_comes_in_now() -> Appointment:
    """Jordan's next visit at Leaside moved to within the hour (whatever the day of the week and
    the instant the suite runs at), so that check-in is open, with the current consent signed; clear of his practitioner's, the
    room's and his own other bookings."""
    visit = next_visit_moved_to_within_the_hour(
        patient__last_name="Miles", location__slug="leaside"
    )
    # The demo leaves Jordan's consent for him to sign in his own journey; here he signed the
    # current one beforehand (signing at the counter is the front desk's main journey).
    sign(visit.patient, list(ConsentVersion.objects.current()))
    return visit


def _pdf_text(content: bytes) -> str:
    return "\n".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(content)).pages)


def test_the_front_desk_checks_a_patient_out_with_payment_and_receipt(
    demo, staff_page, live_server
):
    jordan = _jordan_comes_in_now()
    day = jordan.local_starts_at.date()
    page = staff_page("frontdesk@example.org", TABLET)

    # The day view: Jordan's box carries the "$ Due" badge (the late-cancellation fee).
    page.goto(f"/schedule/locations/leaside/?date={day.isoformat()}")
    box = page.locator(".sched-appt", has_text="Jordan Miles").first
    box.locator(".flag.badge-owing", has_text="$ Due").wait_for()
    check_accessibility(page)

    # He arrives: checked in from his appointment's page.
    page.goto(f"/appointments/{jordan.pk}/")
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("Jordan Miles is checked in.").wait_for()
    assert Appointment.objects.get(pk=jordan.pk).status == Status.CHECKED_IN

    # Check-out in one step: the fee is offered; he pays part of it by debit now.
    money = page.locator("section", has=page.get_by_role("heading", name="Payment"))
    amount = money.get_by_label("Amount paid now")
    fee = Decimal(amount.input_value())
    assert fee > 0
    part = (fee / 2).quantize(Decimal("0.01"))
    amount.fill(str(part))
    money.get_by_label("Paid by").select_option(label="Debit")
    check_accessibility(page)
    screenshot(page, "front-desk-checkout")
    money.get_by_role("button", name="Check out").click()

    invoice = Invoice.objects.get(appointment=jordan, kind=InvoiceKind.VISIT)
    page.get_by_text(f"Checked out: {invoice.display_number}, {part}").wait_for()
    assert Appointment.objects.get(pk=jordan.pk).status == Status.COMPLETED
    page.get_by_role("heading", name=f"Invoice {invoice.display_number}").wait_for()
    page.get_by_text(f"Balance due: {fee - part}").wait_for()
    check_accessibility(page)

    # The rest by card at the terminal, on the invoice's page: nothing left to pay.
    pay = page.locator("section", has=page.get_by_role("heading", name="Take a payment"))
    assert Decimal(pay.get_by_label("Amount").input_value()) == fee - part
    pay.get_by_label("Paid by").select_option(label="Card at the terminal")
    pay.get_by_role("button", name="Record the payment").click()
    page.get_by_text(f"Payment of {fee - part} {invoice.currency} recorded.").wait_for()
    balance = page.locator("tr", has=page.get_by_role("rowheader", name="Balance", exact=True))
    assert balance.locator("th").last.inner_text().strip() == "0.00"
    page.locator(".badge", has_text="Paid").first.wait_for()
    assert page.get_by_role("button", name="Record the payment").count() == 0
    check_accessibility(page)
    assert {(p.method, p.amount) for p in Payment.objects.filter(invoice=invoice)} == {
        ("debit", part),
        ("card", fee - part),
    }

    # The receipt for his insurer: a PDF naming him, the practitioner's visit and the amount.
    link = page.get_by_role("link", name="Receipt for insurers (PDF)")
    with page.expect_download() as started:
        link.click()
    download = started.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as downloaded:
        text = _pdf_text(downloaded.read())
    assert "Jordan Miles" in text and str(fee) in text and invoice.display_number in text
    response = page.context.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"

    # The receipt email is queued (the latest, after the card, says nothing is left to pay and
    # carries the same receipt as a PDF), and listed on the appointment's page.
    email = Notification.objects.filter(appointment=jordan, kind=Notification.Kind.RECEIPT).latest(
        "pk"
    )
    assert email.context["invoice"]["balance"] == "0.00"
    message = build_message(email, to=email.patient.email, now=timezone.now())
    (attached,) = [p for p in message.attachments if p.get_content_type() == "application/pdf"]
    assert "Jordan Miles" in _pdf_text(attached.get_payload(decode=True))
    page.get_by_role("link", name="The appointment").click()
    emails = page.locator("table.email-history")
    emails.get_by_role("rowheader", name="Receipt").first.wait_for()
    check_accessibility(page)

    # The day close at Leaside: both payments, by method.
    received_on = Payment.objects.filter(invoice=invoice).first().received_on
    page.goto(f"/schedule/locations/leaside/?date={received_on.isoformat()}")
    page.get_by_role("link", name="Day close").click()
    page.get_by_role("heading", name="Day close: Leaside").wait_for()
    page.get_by_role("row", name=f"Paid: Debit {part}").wait_for()
    page.get_by_role("row", name=f"Paid: Card at the terminal {fee - part}").wait_for()
    transactions = page.locator("table", has_text="Every transaction of the day")
    assert transactions.locator("tr", has_text=invoice.display_number).count() >= 2
    check_accessibility(page)
    no_browser_errors(page)
