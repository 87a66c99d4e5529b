"""`manage.py benchmark`'s check-out figure: complete → invoice → payment, timed at the desk."""

from __future__ import annotations

import pytest

from booking.benchmark.checkout import measure_checkout
from booking.benchmark.figures import Figures
from booking.billing.models import Invoice
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_checkout_figure_is_measured_on_invoiced_and_paid_visits(clinic):
    world = {
        "practitioners": [(clinic.practitioner, clinic.location)],
        "assessment": clinic.assessment,
        "fresh_patients": [PatientFactory().pk for _ in range(3)],
    }
    figures = Figures([])
    measure_checkout(world, figures, repeats=5)
    names = [name for name, _, _ in figures.lines]
    assert names == ["checkout_p50_ms", "checkout_p95_ms"]
    assert Invoice.objects.count() == 8
    assert all(value > 0 for _, value, _ in figures.lines)
