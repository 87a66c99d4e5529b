"""An appointment's status changes only as the clinic works (the services' table and the desk's
two corrections): PostgreSQL refuses any other change, however it is written (booking migration
0020, `appointment_status_changes_as_allowed`), so that no bulk update brings a cancelled visit
back or un-completes an invoiced one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction

from booking.models import CORRECTIONS, TRANSITIONS, Appointment, Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import an_appointment

pytestmark = pytest.mark.django_db

RULE = "appointment_status_changes_as_allowed"


def _set(appointment: Appointment, status: str) -> None:
    """The row's status changed straight in the table, past every Python check."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_appointment SET status = %s, "
            "cancelled_by = CASE WHEN %s = 'cancelled' THEN 'clinic' ELSE cancelled_by END "
            "WHERE id = %s",
            [status, status, appointment.pk],
        )


def test_the_database_allows_exactly_the_services_changes_and_the_corrections(clinic, patient):
    """Each status to every other, on rows written in the status to start from (first writes
    are not checked: the demo and imports write visits that already happened)."""
    first = next_weekday(clinic.location, 1, 8)
    allowed, refused_by_name = set(), set()
    for n, (start, to) in enumerate(
        (start, to) for start in Status for to in Status if start != to
    ):
        visit = an_appointment(
            clinic,
            patient,
            first + dt.timedelta(days=n),
            status=start,
            cancelled_by="clinic" if start == Status.CANCELLED else "",
        )
        try:
            with transaction.atomic():
                _set(visit, to)
        except IntegrityError as refused:
            refused_by_name.add(refused.__cause__.diag.constraint_name)
            continue
        allowed.add((start.value, to.value))
    assert allowed == {(start, to) for start, tos in TRANSITIONS.items() for to in tos} | set(
        CORRECTIONS.items()
    )
    assert refused_by_name == {RULE}


def test_a_cancelled_visit_is_not_brought_back_nor_a_completed_one_undone(clinic, patient):
    cancelled = an_appointment(
        clinic,
        patient,
        next_weekday(clinic.location, 1, 10),
        status=Status.CANCELLED,
        cancelled_by="patient",
    )
    completed = an_appointment(
        clinic, patient, next_weekday(clinic.location, 2, 10), status=Status.COMPLETED
    )
    for visit, to in ((cancelled, Status.CONFIRMED), (completed, Status.CANCELLED)):
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            _set(visit, to)
        assert refused.value.__cause__.diag.constraint_name == RULE
        start = visit.status
        visit.refresh_from_db()
        assert visit.status == start


def test_an_unknown_status_is_still_refused_by_its_own_name(clinic, patient):
    visit = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        _set(visit, "postponed")
    assert refused.value.__cause__.diag.constraint_name == "appointment_status_is_known"


def test_other_changes_to_a_finished_visit_are_not_its_business(clinic, patient):
    """Only the status is checked: a completed visit's other columns (its note from the
    patient, its version) are written as before."""
    visit = an_appointment(
        clinic, patient, next_weekday(clinic.location, 1, 10), status=Status.COMPLETED
    )
    Appointment.objects.filter(pk=visit.pk).update(version=2, status=Status.COMPLETED)
    visit.refresh_from_db()
    assert (visit.status, visit.version) == (Status.COMPLETED, 2)
