"""PDF documents (receipts for insurers, superbills, year-end statements, credit notes), rendered
by WeasyPrint from the Django templates in `templates/billing/documents/`."""

from __future__ import annotations

from dataclasses import dataclass
from email.mime.application import MIMEApplication

from django.db.models import QuerySet
from django.template.loader import render_to_string

from booking.billing import documents
from booking.billing.models import CreditNote, Invoice
from clinic.models import Patient


@dataclass(frozen=True)
class Pdf:
    filename: str
    content: bytes


def render_pdf(template_name: str, context: dict) -> bytes:
    """`template_name` rendered to a PDF. The documents carry their own styles; nothing outside
    them is fetched (no file:// or network), so a name typed into a record cannot make the
    renderer read the server's files."""
    from weasyprint import HTML  # imported when a document is made: it loads Pango, slow at start
    from weasyprint.urls import URLFetcher

    html = render_to_string(template_name, context)
    fetcher = URLFetcher(allowed_protocols=["data"])
    return HTML(string=html, url_fetcher=fetcher).write_pdf()


def receipt_pdf(invoice: Invoice) -> Pdf:
    receipt = documents.receipt(invoice)
    return Pdf(receipt.filename, render_pdf("billing/documents/receipt.html", {"doc": receipt}))


def superbill_pdf(invoice: Invoice) -> Pdf:
    superbill = documents.superbill(invoice)
    return Pdf(
        superbill.filename, render_pdf("billing/documents/superbill.html", {"doc": superbill})
    )


def statement_pdf(patient: Patient, year: int, *, invoices: QuerySet[Invoice] | None = None) -> Pdf:
    statement = documents.year_end_statement(patient, year, invoices=invoices)
    return Pdf(
        statement.filename, render_pdf("billing/documents/statement.html", {"doc": statement})
    )


def credit_note_pdf(note: CreditNote) -> Pdf:
    document = documents.credit_note(note)
    return Pdf(
        document.filename, render_pdf("billing/documents/credit_note.html", {"doc": document})
    )


def receipt_attachment(notification_context: dict) -> MIMEApplication | None:
    """The receipt PDF to attach to a receipt email, from the message's copy of the invoice
    (`booking.billing.receipts`); None for a message queued before the copy named the invoice.
    Drawn when the email is sent, so it shows the payments made by then."""
    invoice_id = (notification_context.get("invoice") or {}).get("id")
    invoice = (
        Invoice.objects.select_related("location", "patient", "practitioner__user")
        .filter(pk=invoice_id)
        .first()
        if invoice_id
        else None
    )
    if invoice is None:
        return None
    document = receipt_pdf(invoice)
    part = MIMEApplication(document.content, "pdf")
    part.add_header("Content-Disposition", "attachment", filename=document.filename)
    return part
