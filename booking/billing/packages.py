"""A course paid ahead as a package: one invoice for all its sessions at today's fee, each
completed session drawn from it (`invoicing.draw_session`), cancelled sessions never drawn (their
share stays in the package), and a course that ends early settled with its arithmetic shown: the
unused sessions credited off the package, and what was paid beyond the sessions used given back
or left in the patient's favour.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from booking.billing import payments
from booking.billing.invoicing import Line, billing_terms, fee_for, issue_invoice, settlement_of
from booking.billing.ledger import ZERO, balance_of
from booking.billing.models import Invoice, InvoiceEvent, InvoiceKind
from booking.models import ACTIVE_STATUSES, Appointment, Course, Status
from clinic.models import Location, User
from clinic.templatetags.clinic_time import at_location


def package_of(course: Course) -> Invoice | None:
    return Invoice.objects.filter(course=course, kind=InvoiceKind.COURSE_PACKAGE).first()


def _first_booked_session(course: Course) -> Appointment | None:
    first = course.appointments.filter(status__in=ACTIVE_STATUSES).order_by("session_number")
    return first.select_related("location", "service", "practitioner").first()


def package_location(course: Course) -> Location | None:
    """Where the course's package is invoiced (and its money taken and given back): the
    package's location, or before it is invoiced its first booked session's; None if neither."""
    package = package_of(course)
    if package is not None:
        return package.location
    first = _first_booked_session(course)
    return first.location if first is not None else None


@transaction.atomic
def pay_course_ahead(
    course: Course,
    *,
    actor: User,
    amount=None,
    method: str = "",
    now: dt.datetime | None = None,
) -> Invoice:
    """Invoice the whole course as a package (its sessions planned, at the fee for the course's
    session length today, at the first session's location) and take `amount` on it if given."""
    now = now or timezone.now()
    # One package, even from two desks; and priced for the sessions the course plans as it is
    # locked, not as the page read it (a plan extended meanwhile: `extend_course_to_its_plan`
    # takes the same lock, and refuses once a package exists).
    course = (
        Course.objects.select_for_update()
        .select_related("patient", "practitioner")
        .get(pk=course.pk)
    )
    if package_of(course) is not None:
        raise payments.PaymentRefused("This course is already paid ahead as a package.")
    if Invoice.objects.filter(course=course, kind=InvoiceKind.VISIT).exists():
        # Each session seen so far was invoiced as a visit: a package of every session planned
        # would bill them again (and never draw their shares).
        raise payments.PaymentRefused(
            "Sessions of this course were already seen and invoiced one by one: a package is "
            "paid before the first session. Invoice the rest as visits."
        )
    first = _first_booked_session(course)
    if first is None:
        raise payments.PaymentRefused("The course has no booked session to bill.")
    location = first.location
    if billing_terms(location) is None:
        raise payments.PaymentRefused(f"{location} has no billing terms yet.")
    fee = fee_for(location, first.service, course.minutes, now.astimezone(location.zone).date())
    if fee is None:
        raise payments.PaymentRefused(
            f"No fee is set at {location} for a {course.minutes}-minute {first.service.name.lower()}."
        )
    package = issue_invoice(
        kind=InvoiceKind.COURSE_PACKAGE,
        location=location,
        patient=course.patient,
        practitioner=course.practitioner,
        service=first.service,
        course=course,
        lines=[
            Line(
                description=f"Course of {course.sessions_planned} {first.service.name.lower()}s "
                f"({course.minutes} min), paid ahead",
                service=first.service,
                date_of_service=first.local_starts_at.date(),
                practitioner=course.practitioner,
                unit_amount=fee.amount,
                quantity=course.sessions_planned,
            )
        ],
        actor=actor,
        now=now,
    )
    if amount not in (None, ""):
        payments.take_payment(package, amount=amount, method=method, actor=actor, now=now)
    return package


@dataclass(frozen=True)
class Settlement:
    """The arithmetic of a course ended early, line by line as the desk and the patient see it."""

    total: Decimal
    sessions_planned: int
    sessions_used: int
    drawn: Decimal
    credited: Decimal  # the unused sessions, taken off the package by a credit note
    paid: Decimal  # paid less anything already refunded
    given_back: Decimal  # refunded now (0 when the money stays in the patient's favour)
    in_favour: Decimal  # what the patient has in credit afterwards

    def lines(self, currency: str) -> list[str]:
        unused = self.sessions_planned - self.sessions_used
        return [
            f"Package: {self.sessions_planned} sessions, {self.total} {currency}",
            f"Used: {self.sessions_used} sessions, {self.drawn} {currency}",
            f"Unused: {unused} sessions, {self.credited} {currency} (credit note)",
            f"Paid: {self.paid} {currency}",
            f"Paid beyond the sessions used: {self.paid} - {self.drawn} = "
            f"{self.paid - self.drawn} {currency}",
            f"Given back: {self.given_back} {currency}"
            if self.given_back
            else f"Kept in the patient's favour: {self.in_favour} {currency}",
        ]


def preview_settlement(package: Invoice) -> Settlement:
    """What ending the course now would do, before anything is written."""
    figures = balance_of(package)
    used = package.drawdowns.count()
    unused_value = figures.total - figures.credited - figures.drawn
    paid = figures.paid - figures.refunded
    beyond = max(paid - figures.drawn, ZERO)
    return Settlement(
        total=figures.total,
        sessions_planned=package.course.sessions_planned,
        sessions_used=used,
        drawn=figures.drawn,
        credited=max(unused_value, ZERO),
        paid=paid,
        given_back=beyond,
        in_favour=ZERO,
    )


@transaction.atomic
def end_course_early(
    course: Course,
    *,
    actor: User,
    refund_by: str = "",
    reason: str,
    now: dt.datetime | None = None,
) -> Settlement:
    """Settle the package of a course that ends before its last session: the unused sessions are
    credited off it, and what was paid beyond the sessions used is refunded by `refund_by` (a
    payment method), or, with no method, kept in the patient's favour (a negative balance)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise payments.PaymentRefused("Say why the course ends early.")
    # Two desks (or a double click) ending it at once: the second waits here until the first
    # commits, then works from its credit note and refund instead of writing them again.
    Course.objects.select_for_update().get(pk=course.pk)
    package = package_of(course)
    if package is None:
        raise payments.PaymentRefused("This course was not paid ahead.")
    settled = settlement_of(package)
    if settled is not None:
        # Its unused sessions were credited then, and what was paid beyond the sessions used
        # given back or kept in the patient's favour; what is kept is refunded or moved from the
        # package's own page.
        raise payments.PaymentRefused(
            f"This course already ended early "
            f"({at_location(settled.at, package.location, 'j F Y')}): its package "
            f"{package.display_number} is settled. Money it holds in the patient's favour is "
            "refunded or moved from its page."
        )
    still_booked = course.appointments.filter(
        status__in=[Status.REQUESTED, Status.CONFIRMED, Status.CHECKED_IN]
    )
    if still_booked.exists():
        raise payments.PaymentRefused(
            "Sessions of this course are still booked: cancel them first, then end the course."
        )
    # The package's row too, before its figures are read: a refund or payment being recorded
    # on its page at this moment is waited for, so the settlement works from it (a refund of
    # what it had worked out before would give back more than was paid beyond the sessions).
    payments.lock_as_seen(package, None)
    plan = preview_settlement(package)
    if plan.credited > 0:
        payments.issue_credit_note(
            package,
            amount=plan.credited,
            reason=f"Course ended early, {plan.sessions_planned - plan.sessions_used} sessions "
            f"unused: {reason}",
            actor=actor,
            now=now,
        )
    given_back = ZERO
    if refund_by and plan.given_back > 0:
        payments.refund(
            package,
            amount=plan.given_back,
            method=refund_by,
            reason=f"Course ended early: {reason}",
            actor=actor,
            now=now,
        )
        given_back = plan.given_back
    # From now on the package is closed: a session booked again is invoiced as a visit.
    InvoiceEvent.objects.create(
        invoice=package, at=now, actor=actor, kind=InvoiceEvent.Kind.SETTLED, reason=reason[:300]
    )
    after = balance_of(package).balance
    return Settlement(
        total=plan.total,
        sessions_planned=plan.sessions_planned,
        sessions_used=plan.sessions_used,
        drawn=plan.drawn,
        credited=plan.credited,
        paid=plan.paid,
        given_back=given_back,
        in_favour=max(-after, ZERO),
    )
