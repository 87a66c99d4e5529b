"""Billing fixtures: the `clinic` persona with billing terms (CAD, exempt), fees and a policy."""

from __future__ import annotations

import pytest

from booking.billing import world as billing_world


@pytest.fixture
def billed(clinic):
    """`clinic` at Leaside billing in CAD, tax exempt: an assessment 120.00, a 30-minute needling
    session 95.00 (any other length 80.00); 24 hours' notice, a late cancellation 40.00 and a
    no-show 60.00, the first offence waived."""
    billing_world.terms(clinic.location, currency="CAD")
    billing_world.fee(clinic.location, clinic.assessment, "120.00")
    billing_world.fee(clinic.location, clinic.needling, "95.00", minutes=30)
    billing_world.fee(clinic.location, clinic.needling, "80.00")
    billing_world.cancellation_policy(
        clinic.location, late_cancellation_fee="40.00", no_show_fee="60.00"
    )
    return clinic
