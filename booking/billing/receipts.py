"""The receipt emailed after a payment: a plain email through the outbox listing the invoice, its
payments and what is left to pay. The invoice never changes, so the message carries a copy of it
(the outbox renders messages later, when the worker sends them), and the receipt for insurers as
a PDF attached (`booking.billing.pdf.receipt_attachment`)."""

from __future__ import annotations

import datetime as dt

from booking import notifications
from booking.billing.documents import NOT_CARE
from booking.billing.ledger import balance_of
from booking.billing.models import Invoice, PaymentStatus
from booking.models import Notification


def receipt_context(invoice: Invoice) -> dict:
    """What the receipt says, as plain data (amounts as text, exactly as the invoice has them)."""
    figures = balance_of(invoice)
    return {
        "invoice": {
            # Names the invoice, so the email can carry its receipt as a PDF (billing.pdf).
            "id": invoice.pk,
            "number": invoice.display_number,
            "issued_on": invoice.issued_on.isoformat(),
            "currency": invoice.currency,
            "practitioner": invoice.practitioner.name,
            "lines": [
                {
                    "description": line.description,
                    "date": line.date_of_service.strftime("%-d %b %Y"),
                    "amount": str(line.amount),
                }
                for line in invoice.lines.all()
            ],
            "tax_label": invoice.tax_label,
            "tax": str(invoice.tax),
            "total": str(invoice.total),
            "payments": [
                {
                    "kind": payment.get_kind_display(),
                    "method": payment.get_method_display(),
                    "date": payment.received_on.strftime("%-d %b %Y"),
                    "amount": str(payment.amount),
                }
                for payment in invoice.payments.filter(status=PaymentStatus.SUCCEEDED)
            ],
            "credited": str(figures.credited),
            "balance": str(figures.balance),
            # A missed visit's or a late cancellation's fee: its receipt is not for an insurer.
            "not_care": invoice.kind in NOT_CARE,
        }
    }


def email_receipt(invoice: Invoice, *, now: dt.datetime) -> Notification:
    """Queue the receipt of `invoice` for its patient (sent after the transaction commits)."""
    return notifications.enqueue(
        Notification.Kind.RECEIPT,
        patient=invoice.patient,
        location=invoice.location,
        appointment=invoice.appointment,
        course=invoice.course,
        now=now,
        context=receipt_context(invoice),
    )
