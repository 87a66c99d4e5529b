"""What a patient owes is said in each currency: Leaside bills in Canadian dollars and Rockville
in US dollars, and a sum of the two is no amount at all."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.billing import world as billing_world
from tests.booking.billing.conftest import an_invoiced_visit
from tests.booking.factories import a_clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def owes_in_two_currencies(billed, patient, practitioner, other_location):
    """The patient owes 120.00 CAD at Leaside and 150.00 USD at Rockville."""
    leaside = an_invoiced_visit(billed, patient, practitioner, hours_ago=2)
    rockville = a_clinic(location=other_location)
    billing_world.terms(other_location, currency="USD")
    billing_world.fee(other_location, rockville.assessment, "150.00")
    patient.locations.add(other_location)
    an_invoiced_visit(rockville, patient, rockville.practitioner, hours_ago=30)
    return leaside


def test_the_appointment_page_says_the_balance_in_each_currency(
    owes_in_two_currencies, front_desk, login
):
    visit = owes_in_two_currencies.appointment
    page = login(front_desk).get(reverse("booking:appointment_detail", args=[visit.pk]))
    text = page.content.decode()
    assert "owes 120.00 CAD and 150.00 USD in all" in text
    assert "270.00" not in text


def test_a_practitioner_sees_the_same_figures(owes_in_two_currencies, practitioner, login):
    visit = owes_in_two_currencies.appointment
    page = login(practitioner.user).get(reverse("booking:appointment_detail", args=[visit.pk]))
    assert "owes 120.00 CAD and 150.00 USD in all" in page.content.decode()
