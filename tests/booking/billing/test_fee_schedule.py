"""The fee schedule: which fee applies on a day (fee changes at their boundary, a length's own
fee before the any-length one), and what the database refuses (two fees for one day, negative
amounts, an unknown currency)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from booking.billing import world as billing_world
from booking.billing.invoicing import fee_for
from booking.billing.models import CancellationPolicy, Fee, LocationBilling

pytestmark = pytest.mark.django_db


def test_a_new_fee_applies_from_its_own_day_and_not_the_day_before(clinic):
    billing_world.fee(
        clinic.location, clinic.assessment, "120.00", applies_from=dt.date(2026, 1, 1)
    )
    billing_world.fee(
        clinic.location, clinic.assessment, "130.00", applies_from=dt.date(2027, 3, 1)
    )
    on = lambda day: fee_for(clinic.location, clinic.assessment, 60, day).amount  # noqa: E731
    assert on(dt.date(2027, 2, 28)) == Decimal("120.00")
    assert on(dt.date(2027, 3, 1)) == Decimal("130.00")
    assert fee_for(clinic.location, clinic.assessment, 60, dt.date(2025, 12, 31)) is None


def test_a_fee_for_the_length_wins_over_the_fee_for_any_length(clinic):
    billing_world.fee(clinic.location, clinic.needling, "80.00")
    billing_world.fee(clinic.location, clinic.needling, "95.00", minutes=30)
    day = dt.date(2027, 1, 5)
    assert fee_for(clinic.location, clinic.needling, 30, day).amount == Decimal("95.00")
    assert fee_for(clinic.location, clinic.needling, 20, day).amount == Decimal("80.00")


def test_fees_belong_to_their_location(clinic, other_location):
    billing_world.fee(other_location, clinic.assessment, "150.00")
    assert fee_for(clinic.location, clinic.assessment, 60, dt.date(2027, 1, 5)) is None


@pytest.mark.parametrize("minutes", [None, 30])
def test_the_database_refuses_two_fees_from_the_same_day(clinic, minutes):
    def needling_fee(amount: str) -> Fee:
        """A needling fee from New Year's Day 2027, written straight to the database."""
        return Fee.objects.create(
            location=clinic.location,
            service=clinic.needling,
            minutes=minutes,
            applies_from=dt.date(2027, 1, 1),
            amount=Decimal(amount),
        )

    needling_fee("90.00")
    with pytest.raises(IntegrityError, match="fee_one_per_service_length_and_date"):
        with transaction.atomic():
            needling_fee("99.00")


def test_the_database_refuses_negative_money_and_unknown_currencies(clinic):
    with pytest.raises(IntegrityError, match="fee_not_negative"):
        with transaction.atomic():
            Fee.objects.create(
                location=clinic.location,
                service=clinic.assessment,
                applies_from=dt.date(2027, 1, 1),
                amount=Decimal("-1.00"),
            )
    with pytest.raises(IntegrityError, match="billing_currency_is_known"):
        with transaction.atomic():
            LocationBilling.objects.create(location=clinic.location, currency="EUR", tax_label="x")
    with pytest.raises(IntegrityError, match="cancellation_fees_not_negative"):
        with transaction.atomic():
            CancellationPolicy.objects.create(
                location=clinic.location, late_cancellation_fee=Decimal("-5")
            )


def test_tax_is_data_an_exempt_location_charges_none_and_a_taxed_one_rounds_to_the_cent(clinic):
    exempt = billing_world.terms(clinic.location, currency="CAD")
    assert exempt.tax_on(Decimal("95.00")) == Decimal("0.00")
    taxed = billing_world.terms(
        clinic.location, currency="CAD", tax_exempt=False, tax_rate="0.13", tax_label="HST 13%"
    )
    assert taxed.tax_on(Decimal("95.55")) == Decimal("12.42")  # 12.4215


@pytest.mark.parametrize(
    ("subtotal", "tax"),
    [("112.50", "14.63"), ("12.50", "1.63"), ("37.50", "4.88")],
)
def test_half_a_cent_of_tax_is_rounded_up_as_the_tax_authorities_say(clinic, subtotal, tax):
    """14.625 is 14.63 (CRA: a half cent or more rounds up), not the banker's 14.62."""
    taxed = billing_world.terms(
        clinic.location, currency="CAD", tax_exempt=False, tax_rate="0.13", tax_label="HST 13%"
    )
    assert taxed.tax_on(Decimal(subtotal)) == Decimal(tax)
