"""The webhooks app (label `webhooks`): nested in booking, with its own tables and migrations."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "booking.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from booking.webhooks.events import questionnaire_submitted
        from clinic.models import Role
        from clinic.pages import add_nav_link
        from intake.questionnaire.hooks import register_submitted

        add_nav_link(Role.MANAGER, "Webhooks", "webhooks:endpoint_list", order=95)
        # Intake may not import booking: it tells whoever registered, inside its transaction.
        register_submitted(questionnaire_submitted)
