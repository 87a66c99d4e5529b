"""Forms of the billing room: they read and convert amounts and methods; the rules (never more
than owed, never more refunded than paid) live in `payments`, whose refusals land on a field."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from booking.billing.models import PaymentMethod


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


class PaymentForm(forms.Form):
    amount = amount_field()
    method = forms.ChoiceField(label="Paid by", choices=PaymentMethod.choices)


class RefundForm(forms.Form):
    amount = amount_field(label="Amount to give back")
    method = forms.ChoiceField(label="Given back by", choices=PaymentMethod.choices)
    reason = forms.CharField(label="Why", max_length=300)


class WaiveForm(forms.Form):
    reason = forms.CharField(label="Why the fee is waived", max_length=300)


class PaidNowForm(forms.Form):
    """What the patient pays now, if anything, and how: a method is asked only with an amount."""

    amount = amount_field(required=False, label="Amount paid now")
    method = forms.ChoiceField(
        label="Paid by", choices=[("", "Not paying now"), *PaymentMethod.choices], required=False
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
        choices=[("", "Keep it in the patient's favour"), *PaymentMethod.choices],
        required=False,
        help_text="Or give it back by this method.",
    )
