"""Forms of the billing room: they read and convert amounts and methods; the rules (never more
than owed, never more refunded than paid) live in `payments`, whose refusals land on a field."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from booking.billing.ledger import with_balances
from booking.billing.models import DESK_METHODS, Invoice


def amount_field(*, required: bool = True, label: str = "Amount") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.01"),
        max_value=Decimal("99999999.99"),
        max_digits=10,
        decimal_places=2,
        error_messages={
            "invalid": "Enter an amount such as 45.00.",
            "max_decimal_places": "Enter an amount to the cent, such as 45.00.",
            "min_value": "Enter an amount above zero.",
        },
    )


class InvoiceMoneyForm(forms.Form):
    """A money form of an invoice's page; it is given the invoice (most do not need it), and
    carries where the invoice's history stood when the page was drawn (`payments.lock_as_seen`)."""

    seen = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, invoice: Invoice | None = None, **kwargs):
        self.invoice = invoice
        super().__init__(*args, **kwargs)


class PaymentForm(InvoiceMoneyForm):
    amount = amount_field()
    method = forms.ChoiceField(label="Paid by", choices=DESK_METHODS)


class RefundForm(InvoiceMoneyForm):
    amount = amount_field(label="Amount to give back")
    method = forms.ChoiceField(label="Given back by", choices=DESK_METHODS)
    reason = forms.CharField(label="Why", max_length=300)


class InvoiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, invoice: Invoice) -> str:
        issued = invoice.issued_on
        return (
            f"{invoice.display_number} of {issued.day} {issued:%b %Y}: "
            f"{invoice.balance} {invoice.currency} to pay"
        )


class MoveCreditForm(InvoiceMoneyForm):
    """Pay another invoice of the patient's with what this one holds in their favour."""

    target = InvoiceChoiceField(
        label="Invoice to pay with it",
        queryset=Invoice.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "Choose one of the patient's invoices listed."},
    )
    amount = amount_field(required=False, label="Amount (empty: as much as it covers)")

    def __init__(self, *args, invoice: Invoice, **kwargs):
        super().__init__(*args, invoice=invoice, **kwargs)
        self.fields["target"].queryset = payable_with_credit_of(invoice)

    @property
    def has_choices(self) -> bool:
        return self.fields["target"].queryset.exists()


def payable_with_credit_of(source: Invoice):
    """The patient's other invoices at the same location with something left to pay, oldest
    first: where the credit held by `source` may go."""
    return (
        with_balances(
            Invoice.objects.filter(patient_id=source.patient_id, location_id=source.location_id)
        )
        .exclude(pk=source.pk)
        .filter(balance__gt=0)
        .select_related("location")
        .order_by("issued_at", "pk")
    )


class WaiveForm(InvoiceMoneyForm):
    reason = forms.CharField(label="Why the fee is waived", max_length=300)


class PaidNowForm(forms.Form):
    """What the patient pays now, if anything, and how: a method is asked only with an amount."""

    amount = amount_field(required=False, label="Amount paid now")
    method = forms.ChoiceField(
        label="Paid by", choices=[("", "Not paying now"), *DESK_METHODS], required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("amount") and not data.get("method"):
            self.add_error("method", "Choose how the patient paid.")
        return data


class CheckOutForm(PaidNowForm):
    email_receipt = forms.BooleanField(label="Email the receipt", required=False, initial=True)


class PayAheadForm(PaidNowForm):
    """A course invoiced as a package, with what is paid of it now."""


class EndCourseForm(forms.Form):
    reason = forms.CharField(label="Why the course ends early", max_length=200)
    refund_by = forms.ChoiceField(
        label="What was paid beyond the sessions used",
        choices=[("", "Keep it in the patient's favour"), *DESK_METHODS],
        required=False,
        help_text="Or give it back by this method.",
    )
