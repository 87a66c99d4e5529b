"""Money pages, in the `billing:` namespace (included by booking.urls)."""

from django.urls import path

from booking.billing import close_views, views
from clinic.routes import routes

app_name = "billing"

urlpatterns = [
    path("invoices/", views.my_invoices, name="my_invoices"),
    *routes(
        "invoices/<int:pk>/",
        ("", views.invoice_detail, "invoice_detail"),
        ("pay/", views.invoice_pay, "invoice_pay"),
        ("refund/", views.invoice_refund, "invoice_refund"),
        ("move-credit/", views.invoice_move_credit, "invoice_move_credit"),
        ("waive/", views.invoice_waive, "invoice_waive"),
    ),
    path(
        "schedule/appointments/<int:pk>/check-out/",
        views.appointment_checkout,
        name="appointment_checkout",
    ),
    *routes(
        "courses/<int:pk>/",
        ("pay-ahead/", views.course_pay_ahead, "course_pay_ahead"),
        ("end-early/", views.course_end_early, "course_end_early"),
    ),
    *routes(
        "schedule/locations/<slug:slug>/day-close/",
        ("", close_views.day_close, "day_close"),
        ("csv/", close_views.day_close_csv, "day_close_csv"),
    ),
    path("patients/<int:patient_pk>/account/", views.patient_account, name="patient_account"),
]
