"""Managers keep fees, billing terms and cancellation policies in the admin; invoices and payments
are shown there read-only (they change only through the billing services)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.billing.models import Fee
from tests.booking.billing.conftest import an_invoiced_visit

pytestmark = pytest.mark.django_db


def test_a_manager_adds_a_fee_and_a_second_for_the_same_day_is_refused_on_the_form(
    login, manager, clinic
):
    browser = login(manager)
    fields = {
        "location": clinic.location.pk,
        "service": clinic.needling.pk,
        "minutes": 30,
        "applies_from": "2027-07-01",
        "amount": "99.00",
    }
    assert browser.post(reverse("admin:billing_fee_add"), fields).status_code == 302
    again = browser.post(reverse("admin:billing_fee_add"), fields | {"amount": "98.00"})
    assert again.status_code == 200 and "errorlist" in again.content.decode()
    assert Fee.objects.count() == 1


@pytest.mark.parametrize("model", ["locationbilling", "cancellationpolicy", "fee"])
def test_a_manager_opens_the_money_settings(login, manager, model):
    assert login(manager).get(reverse(f"admin:billing_{model}_changelist")).status_code == 200


def test_an_invoice_is_read_only_in_the_admin(login, manager, billed, patient, practitioner):
    invoice = an_invoiced_visit(billed, patient, practitioner, hours_ago=2)
    browser = login(manager)
    assert browser.get(reverse("admin:billing_invoice_changelist")).status_code == 200
    page = browser.get(reverse("admin:billing_invoice_change", args=[invoice.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert browser.get(reverse("admin:billing_invoice_add")).status_code == 403


def test_the_front_desk_does_not_reach_the_money_settings(login, front_desk):
    response = login(front_desk).get(reverse("admin:billing_fee_changelist"))
    assert response.status_code in (302, 403)
