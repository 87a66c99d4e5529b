"""The billing room's Django app (label `billing`): fee schedules, invoices and payments."""

from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "booking.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from clinic.models import Role
        from clinic.pages import add_nav_link

        add_nav_link(Role.PATIENT, "My invoices", "billing:my_invoices", order=25)

    def seed_demo(self, story) -> None:
        from booking.billing.demo import seed_billing

        seed_billing(story)
