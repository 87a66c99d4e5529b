"""A fee the clinic sets (a visit's, a late cancellation's, a missed visit's) is at most
`HIGHEST_FEE`: said on the field in the administration, refused by PostgreSQL however it is
written (billing migration 0009). At that fee the largest invoice the product writes, a course
of six paid ahead with the highest tax, is still written; above it, the invoice could not be."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from booking.billing import world as billing_world
from booking.billing.models import HIGHEST_FEE, CancellationPolicy, Fee, Invoice
from booking.billing.packages import pay_course_ahead
from booking.models import Status
from tests.booking.factories import a_course
from tests.database import refused_by, write_sql

pytestmark = pytest.mark.django_db


def test_a_fee_above_the_highest_is_said_on_its_field(clinic):
    fee = Fee(
        location=clinic.location,
        service=clinic.assessment,
        applies_from=clinic.location.today(),
        amount=HIGHEST_FEE + Decimal("0.01"),
    )
    with pytest.raises(ValidationError) as refused:
        fee.full_clean()
    assert "less than or equal to 1000000.00" in str(refused.value.message_dict["amount"])
    fee.amount = HIGHEST_FEE
    fee.full_clean()


def test_a_cancellation_fee_above_the_highest_is_said_on_its_field(clinic):
    policy = CancellationPolicy(location=clinic.location, no_show_fee=Decimal("2000000.00"))
    with pytest.raises(ValidationError) as refused:
        policy.full_clean()
    assert set(refused.value.message_dict) == {"no_show_fee"}


def test_postgresql_refuses_a_fee_above_the_highest(clinic):
    billing_world.terms(clinic.location, currency="CAD")
    fee = billing_world.fee(clinic.location, clinic.assessment, "120.00")
    with refused_by("fee_at_most_the_highest_fee"):
        write_sql("UPDATE billing_fee SET amount = 1000000.01 WHERE id = %s", fee.pk)
    policy = billing_world.cancellation_policy(clinic.location, late_cancellation_fee="40.00")
    with refused_by("cancellation_fees_at_most_the_highest_fee"):
        write_sql(
            "UPDATE billing_cancellationpolicy SET late_cancellation_fee = 1000000.01 WHERE id = %s",
            policy.pk,
        )


def test_a_course_of_six_paid_ahead_at_the_highest_fee_and_tax_is_invoiced(
    clinic, patient, front_desk
):
    billing_world.terms(clinic.location, currency="CAD", tax_exempt=False, tax_rate="0.9999")
    billing_world.fee(clinic.location, clinic.needling, str(HIGHEST_FEE))
    first = timezone.now() + dt.timedelta(days=7)
    course = a_course(clinic, patient, statuses=[Status.CONFIRMED] * 6, first_start=first)
    package = pay_course_ahead(course, actor=front_desk, amount=None)
    assert package.subtotal == HIGHEST_FEE * 6
    assert package.total == Invoice.objects.get(pk=package.pk).total == Decimal("11999400.00")
