"""Check-out after a visit, in one step at the desk: the visit is completed (which issues its
invoice), the payment taken, and the receipt emailed; all in one transaction, so a refused
payment leaves the visit as it was."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from booking import services
from booking.billing import payments
from booking.billing.models import Invoice, InvoiceKind, Payment
from booking.billing.receipts import email_receipt
from booking.models import Appointment, Status
from clinic.models import User


@dataclass(frozen=True)
class CheckOut:
    appointment: Appointment
    invoice: Invoice | None
    payment: Payment | None


@transaction.atomic
def check_out(
    appointment: Appointment,
    *,
    actor: User,
    amount=None,
    method: str = "",
    email: bool = True,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> CheckOut:
    """Complete the checked-in visit, take `amount` by `method` on its invoice (nothing when
    `amount` is empty: the patient pays later) and queue the receipt. Refusals are
    `services.BookingError` or `payments.PaymentRefused`, with the reason.

    A visit already completed is refused like any stale form (the form sent twice, or the visit
    completed since the page was opened): its payments are taken on its invoice, so that the
    same check-out cannot record the patient's money twice."""
    now = now or timezone.now()
    appointment = services.change_status(
        appointment,
        to=Status.COMPLETED,
        actor=actor,
        reason="Checked out",
        expected_version=expected_version,
        now=now,
    )
    invoice = (
        # The visit's own (a no-show undone left a credited missed-visit fee beside it).
        Invoice.objects.filter(appointment=appointment, kind=InvoiceKind.VISIT)
        .select_related("location", "patient__user", "practitioner__user", "appointment")
        .first()
    )
    payment = None
    if invoice is None and amount not in (None, ""):
        # Money typed in must land somewhere: refused (the visit stays checked in) rather than
        # dropped while the desk puts it in the till.
        package = Invoice.objects.filter(drawdowns__appointment=appointment).first()
        raise payments.PaymentRefused(
            f"This session is drawn from the course's package {package.display_number}, which has "
            "no payment of its own: nothing was done. Check out without an amount, then take the "
            "payment on the package."
            if package is not None
            else "No fee is set for this service here, so there is no invoice to pay: nothing "
            "was done. Check out without an amount."
        )
    if invoice is not None and amount not in (None, ""):
        payment = payments.take_payment(invoice, amount=amount, method=method, actor=actor, now=now)
    if invoice is not None and email:
        email_receipt(invoice, now=now)
    return CheckOut(appointment, invoice, payment)
