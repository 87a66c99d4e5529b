"""Absolute links for emails, and the signed manage-this-appointment links in them.

A manage link lets whoever holds it view, cancel or move one appointment (within the
location's policy) without logging in, and nothing else: the token is signed with the
site's secret, names the appointment and the purpose, and expires the day after the
appointment (never more than `APPOINTMENT_LINK_MAX_DAYS` after it was made).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from booking.models import Appointment

SALT = "booking.appointment-link"
MANAGE = "manage"


def site_url() -> str:
    """The address patients reach the app at, e.g. https://booking.example.org (no slash):
    settings.SITE_URL, else in production the first allowed host over HTTPS."""
    configured = getattr(settings, "SITE_URL", "")
    if configured:
        return configured.rstrip("/")
    hosts = [h for h in settings.ALLOWED_HOSTS if h and "*" not in h and not h.startswith(".")]
    if not settings.DEBUG and hosts:
        return f"https://{hosts[0]}"
    return "http://127.0.0.1:8000"


def absolute(path: str) -> str:
    return f"{site_url()}{path}"


def site_domain() -> str:
    return urlsplit(site_url()).hostname or "localhost"


def _max_days() -> int:
    return int(getattr(settings, "APPOINTMENT_LINK_MAX_DAYS", 90))


class LinkRefused(Exception):
    """A link that does not open its page; `str()` says why, for the patient."""

    def __init__(self, message: str, *, appointment_id: int | None = None):
        super().__init__(message)
        # Known only when the signature is ours (an expired link): lets the page show the
        # right location's phone. Never taken from the URL alone.
        self.appointment_id = appointment_id


class LinkExpired(LinkRefused):
    pass


def link_expires_at(appointment: Appointment, now: dt.datetime) -> dt.datetime:
    return min(appointment.ends_at + dt.timedelta(days=1), now + dt.timedelta(days=_max_days()))


def make_token(
    appointment: Appointment,
    *,
    purpose: str = MANAGE,
    now: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
) -> str:
    """A signed token opening `appointment`'s page for `purpose`; by default it expires the
    day after the appointment (`link_expires_at`), or at `expires_at` when the page lives
    longer (a follow-up questionnaire weeks after the course)."""
    now = now or timezone.now()
    expires = expires_at or link_expires_at(appointment, now)
    payload = {"a": appointment.pk, "p": purpose, "e": int(expires.timestamp())}
    return signing.dumps(payload, salt=SALT)


def read_token(
    token: str, *, appointment_id: int, purpose: str = MANAGE, now: dt.datetime | None = None
) -> int:
    """The appointment id the token opens, if it is genuine, current, for this purpose and
    for `appointment_id`; `LinkRefused` (or `LinkExpired`) otherwise."""
    now = now or timezone.now()
    try:
        # The signature's own age is a backstop; the payload's expiry is the real limit.
        payload = signing.loads(token, salt=SALT, max_age=dt.timedelta(days=_max_days() + 1))
    except signing.SignatureExpired:
        raise LinkExpired("This link has expired.") from None
    except signing.BadSignature:
        raise LinkRefused(
            "This link is not valid: it may have been cut short or changed."
        ) from None
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        raise LinkRefused("This link is not valid for this page.")
    if payload.get("a") != appointment_id:
        raise LinkRefused("This link belongs to another appointment.")
    if not isinstance(payload.get("e"), int) or now.timestamp() > payload["e"]:
        raise LinkExpired("This link has expired.", appointment_id=appointment_id)
    return appointment_id


def manage_url(appointment: Appointment, *, now: dt.datetime | None = None) -> str:
    token = make_token(appointment, now=now)
    return absolute(reverse("booking:link_manage", args=[appointment.pk, token]))


# --- Survey links: the outcome surveys (intake) without a password ------------------------


def survey_purpose(kind: str) -> str:
    """Each kind of survey has its own purpose: a link to one never opens another."""
    return f"checkin:{kind}"


def survey_path(
    appointment: Appointment, kind: str, *, now: dt.datetime | None = None
) -> str | None:
    """The password-free path of the survey of `kind` about `appointment` (for the course
    questionnaires, about its course), valid until that survey closes; None when no such
    survey applies or it has closed."""
    from booking.selectors import visits_for_intake
    from intake.clinical.selectors import survey_subject

    now = now or timezone.now()
    patient_visits = visits_for_intake(patient_ids=[appointment.patient_id])
    visit = next((v for v in patient_visits if v.appointment_id == appointment.pk), None)
    subject = survey_subject(kind, visit, patient_visits) if visit else None
    if subject is None or subject.window.closes <= now:
        return None
    token = make_token(
        appointment, purpose=survey_purpose(kind), now=now, expires_at=subject.window.closes
    )
    return reverse("booking:link_outcome_survey", args=[appointment.pk, token, kind])
