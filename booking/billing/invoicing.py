"""Issuing invoices: the fee that applies, the number that comes next, and the invoice a visit,
a missed visit or a late cancellation leaves behind.

Booking's status changes call `invoice_visit`, `charge_missed_visit` and `charge_late_cancellation`
inside their own transaction, so an appointment is never completed without its invoice (nor
invoiced without being completed). A location with no billing terms, or a service with no fee at
that location on that day, is not invoiced: the clinic has not said what it costs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from booking.billing.models import (
    CancellationPolicy,
    Fee,
    Invoice,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    LocationBilling,
    NumberCounter,
    Series,
    SessionDrawdown,
)
from booking.models import Appointment, CancelledBy, Course, Status
from clinic.models import Location, Patient, Practitioner, Service, User


@dataclass(frozen=True)
class Line:
    """What one line of a new invoice says."""

    description: str
    service: Service | int
    date_of_service: dt.date
    practitioner: Practitioner | int
    unit_amount: Decimal
    quantity: int = 1

    @property
    def amount(self) -> Decimal:
        return self.unit_amount * self.quantity


def next_number(location: Location, year: int, series: str = Series.INVOICE) -> int:
    """The next number of `series` at `location` in `year`, with no gaps: the counter row is
    locked (`SELECT ... FOR UPDATE`) until the caller's transaction ends, so a second desk waits
    for the first to commit, and a transaction that rolls back takes its number back with it. The
    first number of a year makes the row first (`ON CONFLICT DO NOTHING`: two desks making it at
    once do not collide), then locks it the same way."""
    counters = NumberCounter.objects.select_for_update()
    key = {"location": location, "year": year, "series": series}
    counter = counters.filter(**key).first()
    if counter is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {NumberCounter._meta.db_table} "
                "(location_id, year, series, last_number) VALUES (%s, %s, %s, 0) "
                "ON CONFLICT (location_id, year, series) DO NOTHING",
                [location.pk, year, series],
            )
        counter = counters.get(**key)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number


def fee_for(location: Location, service: Service, minutes: int | None, on: dt.date) -> Fee | None:
    """The fee of `service` (for `minutes`, or for any length when no fee names that length) at
    `location` on the local date `on`: the latest one applying from that day or before."""
    fees = Fee.objects.filter(
        location=location, service_id=_pk(service), applies_from__lte=on
    ).filter(Q(minutes=minutes) | Q(minutes__isnull=True))
    # A fee for the exact length wins over one for any length; then the newest.
    return fees.order_by("minutes", "-applies_from").first()


def visit_fee(appointment: Appointment) -> Fee | None:
    """The fee of a visit: its service, for its length, at its location on its local date."""
    return fee_for(
        appointment.location,
        appointment.service_id,
        appointment.minutes,
        appointment.local_starts_at.date(),
    )


def billing_terms(location: Location) -> LocationBilling | None:
    try:
        return location.billing
    except LocationBilling.DoesNotExist:
        return None


def cancellation_policy(location: Location) -> CancellationPolicy | None:
    try:
        return location.cancellation_policy
    except CancellationPolicy.DoesNotExist:
        return None


def _pk(record) -> int | None:
    """A record's id, whether the record or its id is given (callers that hold only the ids, an
    appointment's `patient_id` say, spare a query)."""
    return getattr(record, "pk", record)


@transaction.atomic
def issue_invoice(
    *,
    kind: str,
    location: Location,
    patient: Patient | int,
    practitioner: Practitioner | int,
    service: Service | int,
    lines: list[Line],
    actor: User | None,
    appointment: Appointment | None = None,
    course=None,
    now: dt.datetime | None = None,
) -> Invoice:
    """Write an invoice with its lines and its first history row; it is issued (and unchangeable)
    from this moment. Tax follows the location's billing terms."""
    now = now or timezone.now()
    terms = billing_terms(location)
    if terms is None:
        raise ValueError(f"{location} has no billing terms (currency, tax) yet.")
    issued_on = now.astimezone(location.zone).date()
    subtotal = sum((line.amount for line in lines), Decimal("0.00"))
    tax = terms.tax_on(subtotal)
    invoice = Invoice.objects.create(
        location=location,
        number_prefix=terms.invoice_prefix,
        year=issued_on.year,
        number=next_number(location, issued_on.year),
        kind=kind,
        patient_id=_pk(patient),
        practitioner_id=_pk(practitioner),
        service_id=_pk(service),
        appointment=appointment,
        course_id=_pk(course),
        issued_at=now,
        issued_on=issued_on,
        currency=terms.currency,
        subtotal=subtotal,
        tax_label=terms.tax_label,
        tax=tax,
        total=subtotal + tax,
        issued_by=actor if actor is not None and actor.is_authenticated else None,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            description=line.description[:200],
            service_id=_pk(line.service),
            date_of_service=line.date_of_service,
            practitioner_id=_pk(line.practitioner),
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=line.amount,
        )
        for line in lines
    )
    InvoiceEvent.objects.create(
        invoice=invoice,
        at=now,
        actor=invoice.issued_by,
        kind=InvoiceEvent.Kind.ISSUED,
        amount=invoice.total,
    )
    return invoice


def invoice_appointment(
    appointment: Appointment,
    kind: str,
    description: str,
    amount: Decimal,
    *,
    actor: User | None,
    now: dt.datetime | None,
    course: int | None = None,
) -> Invoice:
    """An invoice about `appointment`, of one line: its visit (or the fee for missing it) at
    `amount`. The fees and policies are the caller's (the demo invoices visits it wrote as done)."""
    line = Line(
        description=description,
        service=appointment.service_id,
        date_of_service=appointment.local_starts_at.date(),
        practitioner=appointment.practitioner_id,
        unit_amount=amount,
    )
    return issue_invoice(
        kind=kind,
        location=appointment.location,
        patient=appointment.patient_id,
        practitioner=appointment.practitioner_id,
        service=appointment.service_id,
        appointment=appointment,
        course=course,
        lines=[line],
        actor=actor,
        now=now,
    )


def visit_description(appointment: Appointment) -> str:
    """'Dry-needling session (30 min), session 3 of 6'."""
    text = f"{appointment.service.name} ({appointment.minutes} min)"
    if appointment.course_id and appointment.session_number:
        text += f", session {appointment.session_number} of {appointment.course.sessions_planned}"
    return text


def invoice_visit(
    appointment: Appointment, *, actor: User | None, now: dt.datetime | None = None
) -> Invoice | None:
    """The invoice of a completed visit, at the fee of its service and length on its local date.
    A session of a course paid ahead is drawn from the package instead."""
    if appointment.course_id:
        # The course's row first, as paying it ahead and ending it early take it: a course
        # being paid ahead at this moment is waited for, then drawn from, rather than this
        # session invoiced as a visit too (and a package refuses a course with a visit's
        # invoice written meanwhile).
        Course.objects.select_for_update().filter(pk=appointment.course_id).first()
        if draw_session(appointment, now=now):
            return None
    if billing_terms(appointment.location) is None:
        return None
    fee = visit_fee(appointment)
    if fee is None:
        return None
    description = visit_description(appointment)
    return invoice_appointment(
        appointment,
        InvoiceKind.VISIT,
        description,
        fee.amount,
        course=appointment.course_id,
        actor=actor,
        now=now,
    )


def settlement_of(package: Invoice) -> InvoiceEvent | None:
    """The line of a package's history that closed it when its course ended early, if it did:
    nothing is drawn from it after that, and it is settled once."""
    return package.events.filter(kind=InvoiceEvent.Kind.SETTLED).order_by("id").first()


def draw_session(appointment: Appointment, *, now: dt.datetime | None = None) -> bool:
    """Draw a completed course session from its course's package, if the course was paid ahead:
    one session's share of the package (its total over the sessions planned; the last session
    takes what rounding left). Returns whether it was drawn: not when the course was not paid
    ahead, nor once it ended early (its unused sessions were credited off the package, what was
    paid for them perhaps given back; a session booked again after that is a visit like any)."""
    package = (
        Invoice.objects.select_for_update()
        .filter(course_id=appointment.course_id, kind=InvoiceKind.COURSE_PACKAGE)
        .first()
    )
    if package is None or settlement_of(package) is not None:
        return False
    drawn = list(package.drawdowns.values_list("amount", flat=True))
    sessions = appointment.course.sessions_planned
    share = (package.total / sessions).quantize(Decimal("0.01"))
    if len(drawn) + 1 >= sessions:
        share = package.total - sum(drawn, Decimal("0.00"))
    now = now or timezone.now()
    SessionDrawdown.objects.create(package=package, appointment=appointment, amount=share, at=now)
    InvoiceEvent.objects.create(
        invoice=package,
        at=now,
        kind=InvoiceEvent.Kind.DRAWN,
        amount=share,
        reason=visit_description(appointment),
    )
    return True


def is_first_offence(appointment: Appointment) -> bool:
    """No earlier missed visit or late cancellation by the patient at this location."""
    earlier = Appointment.objects.filter(
        patient_id=appointment.patient_id, location_id=appointment.location_id
    ).exclude(pk=appointment.pk)
    return not earlier.filter(
        Q(status=Status.NO_SHOW)
        | Q(status=Status.CANCELLED, cancelled_by=CancelledBy.PATIENT, late_cancellation=True)
    ).exists()


def _charge(
    appointment: Appointment,
    *,
    kind: str,
    fee: Decimal,
    description: str,
    actor: User | None,
    now: dt.datetime | None,
) -> Invoice | None:
    policy = cancellation_policy(appointment.location)
    if policy is None or fee <= 0 or billing_terms(appointment.location) is None:
        return None
    if policy.first_offence_waived and is_first_offence(appointment):
        return None
    return invoice_appointment(appointment, kind, description, fee, actor=actor, now=now)


def charge_missed_visit(
    appointment: Appointment, *, actor: User | None, now: dt.datetime | None = None
) -> Invoice | None:
    """The no-show fee of the location's policy, unless it waives a first offence and this is
    the patient's first."""
    policy = cancellation_policy(appointment.location)
    return _charge(
        appointment,
        kind=InvoiceKind.NO_SHOW,
        fee=policy.no_show_fee if policy else Decimal("0"),
        description=f"Missed visit: {visit_description(appointment)}",
        actor=actor,
        now=now,
    )


def late_cancellation_fee(appointment: Appointment, at: dt.datetime) -> Decimal | None:
    """What cancelling `appointment` at `at` would cost the patient under the location's policy
    (before any first-offence waiver), or None if it is free. Shown to the patient before they
    cancel."""
    if not appointment.cancelling_is_late(at):
        return None
    return _late_cancellation_fee_at(appointment.location)


def _late_cancellation_fee_at(location: Location) -> Decimal | None:
    policy = cancellation_policy(location)
    if policy is None or policy.late_cancellation_fee <= 0:
        return None
    return policy.late_cancellation_fee


def charge_late_cancellation(
    appointment: Appointment, *, actor: User | None, now: dt.datetime | None = None
) -> Invoice | None:
    """The late-cancellation fee when the patient cancelled inside the location's notice (counted
    on its clock, as the cancellation's late flag is). A cancellation by the clinic is never
    charged."""
    now = now or timezone.now()
    if appointment.cancelled_by != CancelledBy.PATIENT or not appointment.late_cancellation:
        # The flag the cancellation recorded (`Appointment.cancelling_is_late`, read before the
        # status changed: a request withdrawn is never late).
        return None
    fee = _late_cancellation_fee_at(appointment.location)
    if fee is None:
        return None
    return _charge(
        appointment,
        kind=InvoiceKind.LATE_CANCELLATION,
        fee=fee,
        description=f"Late cancellation: {visit_description(appointment)}",
        actor=actor,
        now=now,
    )
