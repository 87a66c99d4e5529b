"""Two desks completing visits at the same instant, each on its own database connection, get
consecutive invoice numbers: no gap and no number twice (the counter row is locked)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from booking import services
from booking.billing import world as billing_world
from booking.billing.models import Invoice
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

    def completing(visit):
        return lambda: services.change_status(
            visit, to=Status.COMPLETED, actor=visit.practitioner.user
        )

    outcomes = at_once(
        [completing(v) for v in visits], won="done", lost=(services.BookingError, "refused")
    )
    assert outcomes == ["done"] * 6
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [1, 2, 3, 4, 5, 6]
