"""The billing part of the clinic's world: a location's billing terms, cancellation policy and
fees, written one way for the demo, the benchmark and the tests alike (the `again` rows of the
demo are found by their natural key)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from booking.billing.models import CancellationPolicy, Currency, Fee, LocationBilling
from clinic.models import Location, Service

# What the law says today about physiotherapy by a regulated practitioner, as data.
EXEMPT = {
    Currency.CAD: "HST exempt: physiotherapy by a regulated health professional",
    Currency.USD: "No sales tax: physical therapy services",
}


def terms(
    place: Location,
    *,
    currency: str,
    tax_exempt: bool = True,
    tax_rate: str = "0",
    tax_label: str = "",
) -> LocationBilling:
    """`place`'s billing terms, made or brought up to date (its invoice prefix, once given,
    stays: it is fixed once the location has invoiced)."""
    values = {
        "currency": currency,
        "tax_exempt": tax_exempt,
        "tax_rate": Decimal(tax_rate),
        "tax_label": tax_label or EXEMPT[Currency(currency)],
    }
    billing, _ = LocationBilling.objects.update_or_create(
        location=place,
        defaults=values,
        create_defaults={**values, "invoice_prefix": free_invoice_prefix(place)},
    )
    place.billing = billing
    return billing


def free_invoice_prefix(place: Location) -> str:
    """The first three letters of `place`'s address name (LEA for leaside), or, when another
    location prints those, with a digit (LEA2): no two locations print the same numbers."""
    letters = "".join(c for c in place.slug.upper() if c.isascii() and c.isalnum())
    base = (letters if letters[:1].isalpha() else f"L{letters}")[:3].ljust(2, "X")
    taken = set(
        LocationBilling.objects.exclude(location=place).values_list("invoice_prefix", flat=True)
    )
    candidates = [base] + [f"{base}{n}" for n in range(2, 1000)]
    return next(prefix for prefix in candidates if prefix not in taken)


def cancellation_policy(
    place: Location,
    *,
    late_cancellation_fee: str = "0",
    no_show_fee: str = "0",
    first_offence_waived: bool = True,
) -> CancellationPolicy:
    policy, _ = CancellationPolicy.objects.update_or_create(
        location=place,
        defaults={
            "late_cancellation_fee": Decimal(late_cancellation_fee),
            "no_show_fee": Decimal(no_show_fee),
            "first_offence_waived": first_offence_waived,
        },
    )
    place.cancellation_policy = policy
    return policy


def fee(
    place: Location,
    service: Service,
    amount: str,
    *,
    minutes: int | None = None,
    applies_from: dt.date = dt.date(2020, 1, 1),
) -> Fee:
    """The fee of `service` (of `minutes`, or any length) at `place` from `applies_from`."""
    row, _ = Fee.objects.update_or_create(
        location=place,
        service=service,
        minutes=minutes,
        applies_from=applies_from,
        defaults={"amount": Decimal(amount)},
    )
    return row
