"""Money at the desk: taking a payment (whole or part), giving a refund (never more than was
paid), moving what one invoice holds in the patient's favour to another of theirs, a credit note
that corrects an issued invoice, and a manager waiving a fee.

Each locks the invoice's row first (`SELECT ... FOR UPDATE`, which an issued invoice allows:
only UPDATE and DELETE are refused), so two desks taking the last payment of an invoice at the
same moment cannot both take it; the database refuses refunds beyond what was paid in any case.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from booking.billing.invoicing import next_number
from booking.billing.ledger import balance_of
from booking.billing.models import (
    DESK_METHODS,
    CreditNote,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
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
    """`value` as money: a finite amount above zero, to the cent. More decimals are refused, not
    rounded: half a cent rounded away is a payment nobody made (the desk's forms refuse it on the
    field; a processor's answer or a script reaches the services without them)."""
    try:
        given = Decimal(str(value).strip())
        amount = given.quantize(Decimal("0.01")) if given.is_finite() else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None:
        raise PaymentRefused("Enter an amount such as 45.00.")
    if amount != given:
        raise PaymentRefused("Enter an amount to the cent, such as 45.00.")
    if amount <= 0:
        raise PaymentRefused("Enter an amount above zero.")
    return amount


def _locked(invoice: Invoice) -> Invoice:
    """The invoice, its row locked until the transaction ends: its row only (`of`), not its
    location's, which every invoice written there meanwhile needs to commit."""
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("location")
        .get(pk=invoice.pk)
    )


class InvoiceChanged(PaymentRefused):
    """Money was recorded on the invoice after the page asking for more was drawn."""


def history_mark(invoice: Invoice) -> int:
    """Where the invoice's history stands (its latest line's id, 0 before any): a page's money
    forms carry it, so that a form sent twice, or after another desk's payment, is refused."""
    return invoice.events.order_by("-id").values_list("id", flat=True).first() or 0


def lock_as_seen(invoice: Invoice, seen: int | None, *, also: Invoice | None = None) -> None:
    """Lock the invoice (and `also`, the other invoice of a credit move, the lower id first as
    `move_credit` does) until the caller's transaction ends; refuse when its history moved on
    since the page showed it at `seen` (None: no page to compare with)."""
    ids = sorted({invoice.pk} | ({also.pk} if also is not None else set()))
    locked = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(pk__in=ids)
    )
    current = {row.pk: row for row in locked.order_by("pk")}[invoice.pk]
    if seen is not None and history_mark(current) != seen:
        raise InvoiceChanged(
            f"{current.display_number} changed after this page was opened (money was recorded "
            "on it meanwhile, or the form was sent twice): nothing was recorded now. Here it is "
            "as it is now."
        )


def _real(actor: User | None) -> User | None:
    return actor if actor is not None and actor.is_authenticated else None


def _desk_method(method: str, refusal: str) -> str:
    """`method`, if the desk may record money by it ('credit moved' only `move_credit` may)."""
    if method not in dict(DESK_METHODS):
        raise PaymentRefused(refusal)
    return method


def _record(
    current: Invoice,
    *,
    kind: str,
    method: str,
    amount: Decimal,
    actor: User | None,
    now: dt.datetime,
    history: str,
    note: str = "",
    **fields,
) -> Payment:
    """A payment or refund of `current`, dated on the location's calendar for the day close,
    with its line in the invoice's history (saying `history`)."""
    payment = Payment.objects.create(
        invoice=current,
        kind=kind,
        method=method,
        amount=amount,
        received_at=now,
        received_on=now.astimezone(current.location.zone).date(),
        note=note[:200],
        recorded_by=_real(actor),
        **fields,
    )
    line = InvoiceEvent.Kind.PAYMENT if kind == PaymentKind.PAYMENT else InvoiceEvent.Kind.REFUND
    _add_to_history(current, line, amount, reason=history, actor=actor, now=now)
    return payment


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
    method = _desk_method(method, "Choose how the patient paid.")
    current = _locked(invoice)
    # A payment waiting for its processor's answer is not asked for again (the database counts
    # it too: billing migration 0007).
    pending = awaiting_processor(current)
    owed = balance_of(current).balance - pending
    if amount > owed:
        waiting = f" ({pending} {current.currency} is waiting for the processor)" if pending else ""
        raise PaymentRefused(
            f"{current.display_number} has {max(owed, Decimal('0.00'))} {current.currency} left "
            f"to pay{waiting}; {amount} is more than that."
        )
    return _record(
        current,
        kind=PaymentKind.PAYMENT,
        method=method,
        amount=amount,
        actor=actor,
        now=now,
        note=note,
        history=PaymentMethod(method).label,
        status=status,
        processor=processor,
        processor_reference=processor_reference,
    )


def awaiting_processor(invoice: Invoice) -> Decimal:
    """What was paid on `invoice` by a processor that has not answered yet."""
    pending = invoice.payments.filter(kind=PaymentKind.PAYMENT, status=PaymentStatus.PENDING)
    return pending.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")


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
    method = _desk_method(method, "Choose how the money is given back.")
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
    # Money goes back to whoever paid it: the insurer's direct payments to the insurer, the
    # patient's own to the patient (the receipt and the year-end statement count them apart).
    insurers = insurers_share(current)
    to_insurer = method == PaymentMethod.INSURER
    limit, whose = (
        (insurers, "the insurer") if to_insurer else (refundable - insurers, "the patient")
    )
    limit = max(limit, Decimal("0.00"))
    if amount > limit:
        raise PaymentRefused(
            f"Only {limit} {current.currency} of what was paid on {current.display_number} is "
            f"{whose}'s to be given back"
            + (
                "."
                if to_insurer
                else f"; {insurers} {current.currency} the insurer paid directly goes back to the "
                "insurer (refund it by 'Insurer paid directly')."
            )
        )
    return _record(
        current,
        kind=PaymentKind.REFUND,
        method=method,
        amount=amount,
        actor=actor,
        now=now,
        note=reason,
        history=reason,
    )


def insurers_share(invoice: Invoice) -> Decimal:
    """What the insurer paid `invoice` directly and was not yet given back."""
    theirs = invoice.payments.filter(
        method=PaymentMethod.INSURER, status=PaymentStatus.SUCCEEDED
    ).aggregate(
        paid=Sum("amount", filter=Q(kind=PaymentKind.PAYMENT)),
        refunded=Sum("amount", filter=Q(kind=PaymentKind.REFUND)),
    )
    return (theirs["paid"] or Decimal("0.00")) - (theirs["refunded"] or Decimal("0.00"))


def credit_in_favour(invoice: Invoice) -> Decimal:
    """What `invoice` holds in the patient's favour (paid beyond what it now asks: a course
    ended early, a correction after payment), or zero."""
    return max(-balance_of(invoice).balance, Decimal("0.00"))


@transaction.atomic
def move_credit(
    source: Invoice,
    target: Invoice,
    *,
    actor: User | None,
    amount=None,
    now: dt.datetime | None = None,
) -> Payment:
    """Pay `target` with what `source` holds in the patient's favour: all of it, or what
    `target` still owes if that is less, or `amount`. No money changes hands: a refund of credit
    moved out of `source` and a payment of credit moved into `target`, which names it, recorded
    together with a line in each invoice's history. Only between invoices of the same patient at
    the same location (one currency, one business)."""
    now = now or timezone.now()
    if source.pk == target.pk:
        raise PaymentRefused("Choose another invoice to pay with this credit.")
    # Both rows locked, the lower id first, so two desks moving credit between the same two
    # invoices (either way round) wait for each other instead of deadlocking.
    locked = {
        row.pk: row
        for row in Invoice.objects.select_for_update(of=("self",))
        .select_related("location")
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if (source.patient_id, source.location_id) != (target.patient_id, target.location_id):
        raise PaymentRefused(
            "Credit moves only between invoices of the same patient at the same location."
        )
    in_favour = credit_in_favour(source)
    # What a processor is still paying is not asked for again, as `take_payment` says.
    owed = balance_of(target).balance - awaiting_processor(target)
    if in_favour <= 0:
        raise PaymentRefused(f"{source.display_number} holds nothing in the patient's favour.")
    if owed <= 0:
        raise PaymentRefused(f"{target.display_number} has nothing left to pay.")
    amount = min(in_favour, owed) if amount in (None, "") else _amount(amount)
    if amount > in_favour:
        raise PaymentRefused(
            f"{source.display_number} holds {in_favour} {source.currency} in the patient's "
            f"favour; {amount} is more than that."
        )
    if amount > owed:
        raise PaymentRefused(
            f"{target.display_number} has {owed} {target.currency} left to pay; "
            f"{amount} is more than that."
        )
    moved = {"method": PaymentMethod.CREDIT_MOVED, "amount": amount, "actor": actor, "now": now}
    to_target, from_source = (
        f"Moved to {target.display_number}",
        f"Moved from {source.display_number}",
    )
    out = _record(source, kind=PaymentKind.REFUND, note=to_target, history=to_target, **moved)
    return _record(
        target,
        kind=PaymentKind.PAYMENT,
        note=from_source,
        history=from_source,
        moved_from=out,
        **moved,
    )


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
        # The invoice's prefix: the location's, which is fixed once it has invoiced.
        number_prefix=current.number_prefix,
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


def credit_missed_visit_fee(
    appointment, *, reason: str, actor: User | None, now: dt.datetime
) -> CreditNote | None:
    """A no-show undone (the patient came after all): the missed-visit fee, if one was
    invoiced, is credited in full, with the reason. What the patient already paid of it stays
    theirs, as credit on their account (a refund or a move of credit gives it back). A fee of
    an earlier no-show of the same visit, undone then, was credited then and is left as it is."""
    fees = Invoice.objects.filter(appointment=appointment, kind=InvoiceKind.NO_SHOW)
    note = None
    for invoice in fees.order_by("id"):
        amount = balance_of(_locked(invoice)).creditable
        if amount > 0:
            note = issue_credit_note(invoice, amount=amount, reason=reason, actor=actor, now=now)
    return note


def missed_visit_fees_in_favour(appointment) -> list[tuple[Invoice, Decimal]]:
    """The appointment's missed-visit fees holding money in the patient's favour (paid, then
    credited when the no-show was undone), each with that amount: the desk is told, so that it
    moves it to the visit's invoice or refunds it rather than take the visit's fee in full."""
    fees = Invoice.objects.filter(appointment=appointment, kind=InvoiceKind.NO_SHOW)
    held = ((fee, credit_in_favour(fee)) for fee in fees.select_related("location").order_by("id"))
    return [(fee, amount) for fee, amount in held if amount > 0]
