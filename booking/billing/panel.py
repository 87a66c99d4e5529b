"""The money on an appointment's page for staff: the patient's balance, this visit's invoices, and
the one-step check-out form while the patient is checked in (booking.desk.panel adds it)."""

from __future__ import annotations

from django.urls import reverse

from booking.billing import access as billing_access
from booking.billing.forms import CheckOutForm, EndCourseForm, PayAheadForm
from booking.billing.invoicing import settlement_of, visit_fee
from booking.billing.ledger import in_words, owed_by_patients, with_balances
from booking.billing.models import Invoice
from booking.billing.packages import package_of, preview_settlement
from booking.models import Appointment, Status


def money_panel(appointment: Appointment, user) -> dict:
    patient = appointment.patient
    if not billing_access.sees_balance_of(user, patient):
        return {}
    takes = user.role in billing_access.TAKES_PAYMENTS
    money = {
        # In each currency: a patient may owe at a Canadian and at a US location.
        "owed": in_words(owed_by_patients([patient.pk]).get(patient.pk, {})),
        "account_url": reverse("billing:patient_account", args=[patient.pk]),
        "invoices": list(
            with_balances(Invoice.objects.filter(appointment=appointment)).select_related(
                "location"
            )
        )
        if takes
        else None,
    }
    package = package_of(appointment.course) if appointment.course_id else None
    if package is not None and settlement_of(package) is not None:
        package = None  # ended early: a session seen now is invoiced as a visit (`draw_session`)
    if takes and appointment.status == Status.CHECKED_IN and package is not None:
        money["package"] = package
        money["checkout_form"] = CheckOutForm(initial={"email_receipt": False})
    elif takes and appointment.status == Status.CHECKED_IN:
        fee = visit_fee(appointment)
        money["fee"] = fee
        money["checkout_form"] = CheckOutForm(
            initial={"amount": fee.amount if fee else None, "email_receipt": True}
        )
    return {"money": money}


def course_money_panel(course, user) -> dict:
    """A course's package for staff who take payments: paying it ahead, what is drawn, and
    ending it early with the arithmetic shown before anything is written."""
    if not billing_access.handles_course_money(user, course):
        return {}
    package = package_of(course)
    if package is None:
        return {"pay_ahead_form": PayAheadForm()}
    package = with_balances(Invoice.objects.filter(pk=package.pk)).select_related("location")[0]
    settled = settlement_of(package)
    if settled is not None:
        # Settled once: nothing more to end, nor an "if it ended now" to show.
        return {"package": package, "settled": settled}
    plan = preview_settlement(package)
    return {
        "package": package,
        "settlement_lines": plan.lines(package.currency),
        "end_form": EndCourseForm(),
    }
