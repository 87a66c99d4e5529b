"""Money in the Django admin, for managers: each location's billing terms and cancellation policy,
the fee schedule, and read-only views of invoices and payments (which change only through the
billing services: an issued invoice never changes, and the database refuses it)."""

from django.contrib import admin

from booking.admin import ReadOnlyAdmin, ReadOnlyInline
from booking.billing.models import (
    CancellationPolicy,
    CreditNote,
    Fee,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    LocationBilling,
    Payment,
)


@admin.register(LocationBilling)
class LocationBillingAdmin(admin.ModelAdmin):
    list_display = ["location", "invoice_prefix", "currency", "tax_exempt", "tax_rate", "tax_label"]

    def get_readonly_fields(self, request, obj=None):
        # Its invoices print the prefix and are in the currency: both are fixed once it has
        # issued one (the database refuses the change too).
        if obj is not None and _has_invoiced(obj):
            return ["location", "invoice_prefix", "currency"]
        return []

    def has_delete_permission(self, request, obj=None):
        # Nor are the terms deleted then (the database refuses it: a 403, not a server error).
        if obj is not None and _has_invoiced(obj):
            return False
        return super().has_delete_permission(request, obj)


def _has_invoiced(terms: LocationBilling) -> bool:
    return Invoice.objects.filter(location_id=terms.location_id).exists()


@admin.register(CancellationPolicy)
class CancellationPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "location",
        "late_cancellation_fee",
        "no_show_fee",
        "first_offence_waived",
    ]


@admin.register(Fee)
class FeeAdmin(admin.ModelAdmin):
    list_display = ["location", "service", "minutes", "applies_from", "amount"]
    list_filter = ["location", "service"]
    date_hierarchy = "applies_from"


class LineInline(ReadOnlyInline):
    model = InvoiceLine


class CreditNoteInline(ReadOnlyInline):
    model = CreditNote


class PaymentInline(ReadOnlyInline):
    model = Payment


class EventInline(ReadOnlyInline):
    model = InvoiceEvent


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "issued_on", "location", "patient", "kind", "total", "currency"]
    list_filter = ["location", "kind"]
    search_fields = ["patient__first_name", "patient__last_name", "number"]
    date_hierarchy = "issued_on"
    list_select_related = ["location", "patient"]
    inlines = [LineInline, CreditNoteInline, PaymentInline, EventInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "invoice", "kind", "method", "amount", "status", "processor"]
    list_filter = ["kind", "method", "status"]
    list_select_related = ["invoice__location"]

    def patient_of(self, obj):
        return obj.invoice.patient

    def patient_id_of(self, obj):
        return obj.invoice.patient_id
