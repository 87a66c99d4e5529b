"""Desks completing visits at the same instant, each on its own database connection, get
consecutive invoice numbers: no gap and no number twice (the counter row is locked). Without the
lock, two of them read the same last number and one is refused by the unique number."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services
from booking.billing import world as billing_world
from booking.billing.models import Invoice, NumberCounter
from booking.models import Status
from tests.booking.factories import a_clinic, a_colleague, an_appointment
from tests.booking.races import at_once
from tests.factories import PatientFactory


@pytest.mark.django_db(transaction=True)
def test_visits_completed_at_the_same_instant_get_consecutive_numbers(location, practitioner):
    clinic = a_clinic(location=location, practitioner=practitioner, rooms=6)
    billing_world.terms(location, currency="CAD")
    billing_world.fee(location, clinic.assessment, "120.00")
    start = timezone.now() - dt.timedelta(hours=3)
    # Six practitioners in six rooms, finishing at the same moment.
    colleagues = [practitioner] + [a_colleague(clinic) for _ in range(5)]
    visits = [
        an_appointment(
            clinic,
            PatientFactory(),
            start,
            room=clinic.rooms[n],
            practitioner=colleagues[n],
            status=Status.CHECKED_IN,
        )
        for n in range(6)
    ]

    # The year's counter row exists already (an earlier invoice), as on any day but the first
    # of a year: the desks then meet at its row lock, not at the row's creation.
    NumberCounter.objects.create(
        location=location, year=location.today().year, series="invoice", last_number=1
    )

    def completing(visit):
        return lambda: services.change_status(
            visit, to=Status.COMPLETED, actor=visit.practitioner.user
        )

    outcomes = at_once(
        [completing(v) for v in visits], won="done", lost=(services.BookingError, "refused")
    )
    assert outcomes == ["done"] * 6
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [2, 3, 4, 5, 6, 7]


@pytest.mark.django_db(transaction=True)
def test_a_second_desk_waits_for_the_first_to_commit_and_takes_the_next_number(location):
    """Deterministic: desk A takes a number and keeps its transaction open; desk B, on its own
    connection, asks meanwhile. B must wait for A's commit and get A's number + 1 (read without
    the lock, B would get A's number again)."""
    import threading
    import time

    from django.db import connection, transaction

    from booking.billing.invoicing import next_number

    NumberCounter.objects.create(location=location, year=2027, series="invoice", last_number=4)
    a_has_number, numbers = threading.Event(), {}

    def desk_a():
        try:
            with transaction.atomic():
                numbers["a"] = next_number(location, 2027)
                a_has_number.set()
                time.sleep(0.5)  # desk B asks now, while A's transaction is open
                numbers["a_commits"] = time.monotonic()
        finally:
            connection.close()

    def desk_b():
        try:
            a_has_number.wait(5)
            with transaction.atomic():
                numbers["b"] = next_number(location, 2027)
                numbers["b_has_number"] = time.monotonic()
        finally:
            connection.close()

    threads = [threading.Thread(target=desk_a), threading.Thread(target=desk_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (numbers["a"], numbers["b"]) == (5, 6)
    assert numbers["b_has_number"] >= numbers["a_commits"]
