"""Pages of money: an invoice (with payment, refund and waiver at the desk), check-out from an
appointment, a patient's invoices (for the patient, and their balance for staff). Every object is
fetched through `booking.billing.access` and every read of an invoice is access-logged."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from booking import access as booking_access
from booking import services
from booking.billing import access as billing_access
from booking.billing import payments
from booking.billing.checkout import check_out
from booking.billing.forms import (
    CheckOutForm,
    EndCourseForm,
    MoveCreditForm,
    PayAheadForm,
    PaymentForm,
    RefundForm,
    WaiveForm,
)
from booking.billing.ledger import balance_of, owed_and_in_favour, with_balances
from booking.billing.models import Invoice, SessionDrawdown
from booking.billing.packages import end_course_early, pay_course_ahead
from booking.billing.receipts import email_receipt
from clinic import access
from clinic.audit import log_access, record_access
from clinic.models import AccessLog, Role

takes_payments = access.role_required(Role.FRONT_DESK, Role.MANAGER)
# Practitioners see a patient's balance, never the invoices (their lines name the services).
sees_invoices = access.role_required(Role.PATIENT, Role.FRONT_DESK, Role.MANAGER)


def invoice_url(invoice: Invoice) -> str:
    return reverse("billing:invoice_detail", args=[invoice.pk])


def _invoice_page(request, invoice: Invoice, *, status: int = 200, **forms):
    figures = balance_of(invoice)
    is_patient = request.user.role == Role.PATIENT
    takes = request.user.role in billing_access.TAKES_PAYMENTS
    seen = {"seen": payments.history_mark(invoice)} if takes else {}
    context = {
        "invoice": invoice,
        "figures": figures,
        "lines": invoice.lines.select_related("practitioner__user", "service"),
        "payments": invoice.payments.all(),
        "credit_notes": invoice.credit_notes.all(),
        "events": None if is_patient else invoice.events.select_related("actor"),
        "drawdowns": invoice.drawdowns.select_related("appointment"),
        "is_patient": is_patient,
        "payment_form": forms.get("payment_form")
        or (
            PaymentForm(initial={"amount": figures.balance} | seen)
            if takes and figures.balance > 0
            else None
        ),
        "refund_form": forms.get("refund_form")
        or (RefundForm(initial=seen) if takes and figures.refundable > 0 else None),
        "waive_form": forms.get("waive_form")
        or (
            WaiveForm(initial=seen)
            if request.user.role == Role.MANAGER and figures.balance > 0
            else None
        ),
        "move_form": forms.get("move_form") or _move_form(invoice, takes, figures.balance, seen),
    }
    return render(request, "billing/invoice_detail.html", context, status=status)


def _move_form(invoice: Invoice, takes: bool, balance, seen: dict) -> MoveCreditForm | None:
    """Offered when the invoice holds money in the patient's favour and another of theirs at the
    location has something to pay."""
    if not takes or balance >= 0:
        return None
    form = MoveCreditForm(invoice=invoice, initial=seen)
    return form if form.has_choices else None


@sees_invoices
@require_safe
def invoice_detail(request, pk: int):
    invoice = billing_access.get_visible_invoice(request.user, pk)
    log_access(request, invoice)
    return _invoice_page(request, invoice)


def _form_name(form) -> str:
    names = {
        PaymentForm: "payment_form",
        RefundForm: "refund_form",
        WaiveForm: "waive_form",
        MoveCreditForm: "move_form",
    }
    return names[type(form)]


def _invoice_money(request, pk: int, form_class, refused_on: str, act):
    """The money forms of an invoice's page: the invoice the user may see, the form checked, then
    `act(invoice, cleaned_data)`, which returns the success message. Otherwise the invoice's page
    again (422) with the form's errors, or the service's refusal on the field `refused_on`; a
    form from a page drawn before the invoice's latest payment, refund or credit (sent twice, or
    after another desk's) records nothing and shows the invoice as it is now."""
    invoice = billing_access.get_visible_invoice(request.user, pk)
    form = form_class(request.POST, invoice=invoice)
    if form.is_valid():
        try:
            with transaction.atomic():
                data = form.cleaned_data
                payments.lock_as_seen(invoice, data["seen"], also=data.get("target"))
                done = act(invoice, data)
        except payments.InvoiceChanged as changed:
            messages.error(request, str(changed))
            return redirect(invoice_url(invoice))
        except payments.PaymentRefused as refused:
            form.add_error(refused_on, str(refused))
        else:
            messages.success(request, done)
            return redirect(invoice_url(invoice))
    # Drawn again with the refusal, the page shows the invoice like any reading of it.
    log_access(request, invoice)
    return _invoice_page(request, invoice, status=422, **{_form_name(form): form})


@takes_payments
@require_POST
def invoice_pay(request, pk: int):
    def pay(invoice, data) -> str:
        with transaction.atomic():
            payments.take_payment(
                invoice, amount=data["amount"], method=data["method"], actor=request.user
            )
            if request.POST.get("email_receipt"):
                email_receipt(invoice, now=timezone.now())
        log_access(request, invoice, AccessLog.Action.CHANGE)
        return f"Payment of {data['amount']} {invoice.currency} recorded."

    return _invoice_money(request, pk, PaymentForm, "amount", pay)


@takes_payments
@require_POST
def invoice_refund(request, pk: int):
    def refund(invoice, data) -> str:
        payments.refund(
            invoice,
            amount=data["amount"],
            method=data["method"],
            reason=data["reason"],
            actor=request.user,
        )
        log_access(request, invoice, AccessLog.Action.CHANGE)
        return f"Refund of {data['amount']} {invoice.currency} recorded."

    return _invoice_money(request, pk, RefundForm, "amount", refund)


@takes_payments
@require_POST
def invoice_move_credit(request, pk: int):
    def move(invoice, data) -> str:
        target = data["target"]
        moved = payments.move_credit(invoice, target, amount=data["amount"], actor=request.user)
        log_access(request, invoice, AccessLog.Action.CHANGE)
        log_access(request, target, AccessLog.Action.CHANGE)
        return f"{moved.amount} {invoice.currency} moved to {target.display_number}."

    return _invoice_money(request, pk, MoveCreditForm, "amount", move)


@access.manager_required
@require_POST
def invoice_waive(request, pk: int):
    def waive(invoice, data) -> str:
        note = payments.waive_fee(
            invoice, actor=request.user, reason=data["reason"], request=request
        )
        return f"{note.amount} {invoice.currency} waived: a credit note was issued."

    return _invoice_money(request, pk, WaiveForm, "reason", waive)


@takes_payments
@require_POST
def appointment_checkout(request, pk: int):
    """Check-out from the appointment's page: complete, invoice, payment, receipt."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    back = reverse("booking:appointment_detail", args=[appointment.pk])
    form = CheckOutForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(back)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "The form was out of date; here is the appointment as it is now.")
        return redirect(back)
    try:
        done = check_out(
            appointment,
            actor=request.user,
            amount=form.cleaned_data["amount"],
            method=form.cleaned_data["method"],
            email=form.cleaned_data["email_receipt"],
            expected_version=version,
        )
    except (services.BookingError, payments.PaymentRefused) as refused:
        messages.error(request, str(refused))
        return redirect(back)
    log_access(request, done.appointment, "change")
    if (
        done.invoice is None
        and SessionDrawdown.objects.filter(appointment=done.appointment).exists()
    ):
        messages.success(
            request,
            f"Checked out: {appointment.patient.full_name}'s session is drawn from the course's "
            "package.",
        )
        return redirect(back)
    if done.invoice is None:
        messages.warning(
            request,
            f"{appointment.patient.full_name} is checked out; no fee is set for this service "
            "here, so no invoice was issued.",
        )
        return redirect(back)
    paid = f", {done.payment.amount} {done.invoice.currency} paid" if done.payment else ""
    messages.success(request, f"Checked out: {done.invoice.display_number}{paid}.")
    return redirect(invoice_url(done.invoice))


@access.patient_required
@require_safe
def my_invoices(request):
    patient = access.own_patient_record(request.user)
    invoices = list(
        with_balances(Invoice.objects.filter(patient=patient)).select_related("location", "service")
    )
    return render(request, "billing/my_invoices.html", {"invoices": invoices})


@access.staff_required
@require_safe
def patient_account(request, patient_pk: int):
    """A patient's money for staff: what they owe, and (except for practitioners, who see the
    balance alone) their invoices, those of the user's locations (each one's own page is no
    more open to the desk of another location)."""
    patient = access.get_visible_patient(request.user, patient_pk)
    if not billing_access.sees_balance_of(request.user, patient):
        raise Http404("No such patient among yours.")
    invoices = list(
        with_balances(Invoice.objects.filter(patient=patient)).select_related("location", "service")
    )
    theirs_here = billing_access.visible_invoices(request.user).filter(patient=patient)
    visible = set(theirs_here.values_list("pk", flat=True))
    record_access(
        actor=request.user, patient=patient, record_type="billing.account", request=request
    )
    show_invoices = billing_access.sees_invoices_of(request.user, patient)
    owed, in_favour = owed_and_in_favour(invoices)
    return render(
        request,
        "billing/patient_account.html",
        {
            "patient": patient,
            "invoiced": bool(invoices),
            "owed": owed,
            "in_favour": in_favour,
            "invoices": [i for i in invoices if i.pk in visible] if show_invoices else None,
            # The statements the user downloads cover these invoices (`document_views`).
            "statement_invoices": theirs_here,
        },
    )


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))


def _course_money(request, pk: int, form_class, act):
    """The money forms of a course's page: the course the user may see, the form checked, then
    `act(course, cleaned_data)`, which returns the success message; the form's errors or the
    service's refusal are said instead. Back to the course's page either way."""
    course = booking_access.get_visible_course(request.user, pk)
    if not billing_access.handles_course_money(request.user, course):
        raise PermissionDenied("This course's package is another location's to invoice and settle.")
    back = redirect(reverse("booking:course_detail", args=[course.pk]))
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return back
    try:
        done = act(course, form.cleaned_data)
    except payments.PaymentRefused as refused:
        messages.error(request, str(refused))
        return back
    messages.success(request, done)
    return back


@takes_payments
@require_POST
def course_pay_ahead(request, pk: int):
    """Invoice a course as a package (and take what is paid now), from the course's page."""

    def pay(course, data) -> str:
        package = pay_course_ahead(
            course, actor=request.user, amount=data["amount"], method=data["method"]
        )
        log_access(request, package, AccessLog.Action.CREATE)
        return f"The course is invoiced as a package: {package.display_number}."

    return _course_money(request, pk, PayAheadForm, pay)


@takes_payments
@require_POST
def course_end_early(request, pk: int):
    """Settle a course's package when it ends early: the arithmetic is shown in the message."""

    def settle(course, data) -> str:
        settled = end_course_early(
            course, actor=request.user, refund_by=data["refund_by"], reason=data["reason"]
        )
        log_access(request, course, AccessLog.Action.CHANGE)
        currency = Invoice.objects.filter(course=course).values_list("currency", flat=True).first()
        return "Course settled. " + "; ".join(settled.lines(currency or ""))

    return _course_money(request, pk, EndCourseForm, settle)
