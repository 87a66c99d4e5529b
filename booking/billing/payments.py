"""Money at the desk: taking a payment (whole or part), giving a refund (never more than was
paid), a credit note that corrects an issued invoice, and a manager waiving a fee.

Each locks the invoice's row first (`SELECT ... FOR UPDATE`, which an issued invoice allows:
only UPDATE and DELETE are refused), so two desks taking the last payment of an invoice at the
same moment cannot both take it; the database refuses refunds beyond what was paid in any case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from booking.billing.invoicing import next_number
from booking.billing.ledger import balance_of
from booking.billing.models import (
    CreditNote,
    Invoice,
    InvoiceEvent,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
    Series,
)
from clinic.audit import record_access
from clinic.models import AccessLog, Role, User


class PaymentRefused(Exception):
    """A payment, refund or credit the rules do not allow; the message says why, for the form."""


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise PaymentRefused("Enter an amount such as 45.00.") from None
    if amount <= 0:
        raise PaymentRefused("Enter an amount above zero.")
    return amount


def _locked(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().select_related("location").get(pk=invoice.pk)


def _real(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _add_to_history(
    current: Invoice,
    kind: str,
    amount: Decimal,
    *,
    reason: str,
    actor: User | None,
    now: dt.datetime,
) -> None:
    """The line the invoice's history shows for a payment, refund, credit note or waiver."""
    InvoiceEvent.objects.create(
        invoice=current,
        at=now,
        actor=_real(actor),
        kind=kind,
        amount=amount,
        reason=reason[:300],
    )


@transaction.atomic
def take_payment(
    invoice: Invoice,
    *,
    amount,
    method: str,
    actor: User | None,
    processor: str = "desk",
    processor_reference: str = "",
    status: str = PaymentStatus.SUCCEEDED,
    note: str = "",
    now: dt.datetime | None = None,
) -> Payment:
    """Record money received for `invoice`: all it owes or part of it, never more."""
    now = now or timezone.now()
    amount = _amount(amount)
    if method not in PaymentMethod.values:
        raise PaymentRefused("Choose how the patient paid.")
    current = _locked(invoice)
    owed = balance_of(current).balance
    if amount > owed:
        raise PaymentRefused(
            f"{current.display_number} has {owed} {current.currency} left to pay; "
            f"{amount} is more than that."
        )
    payment = Payment.objects.create(
        invoice=current,
        kind=PaymentKind.PAYMENT,
        method=method,
        amount=amount,
        received_at=now,
        received_on=now.astimezone(current.location.zone).date(),
        status=status,
        processor=processor,
        processor_reference=processor_reference,
        note=note[:200],
        recorded_by=_real(actor),
    )
    _add_to_history(
        current,
        InvoiceEvent.Kind.PAYMENT,
        amount,
        reason=payment.get_method_display(),
        actor=actor,
        now=now,
    )
    return payment


@transaction.atomic
def refund(
    invoice: Invoice,
    *,
    amount,
    method: str,
    actor: User | None,
    reason: str,
    now: dt.datetime | None = None,
) -> Payment:
    """Give money back on `invoice`: never more than was paid on it and not yet refunded."""
    now = now or timezone.now()
    amount = _amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise PaymentRefused("Say why the money is given back.")
    current = _locked(invoice)
    refundable = balance_of(current).refundable
    if amount > refundable:
        raise PaymentRefused(
            f"Only {refundable} {current.currency} was paid on {current.display_number} and "
            "not yet refunded."
        )
    payment = Payment.objects.create(
        invoice=current,
        kind=PaymentKind.REFUND,
        method=method,
        amount=amount,
        received_at=now,
        received_on=now.astimezone(current.location.zone).date(),
        note=reason[:200],
        recorded_by=_real(actor),
    )
    _add_to_history(current, InvoiceEvent.Kind.REFUND, amount, reason=reason, actor=actor, now=now)
    return payment


def _credit(
    current: Invoice, *, amount: Decimal, reason: str, actor: User | None, now: dt.datetime
) -> CreditNote:
    creditable = balance_of(current).creditable
    if amount > creditable:
        raise PaymentRefused(
            f"A credit note may take at most {creditable} {current.currency} off "
            f"{current.display_number}."
        )
    year = now.astimezone(current.location.zone).year
    return CreditNote.objects.create(
        invoice=current,
        location=current.location,
        year=year,
        number=next_number(current.location, year, Series.CREDIT_NOTE),
        amount=amount,
        reason=reason[:300],
        issued_at=now,
        issued_by=_real(actor),
    )


@transaction.atomic
def issue_credit_note(
    invoice: Invoice, *, amount, reason: str, actor: User | None, now: dt.datetime | None = None
) -> CreditNote:
    """Correct an issued invoice: a numbered credit note for `amount`, saying why."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise PaymentRefused("Say why the invoice is corrected.")
    current = _locked(invoice)
    note = _credit(current, amount=_amount(amount), reason=reason, actor=actor, now=now)
    _add_to_history(
        current, InvoiceEvent.Kind.CREDIT, note.amount, reason=reason, actor=actor, now=now
    )
    return note


@transaction.atomic
def waive_fee(
    invoice: Invoice,
    *,
    actor: User,
    reason: str,
    request=None,
    now: dt.datetime | None = None,
) -> CreditNote:
    """A manager waives what is left of a fee, saying why: a credit note for it, a line in the
    invoice's history and one in the access log. What the patient already paid stays paid (a
    refund gives it back)."""
    now = now or timezone.now()
    if actor.role != Role.MANAGER:
        raise PaymentRefused("Only a manager may waive a fee.")
    reason = (reason or "").strip()
    if not reason:
        raise PaymentRefused("Say why the fee is waived.")
    current = _locked(invoice)
    figures = balance_of(current)
    amount = min(figures.creditable, max(figures.balance, Decimal("0.00")))
    if amount <= 0:
        raise PaymentRefused(f"Nothing is left to waive on {current.display_number}.")
    note = _credit(current, amount=amount, reason=f"Waived: {reason}", actor=actor, now=now)
    _add_to_history(current, InvoiceEvent.Kind.WAIVED, amount, reason=reason, actor=actor, now=now)
    record_access(
        actor=actor,
        patient=current.patient,
        record=current,
        action=AccessLog.Action.CHANGE,
        request=request,
    )
    return note
