"""Completing a visit issues its invoice in the same transaction; a missed visit or a late
cancellation is charged as the location's policy says; numbers run per location and year."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.billing.ledger import balance_of
from booking.billing.models import Invoice, InvoiceEvent, InvoiceKind
from booking.models import Status
from tests.booking.factories import a_course, an_appointment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _visit(clinic, patient, *, hours_ago=2, **fields):
    start = timezone.now() - dt.timedelta(hours=hours_ago)
    fields.setdefault("status", Status.CHECKED_IN)
    return an_appointment(clinic, patient, start, **fields)


def _complete(appointment, actor):
    return services.change_status(appointment, to=Status.COMPLETED, actor=actor)


def test_completing_a_visit_issues_its_invoice_with_what_a_receipt_needs(
    billed, patient, practitioner
):
    visit = _visit(billed, patient)
    _complete(visit, practitioner.user)
    invoice = Invoice.objects.get(appointment=visit)
    assert (invoice.kind, invoice.patient, invoice.practitioner, invoice.service) == (
        InvoiceKind.VISIT,
        patient,
        practitioner,
        billed.assessment,
    )
    assert (invoice.currency, invoice.subtotal, invoice.tax, invoice.total) == (
        "CAD",
        Decimal("120.00"),
        Decimal("0.00"),
        Decimal("120.00"),
    )
    assert invoice.tax_label.startswith("HST exempt")
    (line,) = invoice.lines.all()
    assert line.date_of_service == visit.local_starts_at.date()
    assert line.practitioner == practitioner and line.amount == Decimal("120.00")
    assert "Initial assessment (60 min)" in line.description
    assert invoice.issued_on == billed.location.today()
    assert balance_of(invoice).balance == Decimal("120.00")
    assert [e.kind for e in invoice.events.all()] == [InvoiceEvent.Kind.ISSUED]


def test_a_session_is_billed_at_the_fee_for_its_length(billed, patient, practitioner):
    course = a_course(
        billed,
        patient,
        statuses=[Status.CHECKED_IN],
        first_start=timezone.now() - dt.timedelta(hours=2),
        minutes=20,
    )
    visit = course.appointments.get()
    _complete(visit, practitioner.user)
    assert Invoice.objects.get(appointment=visit).total == Decimal("80.00")


def test_a_service_with_no_fee_is_not_invoiced(clinic, patient, practitioner):
    """The clinic has not said what it costs (no billing terms or no fee): nothing is invented."""
    visit = _visit(clinic, patient)
    _complete(visit, practitioner.user)
    assert not Invoice.objects.exists()


def test_a_refused_completion_leaves_no_invoice(billed, patient, practitioner):
    visit = _visit(billed, patient, status=Status.CONFIRMED)
    with pytest.raises(services.TransitionRefused):
        _complete(visit, practitioner.user)
    assert not Invoice.objects.exists()


def test_numbers_run_per_location_and_year_without_gaps(billed, other_location, practitioner):
    from booking.billing import world as billing_world
    from tests.booking.factories import a_clinic

    numbers = []
    for hours in (30, 28, 26):
        visit = _visit(billed, PatientFactory(), hours_ago=hours)
        _complete(visit, practitioner.user)
        numbers.append(Invoice.objects.get(appointment=visit).number)
    assert numbers == [1, 2, 3]
    elsewhere = a_clinic(location=other_location)
    billing_world.terms(other_location, currency="USD")
    billing_world.fee(other_location, elsewhere.assessment, "150.00")
    visit = _visit(elsewhere, PatientFactory())
    _complete(visit, elsewhere.practitioner.user)
    invoice = Invoice.objects.get(appointment=visit)
    assert (invoice.number, invoice.currency, invoice.display_number) == (
        1,
        "USD",
        f"ROC-{invoice.year}-0001",
    )


@pytest.mark.time_machine(dt.datetime(2027, 12, 31, 23, 30, tzinfo=dt.UTC))
def test_the_year_of_a_number_is_the_locations_year(billed, patient, practitioner):
    """23:30 UTC on 31 December is still 2027 in Toronto (18:30); the numbering year follows."""
    visit = _visit(billed, patient)
    _complete(visit, practitioner.user)
    assert Invoice.objects.get(appointment=visit).year == 2027


def test_a_no_show_is_charged_except_a_first_one_when_the_policy_waives_it(
    billed, patient, front_desk
):
    first = _visit(billed, patient, hours_ago=50, status=Status.CONFIRMED)
    services.change_status(first, to=Status.NO_SHOW, actor=front_desk)
    assert not Invoice.objects.exists()
    second = _visit(billed, patient, hours_ago=3, status=Status.CONFIRMED)
    services.change_status(second, to=Status.NO_SHOW, actor=front_desk)
    invoice = Invoice.objects.get()
    assert (invoice.appointment, invoice.kind, invoice.total) == (
        second,
        InvoiceKind.NO_SHOW,
        Decimal("60.00"),
    )
    assert invoice.lines.get().description.startswith("Missed visit: ")


def test_a_policy_that_waives_nothing_charges_the_first_no_show(billed, patient, front_desk):
    billed.location.cancellation_policy.first_offence_waived = False
    billed.location.cancellation_policy.save()
    visit = _visit(billed, patient, status=Status.CONFIRMED)
    services.change_status(visit, to=Status.NO_SHOW, actor=front_desk)
    assert Invoice.objects.get().kind == InvoiceKind.NO_SHOW


def _cancel(appointment, *, by, actor, at):
    return services.cancel_appointment(
        appointment, by=by, actor=actor, reason="Cannot come", now=at, offer_to_waitlist=False
    )


def test_a_late_cancellation_by_the_patient_is_charged_and_one_by_the_clinic_is_not(
    billed, patient, front_desk
):
    billed.location.cancellation_policy.first_offence_waived = False
    billed.location.cancellation_policy.save()
    now = timezone.now()
    by_clinic = _visit(billed, patient, hours_ago=-5, status=Status.CONFIRMED)
    _cancel(by_clinic, by="clinic", actor=front_desk, at=now)
    assert not Invoice.objects.exists()
    by_patient = _visit(billed, patient, hours_ago=-8, status=Status.CONFIRMED)
    _cancel(by_patient, by="patient", actor=front_desk, at=now)
    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.total) == (InvoiceKind.LATE_CANCELLATION, Decimal("40.00"))
    in_time = _visit(billed, patient, hours_ago=-48, status=Status.CONFIRMED)
    _cancel(in_time, by="patient", actor=front_desk, at=now)
    assert Invoice.objects.count() == 1


def test_a_request_never_confirmed_is_withdrawn_free_whenever_it_is(
    billed, patient, front_desk, login
):
    """The patient had no appointment yet (nobody kept the time for them): withdrawing a
    request inside the notice is not a late cancellation, is not charged, and is not counted
    in their late-cancel history."""
    billed.location.cancellation_policy.first_offence_waived = False
    billed.location.cancellation_policy.save()
    request = _visit(billed, patient, hours_ago=-5, status=Status.REQUESTED)
    cancel_page = login(front_desk).get(reverse("booking:desk_cancel", args=[request.pk]))
    page = cancel_page.content.decode()
    assert "withdrawing it is never a late cancellation" in page
    assert "will show in their history" not in page
    _cancel(request, by="patient", actor=front_desk, at=timezone.now())
    request.refresh_from_db()
    assert request.status == Status.CANCELLED and not request.late_cancellation
    assert not Invoice.objects.exists()
    confirmed = _visit(billed, patient, hours_ago=-6, status=Status.CONFIRMED)
    _cancel(confirmed, by="patient", actor=front_desk, at=timezone.now())
    assert Invoice.objects.get().kind == InvoiceKind.LATE_CANCELLATION


@pytest.mark.django_db(transaction=True)
def test_two_no_shows_marked_at_the_same_moment_waive_only_the_first(billed, patient, front_desk):
    """Two desks mark two of the patient's missed visits (with two practitioners) at once: the
    second waits for the first, then sees it, and charges its fee; read side by side, both were
    the 'first' and neither was charged."""
    from tests.booking.factories import a_colleague
    from tests.booking.races import first_holds_its_lock

    monday = _visit(billed, patient, hours_ago=50, status=Status.CONFIRMED)
    today = _visit(
        billed, patient, hours_ago=3, status=Status.CONFIRMED, practitioner=a_colleague(billed)
    )
    first, second, waited = first_holds_its_lock(
        lambda: services.change_status(monday, to=Status.NO_SHOW, actor=front_desk),
        lambda: services.change_status(today, to=Status.NO_SHOW, actor=front_desk),
        won="marked",
        lost=(services.BookingError, "refused"),
    )
    assert (first, second, waited) == ("marked", "marked", True)
    invoice = Invoice.objects.get()
    assert (invoice.appointment_id, invoice.kind) == (today.pk, InvoiceKind.NO_SHOW)
