"""A patient's account says what they owe and, apart, what the clinic holds in their favour: credit
on one invoice does not pay another until the desk moves it (and only at the same location), so
netting the two would tell the desk the patient owes less than the appointment page says."""

from __future__ import annotations

import pytest
from django.urls import reverse

from booking.billing import payments
from tests.booking.billing.conftest import an_invoiced_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def owes_and_holds_credit(billed, patient, practitioner, front_desk):
    """Two assessments invoiced at 120.00: the first paid, then 50.00 of it credited (50.00 in
    the patient's favour), the second not paid (120.00 owed)."""
    first = an_invoiced_visit(billed, patient, practitioner, hours_ago=30)
    payments.take_payment(first, amount="120.00", method="card", actor=front_desk)
    payments.issue_credit_note(first, amount="50.00", reason="Charged twice", actor=front_desk)
    return an_invoiced_visit(billed, patient, practitioner, hours_ago=2)


def _words(page) -> str:
    return " ".join(page.content.decode().split())


def test_the_account_says_what_is_owed_as_the_appointment_page_does(
    owes_and_holds_credit, patient, front_desk, login
):
    browser = login(front_desk)
    visit = owes_and_holds_credit.appointment
    panel = _words(browser.get(reverse("booking:appointment_detail", args=[visit.pk])))
    account = _words(browser.get(reverse("billing:patient_account", args=[patient.pk])))
    assert "owes 120.00 CAD in all" in panel
    assert "Balance due</span> 120.00 CAD" in account
    assert "70.00" not in account
    assert "50.00 CAD in the patient's favour" in account.replace("&#x27;", "'")


def test_a_practitioner_reads_the_same_figures(owes_and_holds_credit, patient, practitioner, login):
    account = _words(
        login(practitioner.user).get(reverse("billing:patient_account", args=[patient.pk]))
    )
    assert "120.00 CAD" in account and "70.00" not in account
