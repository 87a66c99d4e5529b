"""The results dashboard reads report rows that PostgreSQL keeps up to date
(booking.models.report_rows): they follow every change of the records, and a figure's
patients — counted as rows with no earlier row of the same patient in the same line and
period — are exactly the distinct patients, whatever the period, scope and line.

Visits and sessions are added up from their rows' tallies, appended to by every change and
folded by the worker: the figures are the same before and after a fold, and a fold running
beside a desk's change (or another fold) loses nothing and counts nothing twice.

(The figures themselves, worked out by hand, are in test_results_dashboard.py.)
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from booking import reports
from booking.models import Appointment, CancelledBy, Status, VisitReportRow, VisitReportTally
from booking.reports.queries import fetch_visits, query_params
from tests.booking.factories import AppointmentFactory, a_clinic, a_colleague
from tests.booking.races import at_once
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

FIRST_DAY = dt.date(2026, 1, 5)
STATUSES = [Status.COMPLETED, Status.NO_SHOW, Status.CANCELLED, Status.CONFIRMED]


@pytest.fixture
def two_clinics():
    """Two locations; one practitioner works at both, a colleague at the first only."""
    first = a_clinic()
    # (Booked directly, the visits need no working hours there.)
    second = a_clinic(time_zone="America/New_York")
    return {
        "places": [
            (first.location, first.practitioner, first.rooms[0]),
            (first.location, a_colleague(first), first.rooms[1]),
            (second.location, first.practitioner, second.rooms[0]),
        ],
        "patients": [PatientFactory() for _ in range(3)],
        "service": first.assessment,
    }


def _visit(world, patient: int, place: int, day: int, status) -> None:
    location, practitioner, room = world["places"][place]
    # 10:00 in the clinics' zones: far from midnight, so the local date is the day.
    starts = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=day), dt.time(15), dt.UTC)
    AppointmentFactory(
        location=location,
        practitioner=practitioner,
        room=room,
        patient=world["patients"][patient],
        service=world["service"],
        starts_at=starts,
        status=status,
        late_cancellation=status == Status.CANCELLED,
        cancelled_by=CancelledBy.PATIENT if status == Status.CANCELLED else "",
    )


def test_a_visits_row_follows_its_appointment(two_clinics):
    _visit(two_clinics, 0, 0, 3, Status.CONFIRMED)
    row = VisitReportRow.objects.get()
    assert (row.status, row.local_date, row.month) == (
        "confirmed",
        FIRST_DAY + dt.timedelta(3),
        202601,
    )

    with connection.cursor() as cursor:  # whoever writes: raw SQL too
        cursor.execute("UPDATE booking_appointment SET status = 'no_show'")
    assert VisitReportRow.objects.get().status == "no_show"
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM booking_appointment")
    assert not VisitReportRow.objects.exists()


def _expected(visits, period, scope, world):
    """The visits' figures counted the plain way: distinct patients with sets."""
    lines = defaultdict(
        lambda: {"appointments": 0, "patients": set(), "due": 0, "due_patients": set()}
    )
    for patient, place, day, status in visits:
        location, practitioner, _ = world["places"][place]
        date = FIRST_DAY + dt.timedelta(days=day)
        if not period.start <= date <= period.end:
            continue
        if scope.location_id not in (None, location.pk):
            continue
        if scope.practitioner_id not in (None, practitioner.pk):
            continue
        keys = [
            ("total", None),
            ("location", location.pk),
            ("practitioner", practitioner.pk),
            ("month", date.year * 100 + date.month),
        ]
        for key in keys:
            line = lines[key]
            line["appointments"] += 1
            line["patients"].add(patient)
            if status in (Status.COMPLETED, Status.NO_SHOW):
                line["due"] += 1
                line["due_patients"].add(patient)
    return {
        key: {name: len(value) if isinstance(value, set) else value for name, value in line.items()}
        for key, line in lines.items()
    }


visits = st.lists(
    st.tuples(
        st.integers(0, 2),  # patient
        st.integers(0, 2),  # place: location and practitioner
        st.integers(0, 100),  # day
        st.sampled_from(STATUSES),
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda visit: visit[2],  # one visit a day: no overlap or travel to arrange
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    visits=visits, start=st.integers(0, 100), length=st.integers(0, 100), scope=st.integers(0, 3)
)
# A patient seen before the period and again in it, at another location: once in the total.
@example(
    visits=[(0, 0, 10, Status.COMPLETED), (0, 2, 40, Status.COMPLETED), (0, 0, 50, Status.NO_SHOW)],
    start=30,
    length=40,
    scope=0,
)
def test_patients_are_counted_once_in_every_line(two_clinics, visits, start, length, scope):
    location = two_clinics["places"][0][0].pk
    practitioner = two_clinics["places"][0][1].pk
    scope = [
        reports.Scope(),
        reports.Scope(location_id=location),
        reports.Scope(practitioner_id=practitioner),
        reports.Scope(location_id=location, practitioner_id=practitioner),
    ][scope]
    period = reports.Period(
        FIRST_DAY + dt.timedelta(days=start), FIRST_DAY + dt.timedelta(days=start + length)
    )
    with transaction.atomic():
        for visit in visits:
            _visit(two_clinics, *visit)
        got = fetch_visits(query_params(period, scope), scope)
        # Folded by the worker, the tallies give the same figures.
        reports.fold_tallies()
        folded = fetch_visits(query_params(period, scope), scope)
        transaction.set_rollback(True)
    assert folded == got

    expected = _expected(visits, period, scope, two_clinics)
    assert {
        key: {name: line[name] for name in ("appointments", "patients", "due", "due_patients")}
        for key, line in got.items()
    } == expected


@pytest.mark.django_db(transaction=True)
def test_two_desks_changing_one_patients_visits_at_once_both_count(two_clinics):
    """Each change rebuilds the patient's rows: the second waits for the first to commit
    (an advisory lock a patient), then rebuilds from both; neither fails."""
    _visit(two_clinics, 0, 0, 3, Status.CHECKED_IN)  # to be completed
    _visit(two_clinics, 0, 1, 4, Status.CONFIRMED)  # to be marked a no-show
    first, second = Appointment.objects.order_by("starts_at")

    def mark(pk: int, status: str):
        def attempt():
            with transaction.atomic():
                Appointment.objects.filter(pk=pk).update(status=status)
                with connection.cursor() as cursor:  # still open while the other one writes
                    cursor.execute("SELECT pg_sleep(0.3)")

        return attempt

    outcomes = at_once(
        [mark(first.pk, Status.COMPLETED), mark(second.pk, Status.NO_SHOW)],
        won="saved",
        lost=(IntegrityError, "refused"),
    )

    assert outcomes == ["saved", "saved"]
    assert dict(VisitReportRow.objects.values_list("appointment_id", "status")) == {
        first.pk: "completed",
        second.pk: "no_show",
    }


def _tally_entries() -> tuple[int, int]:
    """How many tally entries there are, and how many visit rows they count."""
    entries = VisitReportTally.objects.aggregate(n=Count("id"), rows=Sum("rows_counted"))
    return entries["n"], entries["rows"]


@pytest.mark.django_db(transaction=True)
def test_folding_beside_a_desks_change_and_another_fold_loses_nothing(two_clinics):
    """A desk's change is still open while two folds run: the folds take turns and leave its
    entries (not committed yet) to the next fold; nothing is lost or counted twice."""
    for day, patient in ((3, 0), (4, 1), (5, 2)):
        # The first checked in: the desk's change completes it.
        _visit(two_clinics, patient, 0, day, Status.CHECKED_IN if day == 3 else Status.CONFIRMED)
    first = Appointment.objects.order_by("starts_at").first()

    written, folds_done = threading.Event(), threading.Semaphore(0)

    def change():
        with transaction.atomic():
            Appointment.objects.filter(pk=first.pk).update(status=Status.COMPLETED)
            written.set()
            # Still open while both folds run (a bound, so a broken fold fails, not hangs).
            for _ in range(2):
                assert folds_done.acquire(timeout=10)

    def fold_later():
        assert written.wait(timeout=10)
        try:
            reports.fold_tallies()
        finally:
            folds_done.release()

    outcomes = at_once(
        [change, fold_later, fold_later], won="done", lost=(IntegrityError, "refused")
    )

    assert outcomes == ["done", "done", "done"]
    assert _tally_entries()[1] == VisitReportRow.objects.count() == 3
    assert VisitReportTally.objects.filter(folded=False).exists()  # the change's, left over
    reports.fold_tallies()
    entries, rows = _tally_entries()
    assert rows == 3 and not VisitReportTally.objects.filter(folded=False).exists()
    # One entry a combination: the three patients' first visits differ only by their date.
    assert entries == 3
    period = reports.Period(FIRST_DAY, FIRST_DAY + dt.timedelta(days=10))
    line = fetch_visits(query_params(period, reports.Scope()), reports.Scope())[("total", None)]
    assert (line["appointments"], line["due"], line["patients"]) == (3, 1, 3)
