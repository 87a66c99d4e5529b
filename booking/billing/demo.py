"""Money in the demo clinic (`seed_demo`, after booking's part): each location's terms, fees and
cancellation policy; Grace Liu's finished course at Largo invoiced visit by visit and paid; Marcus
Reid's course at Rockville paid ahead with its three sessions done drawn from it; a late
cancellation charged at Rockville; and Jordan Miles owing Leaside the fee of last week's late
cancellation. Safe to run again: what exists is left as it is (issued invoices never change)."""

from __future__ import annotations

import datetime as dt

from booking.availability import aware
from booking.billing import world
from booking.billing.invoicing import (
    draw_session,
    invoice_appointment,
    visit_description,
    visit_fee,
)
from booking.billing.models import Invoice, InvoiceKind
from booking.billing.packages import package_of, pay_course_ahead
from booking.billing.payments import take_payment
from booking.models import Appointment, AppointmentEvent, CancelledBy, Course, Status
from clinic.demo import DemoStory
from clinic.models import ServiceKind

# Fees by currency: assessment, re-assessment, and needling by length.
FEES = {
    "CAD": {"assessment": "120.00", "reassessment": "90.00", 15: "70.00", 20: "80.00", 30: "95.00"},
    "USD": {
        "assessment": "150.00",
        "reassessment": "110.00",
        15: "85.00",
        20: "95.00",
        30: "110.00",
    },
}
CURRENCY = {"leaside": "CAD", "danforth": "CAD", "rockville": "USD", "largo": "USD"}
# Ontario waives a first late cancellation at Danforth; Leaside and Maryland charge from the first.
POLICIES = {
    "leaside": {
        "late_cancellation_fee": "40.00",
        "no_show_fee": "60.00",
        "first_offence_waived": False,
    },
    "danforth": {"late_cancellation_fee": "40.00", "no_show_fee": "60.00"},
    "rockville": {
        "late_cancellation_fee": "50.00",
        "no_show_fee": "75.00",
        "first_offence_waived": False,
    },
    "largo": {
        "late_cancellation_fee": "50.00",
        "no_show_fee": "75.00",
        "first_offence_waived": False,
    },
}
FEES_FROM = dt.date(2020, 1, 1)


def seed_billing(story: DemoStory) -> None:
    for slug, currency in CURRENCY.items():
        place = story.locations[slug]
        world.terms(place, currency=currency)
        world.cancellation_policy(place, **POLICIES[slug])
        fees = FEES[currency]
        world.fee(
            place,
            story.services[ServiceKind.ASSESSMENT],
            fees["assessment"],
            applies_from=FEES_FROM,
        )
        world.fee(
            place,
            story.services[ServiceKind.REASSESSMENT],
            fees["reassessment"],
            applies_from=FEES_FROM,
        )
        for minutes in (15, 20, 30):
            world.fee(
                place,
                story.services[ServiceKind.DRY_NEEDLING],
                fees[minutes],
                minutes=minutes,
                applies_from=FEES_FROM,
            )
    desk = story.users.get("front_desk")
    _grace_paid_visit_by_visit(story, desk)
    _marcus_paid_ahead(story, desk)
    _late_cancellation_at_rockville(story, desk)
    _jordan_owes_leaside(story)


def _invoice_done_visit(appointment: Appointment, actor) -> Invoice | None:
    """The invoice of a visit the demo wrote as done, as completing it would have issued it."""
    existing = Invoice.objects.filter(appointment=appointment).first()
    if existing is not None:
        return None
    fee = visit_fee(appointment)
    return invoice_appointment(
        appointment,
        InvoiceKind.VISIT,
        visit_description(appointment),
        fee.amount,
        course=appointment.course_id,
        actor=actor,
        now=appointment.ends_at,
    )


def _grace_paid_visit_by_visit(story: DemoStory, desk) -> None:
    """Grace's assessment and six sessions at Largo, each paid at the desk after the visit (the
    assessment by card, the sessions by her insurer directly)."""
    visits = Appointment.objects.filter(
        patient=story.patients["finished"], status=Status.COMPLETED
    ).select_related("location", "service", "course", "practitioner", "patient")
    for visit in visits.order_by("starts_at"):
        invoice = _invoice_done_visit(visit, desk)
        if invoice is not None:
            method = "insurer" if visit.course_id else "card"
            take_payment(
                invoice, amount=invoice.total, method=method, actor=desk, now=visit.ends_at
            )


def _marcus_paid_ahead(story: DemoStory, desk) -> None:
    course = Course.objects.filter(patient=story.patients["mid_course"]).first()
    if course is None or package_of(course) is not None:
        return
    sessions = list(
        course.appointments.filter(status=Status.COMPLETED)
        .select_related("location", "service", "course")
        .order_by("session_number")
    )
    if not sessions:
        return
    paid_at = sessions[0].starts_at - dt.timedelta(minutes=10)
    pay_course_ahead(course, actor=desk, amount=None, now=paid_at)
    package = package_of(course)
    take_payment(package, amount=package.total, method="card", actor=desk, now=paid_at)
    for session in sessions:
        draw_session(session, now=session.ends_at)


def _late_cancellation_at_rockville(story: DemoStory, desk) -> None:
    """Marcus cancelled a re-assessment at Rockville three hours before it, ten days ago: charged
    under Rockville's policy, and paid by card."""
    rockville = story.locations["rockville"]
    marcus = story.patients["mid_course"]
    reassessment = story.services[ServiceKind.REASSESSMENT]
    existing = Appointment.objects.filter(
        patient=marcus, location=rockville, service=reassessment, status=Status.CANCELLED
    ).first()
    if existing is not None:
        return
    course = Course.objects.filter(patient=marcus).first()
    practitioner = course.practitioner if course else story.practitioners["okafor"]
    day = rockville.today() - dt.timedelta(days=10)
    while day.weekday() > 4:
        day -= dt.timedelta(days=1)
    starts_at = aware(day, dt.time(16), rockville.zone)
    cancelled_at = starts_at - dt.timedelta(hours=3)
    appointment = Appointment.objects.create(
        patient=marcus,
        location=rockville,
        practitioner=practitioner,
        room=rockville.rooms.order_by("name").last(),
        service=reassessment,
        status=Status.CANCELLED,
        cancelled_by=CancelledBy.PATIENT,
        cancellation_reason="Stuck at work",
        late_cancellation=True,
        **Appointment.times(rockville, starts_at, 30),
    )
    AppointmentEvent.objects.create(
        appointment=appointment,
        kind=AppointmentEvent.Kind.STATUS,
        from_status=Status.CONFIRMED,
        to_status=Status.CANCELLED,
        reason="Stuck at work",
        late=True,
        at=cancelled_at,
        details={"by": "patient"},
    )
    fee = _late_fee_invoice(appointment, desk, cancelled_at)
    take_payment(fee, amount=fee.total, method="card", actor=desk, now=cancelled_at)


def _late_fee_invoice(appointment: Appointment, actor, at: dt.datetime) -> Invoice:
    policy = appointment.location.cancellation_policy
    return invoice_appointment(
        appointment,
        InvoiceKind.LATE_CANCELLATION,
        f"Late cancellation: {visit_description(appointment)}",
        policy.late_cancellation_fee,
        actor=actor,
        now=at,
    )


def _jordan_owes_leaside(story: DemoStory) -> None:
    """Jordan's late cancellation last week (booking's demo) is charged and not paid yet: a
    balance owing at Leaside, and the day view's "balance due" badge on this week's visit."""
    cancelled = (
        Appointment.objects.filter(
            patient=story.patients["patient"],
            location=story.locations["leaside"],
            status=Status.CANCELLED,
            late_cancellation=True,
        )
        .select_related("location", "service", "practitioner", "patient")
        .first()
    )
    if cancelled is None or Invoice.objects.filter(appointment=cancelled).exists():
        return
    at = cancelled.starts_at - dt.timedelta(hours=2)
    _late_fee_invoice(cancelled, None, at)
