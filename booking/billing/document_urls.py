"""Downloads of receipts, superbills, credit notes and year-end statements, in the `documents:`
namespace."""

from django.urls import path

from booking.billing import document_views as views

app_name = "documents"

urlpatterns = [
    path("invoices/<int:pk>/receipt.pdf", views.invoice_receipt, name="invoice_receipt"),
    path("invoices/<int:pk>/superbill.pdf", views.invoice_superbill, name="invoice_superbill"),
    path("invoices/credit-notes/<int:pk>.pdf", views.credit_note, name="credit_note"),
    path("invoices/statements/<int:year>.pdf", views.my_statement, name="my_statement"),
    path(
        "patients/<int:patient_pk>/statements/<int:year>.pdf",
        views.patient_statement,
        name="patient_statement",
    ),
]
