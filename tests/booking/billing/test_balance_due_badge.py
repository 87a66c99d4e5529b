"""A patient who owes money carries a "balance due" badge on the day view, worked out in the same
query as the other badges' history: the day view's query count does not move."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.billing import payments
from booking.desk.badges import patient_histories
from tests.booking.billing.conftest import an_invoiced_visit
from tests.booking.factories import an_appointment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_the_badge_shows_while_a_balance_is_due_and_goes_when_it_is_paid(
    billed, patient, practitioner, front_desk
):
    invoice = an_invoiced_visit(billed, patient, practitioner, 30)
    assert patient_histories([patient.pk])[patient.pk].owes
    payments.take_payment(invoice, amount="120.00", method="cash", actor=front_desk)
    assert not patient_histories([patient.pk])[patient.pk].owes


def test_the_day_view_shows_it_in_the_same_number_of_queries(
    billed, patient, practitioner, front_desk, login, intake
):
    browser = login(front_desk)
    day = billed.location.today() + dt.timedelta(days=7)
    while day.weekday() > 4:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(10), tzinfo=billed.location.zone)
    others = [PatientFactory() for _ in range(3)]
    for n, someone in enumerate([patient, *others]):
        an_appointment(billed, someone, start + dt.timedelta(minutes=90 * n))

    def day_page():
        return browser.get(
            reverse("booking:location_day", args=[billed.location.slug]),
            {"date": day.isoformat()},
        )

    day_page()
    with CaptureQueriesContext(connection) as before:
        without = day_page().content.decode().count("badge-owing")  # the key explains it
    for n, someone in enumerate([patient, *others]):
        an_invoiced_visit(billed, someone, practitioner, 40 + 2 * n)
    with CaptureQueriesContext(connection) as after:
        html = day_page().content.decode()
    assert html.count("badge-owing") >= without + 4
    assert len(after.captured_queries) == len(before.captured_queries)
