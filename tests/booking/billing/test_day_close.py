"""The desk's day close: per location and local day, invoiced, paid by method, refunded,
credited and still owed, on screen and as a CSV through the shared writer (formulas neutralised,
the export access-logged), in a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from booking.billing import payments
from booking.billing.day_close import close_day
from clinic.models import AccessLog
from tests.booking.billing.conftest import an_invoiced_visit
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_till(billed, practitioner, front_desk, manager):
    """Three visits invoiced today: one paid by card, one part-paid in cash then 10.00 refunded,
    one waived by the manager; a patient whose name starts a formula."""
    invoices = []
    names = ["Ana", "=HYPERLINK(1)", "Bo"]
    for n, name in enumerate(names):
        patient = PatientFactory(first_name=name)
        invoices.append(an_invoiced_visit(billed, patient, practitioner, hours_ago=5 - n * 1.5))
    card, cash, waived = invoices
    payments.take_payment(card, amount="120.00", method="card", actor=front_desk)
    payments.take_payment(cash, amount="50.00", method="cash", actor=front_desk)
    payments.refund(cash, amount="10.00", method="cash", reason="Change", actor=front_desk)
    payments.waive_fee(waived, actor=manager, reason="Goodwill")
    return invoices


def test_the_day_adds_up(billed, busy_till):
    close = close_day(billed.location, billed.location.today())
    methods = dict(close.paid_by_method)
    assert (close.invoice_count, close.invoiced) == (3, 360)
    assert (methods["Card at the terminal"], methods["Cash"], close.paid) == (120, 50, 170)
    assert (close.refunded, close.net_received, close.credited) == (10, 160, 120)
    # 0 on the card invoice, 120 - 50 + 10 on the cash one, 0 on the waived one.
    assert close.still_owed == 80
    assert close_day(billed.location, billed.location.today() - dt.timedelta(days=1)).paid == 0


def test_the_csv_is_the_days_transactions_with_formulas_neutralised_and_logged(
    billed, busy_till, front_desk, login
):
    response = login(front_desk).get(reverse("billing:day_close_csv", args=[billed.location.slug]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["Location", "Date", "Time", "Type"]
    kinds = [row[3] for row in rows[1:]]
    assert sorted(kinds) == sorted(["Invoice"] * 3 + ["Payment"] * 2 + ["Refund", "Credit note"])
    assert any(row[6].startswith("'=HYPERLINK") for row in rows[1:])
    assert {row[9] for row in rows[1:]} == {"CAD"}
    export = AccessLog.objects.get(action="export", record_type="billing.day_close")
    assert len(export.patient_ids) == 3


def test_the_page_shows_the_figures_in_a_fixed_number_of_queries(
    billed, busy_till, front_desk, login, django_assert_max_num_queries
):
    browser = login(front_desk)
    address = reverse("billing:day_close", args=[billed.location.slug])
    browser.get(address)
    with django_assert_max_num_queries(12):
        html = browser.get(address).content.decode()
    assert "Still owed on the day&#x27;s invoices" in html or "Still owed on the day's" in html
    assert "80.00" in html


def test_a_bad_date_is_a_clear_400_not_a_500(billed, front_desk, login):
    response = login(front_desk).get(
        reverse("billing:day_close", args=[billed.location.slug]), {"date": "2027-02-30"}
    )
    assert response.status_code == 400


def test_refunds_are_told_by_method_so_the_till_and_the_terminal_reconcile(
    billed, busy_till, front_desk, login
):
    """Cash given back came out of the till and a card refund went through the terminal: the
    close says each apart, and what each method brought in net, as the drawer and the terminal's
    batch report are counted."""
    card = busy_till[0]
    payments.refund(card, amount="20.00", method="card", reason="Overcharged", actor=front_desk)
    close = close_day(billed.location, billed.location.today())
    assert close.refunded == 30
    assert dict(close.refunded_by_method) == {"Cash": 10, "Card at the terminal": 20}
    net = dict(close.net_by_method)
    assert (net["Cash"], net["Card at the terminal"]) == (40, 100)
    page = login(front_desk).get(reverse("billing:day_close", args=[billed.location.slug]))
    text = " ".join(page.content.decode().split())
    assert 'Refunded: Cash</th><td class="text-end">10.00' in text
    assert 'Net: Cash</th><td class="text-end">40.00' in text
