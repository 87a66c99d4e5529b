"""Links to an invoice's receipt and superbill, and to a patient's year-end statements, for the
invoice pages, the patient's invoices and the patient's account."""

from __future__ import annotations

from django import template
from django.urls import reverse

from booking.billing import documents
from booking.billing.models import Invoice
from clinic.models import Patient

register = template.Library()


@register.inclusion_tag("billing/documents/_invoice_links.html")
def invoice_documents(invoice: Invoice) -> dict:
    return {
        "receipt_url": reverse("documents:invoice_receipt", args=[invoice.pk]),
        "for_care": invoice.kind not in documents.NOT_CARE,
        "superbill_url": reverse("documents:invoice_superbill", args=[invoice.pk])
        if documents.offers_superbill(invoice)
        else None,
    }


@register.inclusion_tag("billing/documents/_statement_links.html")
def statement_links(patient: Patient, *, own: bool = False, invoices=None) -> dict:
    """A link per year in which the patient paid something themselves (one query; an insurer's
    direct payment is not on a statement): to their own statement (`own`, the patient's page)
    or to the statement staff download, which covers `invoices` (those the user may see: the
    desk's statement holds its own locations' payments, so its years are those)."""
    paid = documents.patients_own_payments().filter(invoice__patient=patient)
    if invoices is not None:
        paid = paid.filter(invoice__in=invoices)
    years = sorted({day.year for day in paid.dates("received_on", "year")}, reverse=True)
    if own:
        links = [(year, reverse("documents:my_statement", args=[year])) for year in years]
    else:
        links = [
            (year, reverse("documents:patient_statement", args=[patient.pk, year]))
            for year in years
        ]
    return {"links": links}
