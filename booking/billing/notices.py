"""What the patient is told about the cancellation policy's fees: before they book, and when
cancelling now would be late (counted on the location's clock, as the fee is)."""

from __future__ import annotations

import datetime as dt

from booking.billing.invoicing import (
    billing_terms,
    cancellation_policy,
    is_first_offence,
    late_cancellation_fee,
)
from booking.models import MOVABLE_STATUSES, Appointment
from clinic.models import Location, Patient


def _money(location: Location, amount) -> str:
    terms = billing_terms(location)
    return f"{amount} {terms.currency}" if terms else f"{amount}"


def policy_notice(location: Location) -> str:
    """The location's cancellation policy in one sentence, or '' when it charges nothing."""
    policy = cancellation_policy(location)
    if policy is None or (policy.late_cancellation_fee <= 0 and policy.no_show_fee <= 0):
        return ""
    parts = [
        f"You can cancel free of charge until {location.cancellation_notice_hours} hours before"
    ]
    if policy.late_cancellation_fee > 0:
        parts.append(f"a later cancellation costs {_money(location, policy.late_cancellation_fee)}")
    if policy.no_show_fee > 0:
        parts.append(f"missing the appointment costs {_money(location, policy.no_show_fee)}")
    text = "; ".join(parts) + "."
    if policy.first_offence_waived:
        text += " Your first late cancellation or missed appointment here is not charged."
    return text


def late_cancel_notice(appointment: Appointment, at: dt.datetime) -> str:
    """What cancelling `appointment` at `at` would cost, said before the patient phones to do
    it; '' when it is free."""
    fee = late_cancellation_fee(appointment, at)
    if fee is None:
        return ""
    policy = cancellation_policy(appointment.location)
    # Shown beside "it is less than N hours before your appointment: please phone", which says
    # why it is late: the same notice closes changes online and makes the fee due.
    text = f"Cancelling now costs {_money(appointment.location, fee)}"
    if policy.first_offence_waived and is_first_offence(appointment):
        return text + ", but not this time: it would be your first late cancellation here."
    return text + "."


def closing_costs(patient: Patient, at: dt.datetime) -> list[tuple[Appointment, str]]:
    """What closing `patient`'s account at `at` would cost: each visit to come that the closing
    cancels (as the patient's own cancellation) inside its location's notice, with what
    cancelling it now costs. Said on the page before they close it, as before they phone."""
    upcoming = Appointment.objects.filter(
        patient=patient, status__in=MOVABLE_STATUSES, starts_at__gt=at
    ).select_related("location", "service", "course")
    costs = ((visit, late_cancel_notice(visit, at)) for visit in upcoming.order_by("starts_at"))
    return [(visit, notice) for visit, notice in costs if notice]
