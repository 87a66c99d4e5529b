"""Addresses that carry a secret: a patient's manage-this-appointment link, a practitioner's
calendar feed, a password-reset link, a sign-up confirmation link. Whoever reads one can act on it, so:

- the app's log lines show the secret as `[redacted]` (`RedactSecretLinks`, a logging filter
  set in settings.LOGGING on Django's request and development-server loggers and on every
  handler);
- a page opened by one asks the browser not to send its address on as a Referer
  (`NoReferrerOnSecretLinks`): its images, scripts and any link followed from it would
  otherwise hand the secret to the server logs, or to another site.

The proxy in front of the app keeps its own access log: the README shows how to redact there.
A new URL with a `<token>` in it must be covered by SECRET_IN_ADDRESS (a test walks the URLs).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"

# Each pattern's first group is kept, the secret that follows it is replaced.
_NOT_SECRET = r"[^/?#&\s\"']+"
SECRET_IN_ADDRESS = [
    # booking: /appointments/<pk>/link/<token>/… (emails' manage, cancel, move, check-in links)
    re.compile(rf"(/appointments/\d+/link/){_NOT_SECRET}"),
    # booking: /calendar/<token>/schedule.ics (a practitioner's calendar feed)
    re.compile(rf"(/calendar/){_NOT_SECRET}(?=/)"),
    # django.contrib.auth: /accounts/reset/<uidb64>/<token>/ (not its own set-password step)
    re.compile(rf"(/accounts/reset/{_NOT_SECRET}/)(?!set-password\b){_NOT_SECRET}"),
    # clinic: /accounts/signup/confirm/<token>/ (the link that confirms a new account)
    re.compile(rf"(/accounts/signup/confirm/){_NOT_SECRET}"),
    # A secret in a query string, should one ever be sent that way.
    re.compile(r"([?&](?:token|key|signature|code)=)[^&#\s\"']+", re.IGNORECASE),
]


def redact(text: str) -> str:
    for pattern in SECRET_IN_ADDRESS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def is_secret_link(path: str) -> bool:
    return redact(path) != path


class RedactSecretLinks(logging.Filter):
    """Rewrites a log record whose message holds a secret address ("Not Found: /calendar/…",
    runserver's '"GET /appointments/5/link/… HTTP/1.1" 200'): the rest of the line is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class NoReferrerOnSecretLinks:
    """`Referrer-Policy: no-referrer` on pages opened by a secret link (the rest of the site
    keeps settings.SECURE_REFERRER_POLICY). Sits after SecurityMiddleware, which only sets
    the header when a response has none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_secret_link(request.path):
            response["Referrer-Policy"] = "no-referrer"
        return response
