"""Downloads of the documents for insurers and for tax: an invoice's receipt and (at a location
with an EIN) its superbill, an invoice's credit notes, and a patient's year-end statement.
Patients get their own; the front desk and managers those of the invoices they may see;
practitioners none (they see a balance, never the invoices). Every download is written to the
access log, as an export."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from booking.billing import access as billing_access
from booking.billing import documents, pdf
from clinic import access
from clinic.audit import record_access
from clinic.dates import clinic_today
from clinic.models import AccessLog, Patient, Role

# The same people who see invoices: a practitioner sees a balance, never what was invoiced.
sees_invoices = access.role_required(Role.PATIENT, Role.FRONT_DESK, Role.MANAGER)
desk_or_manager = access.role_required(Role.FRONT_DESK, Role.MANAGER)
# Statements go back to the year the clinic started billing here; no earlier.
FIRST_STATEMENT_YEAR = 2020


def download(document: pdf.Pdf) -> HttpResponse:
    """The PDF as a download, kept by no cache on the way (it is health information)."""
    response = HttpResponse(document.content, content_type="application/pdf")
    # Django quotes or RFC 5987-encodes the name as it needs (a name with quotes or accents).
    response["Content-Disposition"] = content_disposition_header(True, document.filename)
    response["X-Content-Type-Options"] = "nosniff"
    add_never_cache_headers(response)
    return response


def _exported(request, patient: Patient, **record) -> None:
    record_access(
        actor=request.user,
        patient=patient,
        action=AccessLog.Action.EXPORT,
        request=request,
        **record,
    )


@sees_invoices
@require_safe
def invoice_receipt(request, pk: int):
    invoice = billing_access.get_visible_invoice(request.user, pk)
    document = pdf.receipt_pdf(invoice)
    _exported(request, invoice.patient, record=invoice)
    return download(document)


@sees_invoices
@require_safe
def invoice_superbill(request, pk: int):
    invoice = billing_access.get_visible_invoice(request.user, pk)
    if not documents.offers_superbill(invoice):
        raise Http404("This invoice has a receipt, not a superbill.")
    document = pdf.superbill_pdf(invoice)
    _exported(request, invoice.patient, record=invoice, record_type="billing.superbill")
    return download(document)


@sees_invoices
@require_safe
def credit_note(request, pk: int):
    """A credit note, to whoever may have its invoice's receipt."""
    note = billing_access.get_visible_credit_note(request.user, pk)
    document = pdf.credit_note_pdf(note)
    _exported(request, note.invoice.patient, record=note)
    return download(document)


def _statement_year(year: int) -> int:
    # The year on the clinic's clock: on New Year's Eve the server's UTC year has already turned.
    if not FIRST_STATEMENT_YEAR <= year <= clinic_today().year:
        raise Http404("There is no statement for that year.")
    return year


def _statement(request, patient: Patient, year: int):
    year = _statement_year(year)
    document = pdf.statement_pdf(
        patient, year, invoices=billing_access.visible_invoices(request.user)
    )
    _exported(request, patient, record_type="billing.statement", record_id=f"{patient.pk}:{year}")
    return download(document)


@access.patient_required
@require_safe
def my_statement(request, year: int):
    return _statement(request, access.own_patient_record(request.user), year)


@desk_or_manager
@require_safe
def patient_statement(request, patient_pk: int, year: int):
    patient = access.get_visible_patient(request.user, patient_pk)
    if not billing_access.sees_invoices_of(request.user, patient):
        raise Http404("No such patient among yours.")
    return _statement(request, patient, year)
