"""Emails about the account itself: two-step login changes and sign-up. They are sent at once
through Django's mail framework, as the password-reset email is (appointment emails go through
booking's outbox instead, since they speak for a location). Rendered from subject / text
templates in templates/emails/account/, with an HTML part made from the text."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.models import User

log = logging.getLogger(__name__)


def send_account_email(kind: str, *, to: str, request: HttpRequest, **context) -> None:
    """Send `emails/account/<kind>` to `to`. A mail server that fails is logged, not shown:
    the change is made either way, and sign-up must answer the same whatever happened."""
    context = {
        "clinic_name": settings.CLINIC_NAME,
        "when": timezone.now(),
        "address": _client_address(request),
        **context,
    }
    subject = " ".join(render_to_string(f"emails/account/{kind}_subject.txt", context).split())
    text = render_to_string(f"emails/account/{kind}.txt", context)
    html = render_to_string("emails/account/_message.html", {"subject": subject, "text": text})
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        # Never the message itself: it may hold a sign-up link.
        log.exception("The account email %r could not be sent.", kind)


def _client_address(request: HttpRequest) -> str:
    from clinic.security import client_ip

    return client_ip(request) or "an unknown address"


def second_factor_turned_on(request: HttpRequest, user: User, *, replaced: bool) -> None:
    send_account_email(
        "second_factor_replaced" if replaced else "second_factor_on",
        to=user.email,
        request=request,
        user=user,
    )


def second_factor_turned_off(request: HttpRequest, user: User) -> None:
    send_account_email("second_factor_off", to=user.email, request=request, user=user)


def recovery_codes_reissued(request: HttpRequest, user: User) -> None:
    send_account_email("recovery_codes", to=user.email, request=request, user=user)
