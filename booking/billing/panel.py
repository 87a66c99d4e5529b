"""The money on an appointment's page for staff: the patient's balance, this visit's invoices, and
the one-step check-out form while the patient is checked in (booking.desk.panel adds it)."""

from __future__ import annotations

from django.urls import reverse

from booking.billing import access as billing_access
from booking.billing.forms import CheckOutForm
from booking.billing.invoicing import fee_for
from booking.billing.ledger import owed_by_patients, with_balances
from booking.billing.models import Invoice
from booking.models import Appointment, Status


def money_panel(appointment: Appointment, user) -> dict:
    patient = appointment.patient
    if not billing_access.sees_balance_of(user, patient):
        return {}
    takes = user.role in billing_access.TAKES_PAYMENTS
    money = {
        "owed": owed_by_patients([patient.pk]).get(patient.pk),
        "account_url": reverse("billing:patient_account", args=[patient.pk]),
        "invoices": list(
            with_balances(Invoice.objects.filter(appointment=appointment)).select_related(
                "location"
            )
        )
        if takes
        else None,
    }
    if takes and appointment.status == Status.CHECKED_IN:
        fee = fee_for(
            appointment.location,
            appointment.service,
            appointment.minutes,
            appointment.local_starts_at.date(),
        )
        money["fee"] = fee
        money["checkout_form"] = CheckOutForm(
            initial={"amount": fee.amount if fee else None, "email_receipt": True}
        )
    return {"money": money}
