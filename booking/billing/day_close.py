"""The desk's day close, per location and local day: what was invoiced, paid by method, refunded,
credited and is still owed on the day's invoices, and every transaction of the day for the
bookkeeper's CSV. Loaded in a fixed number of queries whatever the day's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from booking.billing.invoicing import billing_terms
from booking.billing.ledger import ZERO, with_balances
from booking.billing.models import (
    DESK_METHODS,
    CreditNote,
    Invoice,
    Payment,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
)
from clinic.models import Location


@dataclass(frozen=True)
class Transaction:
    """One row of the bookkeeper's CSV."""

    at: dt.datetime
    kind: str  # Invoice, Payment, Refund, Credit note
    number: str
    invoice_number: str
    patient_id: int
    patient: str
    method: str
    amount: Decimal
    credit_note_id: int | None = None  # the page links a credit note to its PDF


@dataclass(frozen=True)
class DayClose:
    location: Location
    day: dt.date
    currency: str
    invoiced: Decimal
    invoice_count: int
    paid_by_method: list[tuple[str, Decimal]]
    paid: Decimal
    # By method too: cash given back came out of the till, a card refund went through the
    # terminal, and each is counted against its own report.
    refunded_by_method: list[tuple[str, Decimal]]
    refunded: Decimal
    moved: Decimal  # credit moved between invoices: in neither figure above, no money moved
    credited: Decimal
    still_owed: Decimal  # on the day's invoices, as of now
    transactions: list[Transaction]

    @property
    def net_received(self) -> Decimal:
        return self.paid - self.refunded

    @property
    def net_by_method(self) -> list[tuple[str, Decimal]]:
        """What each method brought in, less what went back by it: the till's cash, the
        terminal's batch."""
        refunded = dict(self.refunded_by_method)
        return [(label, paid - refunded.get(label, ZERO)) for label, paid in self.paid_by_method]


def _local_bounds(location: Location, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = location.zone
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start, end


def close_day(location: Location, day: dt.date) -> DayClose:
    """The figures of `day` at `location` (4 queries: the terms, invoices, payments, credit
    notes)."""
    terms = billing_terms(location)
    invoices = list(
        with_balances(Invoice.objects.filter(location=location, issued_on=day))
        .select_related("patient")
        .order_by("number")
    )
    received = list(
        Payment.objects.filter(
            invoice__location=location, received_on=day, status=PaymentStatus.SUCCEEDED
        )
        .select_related("invoice__location", "invoice__patient")
        .order_by("received_at", "id")
    )
    start, end = _local_bounds(location, day)
    credits = list(
        CreditNote.objects.filter(location=location, issued_at__gte=start, issued_at__lt=end)
        .select_related("invoice__location", "invoice__patient", "location")
        .order_by("issued_at", "id")
    )
    by_method = {method: ZERO for method, _ in DESK_METHODS}
    back_by_method = {method: ZERO for method, _ in DESK_METHODS}
    moved = ZERO
    for payment in received:
        if payment.method == PaymentMethod.CREDIT_MOVED:
            # Counted once, on the side it went to: the refund it came out of is its other half.
            moved += payment.amount if payment.kind == PaymentKind.PAYMENT else ZERO
        elif payment.kind == PaymentKind.PAYMENT:
            by_method[payment.method] += payment.amount
        else:
            back_by_method[payment.method] += payment.amount
    rows = [
        Transaction(
            i.issued_at,
            "Invoice",
            i.display_number,
            i.display_number,
            i.patient_id,
            i.patient.full_name,
            "",
            i.total,
        )
        for i in invoices
    ]
    rows += [
        Transaction(
            p.received_at,
            p.get_kind_display(),
            "",
            p.invoice.display_number,
            p.invoice.patient_id,
            p.invoice.patient.full_name,
            p.get_method_display(),
            p.signed_amount,
        )
        for p in received
    ]
    rows += [
        Transaction(
            c.issued_at,
            "Credit note",
            c.display_number,
            c.invoice.display_number,
            c.invoice.patient_id,
            c.invoice.patient.full_name,
            "",
            -c.amount,
            credit_note_id=c.pk,
        )
        for c in credits
    ]
    rows.sort(key=lambda row: row.at)
    return DayClose(
        location=location,
        day=day,
        currency=terms.currency if terms else "",
        invoiced=sum((i.total for i in invoices), ZERO),
        invoice_count=len(invoices),
        paid_by_method=[
            (PaymentMethod(method).label, amount) for method, amount in by_method.items()
        ],
        paid=sum(by_method.values(), ZERO),
        refunded_by_method=[
            (PaymentMethod(method).label, amount)
            for method, amount in back_by_method.items()
            if amount
        ],
        refunded=sum(back_by_method.values(), ZERO),
        moved=moved,
        credited=sum((c.amount for c in credits), ZERO),
        still_owed=sum((max(i.balance, ZERO) for i in invoices), ZERO),
        transactions=rows,
    )


def csv_rows(close: DayClose):
    """The bookkeeper's CSV: a header, then every transaction of the day, in the location's time."""
    yield [
        "Location",
        "Date",
        "Time",
        "Type",
        "Number",
        "Invoice",
        "Patient",
        "Method",
        "Amount",
        "Currency",
    ]
    zone = close.location.zone
    for row in close.transactions:
        yield [
            close.location.name,
            close.day.isoformat(),
            row.at.astimezone(zone).strftime("%H:%M"),
            row.kind,
            row.number,
            row.invoice_number,
            row.patient,
            row.method,
            row.amount,
            close.currency,
        ]
