"""What is owed: an invoice's balance (total - payments + refunds - credit notes), worked out from
its rows, one invoice at a time or for a whole list in one query."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from booking.billing.models import (
    CreditNote,
    Invoice,
    Payment,
    PaymentKind,
    PaymentStatus,
    SessionDrawdown,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=12, decimal_places=2)


def _sum_of(queryset: QuerySet, field: str = "amount") -> Coalesce:
    total = (
        queryset.order_by()
        .values("invoice_id" if queryset.model is not SessionDrawdown else "package_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=MONEY), Value(ZERO), output_field=MONEY)


def with_balances(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """`invoices` with `paid`, `refunded`, `credited`, `drawn` and `balance` on each, in the one
    query that lists them."""
    received = Payment.objects.filter(invoice=OuterRef("pk"), status=PaymentStatus.SUCCEEDED)
    return invoices.annotate(
        paid=_sum_of(received.filter(kind=PaymentKind.PAYMENT)),
        refunded=_sum_of(received.filter(kind=PaymentKind.REFUND)),
        credited=_sum_of(CreditNote.objects.filter(invoice=OuterRef("pk"))),
        drawn=_sum_of(SessionDrawdown.objects.filter(package=OuterRef("pk"))),
    ).annotate(
        balance=ExpressionWrapper(
            F("total") - F("paid") + F("refunded") - F("credited"), output_field=MONEY
        )
    )


@dataclass(frozen=True)
class Balance:
    """An invoice's figures, and the arithmetic that gives what is still owed."""

    total: Decimal
    paid: Decimal
    refunded: Decimal
    credited: Decimal
    drawn: Decimal

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid + self.refunded - self.credited

    @property
    def refundable(self) -> Decimal:
        """What may still be given back: what was paid, less what already was."""
        return self.paid - self.refunded

    @property
    def settled_by_credit(self) -> bool:
        """Nothing owed and nothing kept from the patient: credit notes (a waiver, a
        correction) took the whole invoice off, so it is not "paid"."""
        return self.balance <= 0 and self.paid == self.refunded and self.credited > 0

    @property
    def creditable(self) -> Decimal:
        """What a credit note may still take off the invoice."""
        return self.total - self.credited


def balance_of(invoice: Invoice) -> Balance:
    """The figures of one invoice, read fresh (one query)."""
    row = with_balances(Invoice.objects.filter(pk=invoice.pk)).values(
        "total", "paid", "refunded", "credited", "drawn"
    )[0]
    return Balance(**row)


def owed_by_patients(
    patient_ids, *, location_id: int | None = None
) -> dict[int, dict[str, Decimal]]:
    """What each of these patients still owes (positive balances only), in each currency, in one
    query; at one location when `location_id` is given. Never one figure across currencies: a
    patient may owe Canadian dollars at one location and US dollars at another."""
    invoices = Invoice.objects.filter(patient_id__in=list(patient_ids))
    if location_id is not None:
        invoices = invoices.filter(location_id=location_id)
    owed: dict[int, dict[str, Decimal]] = {}
    rows = with_balances(invoices).values_list("patient_id", "currency", "balance")
    for patient_id, currency, balance in rows.order_by("currency"):
        if balance > 0:
            in_currency = owed.setdefault(patient_id, {})
            in_currency[currency] = in_currency.get(currency, ZERO) + balance
    return owed


def owed_and_in_favour(invoices) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """What the invoices (from `with_balances`) still ask, and what they hold in the patient's
    favour, each in each currency: apart, never one netted against the other. Credit on one
    invoice pays another only when the desk moves it there (and only at the same location), so a
    patient with 120.00 due and 50.00 in credit owes 120.00 until then, not 70.00."""
    owed: dict[str, Decimal] = {}
    in_favour: dict[str, Decimal] = {}
    for invoice in invoices:
        if invoice.balance > 0:
            owed[invoice.currency] = owed.get(invoice.currency, ZERO) + invoice.balance
        elif invoice.balance < 0:
            in_favour[invoice.currency] = in_favour.get(invoice.currency, ZERO) - invoice.balance
    return dict(sorted(owed.items())), dict(sorted(in_favour.items()))


def in_words(amounts: dict[str, Decimal]) -> str:
    """'120.00 CAD and 150.00 USD'."""
    return " and ".join(f"{amount} {currency}" for currency, amount in amounts.items())
