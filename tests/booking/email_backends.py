"""Mail servers that misbehave, for the worker's tests (set as EMAIL_BACKEND)."""

from __future__ import annotations

import smtplib
import threading
import time

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

calls: list[str] = []


class DownBackend(BaseEmailBackend):
    """The SMTP server is unreachable."""

    def send_messages(self, email_messages):
        calls.append("down")
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class RefusingBackend(BaseEmailBackend):
    """The server refuses the recipient for good: the address does not exist."""

    def send_messages(self, email_messages):
        calls.append("refused")
        raise smtplib.SMTPRecipientsRefused(
            {m.to[0]: (550, b"5.1.1 User unknown") for m in email_messages}
        )


class GreylistingBackend(BaseEmailBackend):
    """The server asks to try again later (a temporary 4xx refusal)."""

    def send_messages(self, email_messages):
        calls.append("greylisted")
        raise smtplib.SMTPRecipientsRefused(
            {m.to[0]: (450, b"4.7.1 Try again later") for m in email_messages}
        )


class SlowRecordingBackend(BaseEmailBackend):
    """Delivers into `mail.outbox` like the test backend, noting which thread sent each
    message, and takes a moment per message, as a real server does, so that two workers
    really overlap."""

    def send_messages(self, email_messages):
        for message in email_messages:
            time.sleep(0.002)
            message.extra_headers["X-Sent-By-Thread"] = threading.current_thread().name
            mail.outbox.append(message)
        return len(email_messages)
