"""The billing room's Django app (label `billing`): fee schedules, invoices and payments."""

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "booking.billing"
    label = "billing"
    verbose_name = "Billing"
