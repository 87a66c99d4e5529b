"""Money in the demo: Grace Liu's finished course invoiced and paid, Marcus Reid's course paid
ahead with three sessions drawn, a late-cancellation fee at Rockville, a balance owing at
Leaside; seeding again changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from booking.billing.ledger import balance_of, owed_by_patients
from booking.billing.models import Invoice, InvoiceKind, SessionDrawdown
from clinic.models import Patient

pytestmark = pytest.mark.django_db


def _patient(first, last):
    return Patient.objects.get(first_name=first, last_name=last)


def test_grace_liu_s_finished_course_is_invoiced_and_paid(seeded_demo):
    grace = _patient("Grace", "Liu")
    invoices = list(Invoice.objects.filter(patient=grace))
    assert len(invoices) == 7  # the assessment and six sessions
    assert {i.currency for i in invoices} == {"USD"}
    assert all(balance_of(i).balance == 0 for i in invoices)
    assert {i.location.slug for i in invoices} == {"largo"}


def test_marcus_reid_s_course_is_paid_ahead_with_three_sessions_drawn(seeded_demo):
    marcus = _patient("Marcus", "Reid")
    package = Invoice.objects.get(patient=marcus, kind=InvoiceKind.COURSE_PACKAGE)
    figures = balance_of(package)
    assert figures.balance == 0
    assert SessionDrawdown.objects.filter(package=package).count() == 3
    assert figures.drawn == package.total / package.course.sessions_planned * 3


def test_a_late_cancellation_fee_at_rockville_and_a_balance_owing_at_leaside(seeded_demo):
    fee = Invoice.objects.get(kind=InvoiceKind.LATE_CANCELLATION, location__slug="rockville")
    assert (fee.total, fee.currency) == (Decimal("50.00"), "USD")
    jordan = _patient("Jordan", "Miles")
    leaside = fee.location.__class__.objects.get(slug="leaside")
    assert owed_by_patients([jordan.pk], location_id=leaside.pk) == {
        jordan.pk: {"CAD": Decimal("40.00")}
    }


def test_seeding_again_writes_no_second_invoice(seeded_demo):
    before = Invoice.objects.count()
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Invoice.objects.count() == before
