"""`python manage.py record_email_bounce ADDRESS`: a bounce that arrived after sending."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils import timezone

from booking import notifications


class Command(BaseCommand):
    help = (
        "Record that mail to ADDRESS bounced after it was sent (a delivery-status email from "
        "the mail server or a provider's bounce webhook). The address is marked as refused for "
        "every patient using it, so later messages fail at once instead of being retried; the "
        "last message sent to it in the past week is marked failed and appears on the staff "
        "'Email problems' page. Refusals during sending are recorded without this command."
    )

    def add_arguments(self, parser):
        parser.add_argument("address", help="The email address that bounced.")
        parser.add_argument(
            "--reason", default="bounced", help="What the bounce said, e.g. '550 User unknown'."
        )

    def handle(self, *args, address: str, reason: str, **options):
        try:
            validate_email(address)
        except ValidationError:
            raise CommandError(f"{address!r} is not an email address.") from None
        missed = notifications.record_late_bounce(address, reason=reason, now=timezone.now())
        if missed is None:
            self.stdout.write(f"Recorded {address} as refused; no message sent to it this week.")
        else:
            self.stdout.write(
                f"Recorded {address} as refused; the {missed.get_kind_display().lower()} "
                f"to {missed.patient} is marked failed."
            )
