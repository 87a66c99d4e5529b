"""Calendar invites and feeds (RFC 5545), made with the `icalendar` library.

Each appointment is one event with a stable UID, and its `version` (bumped by every change:
confirming, moving, cancelling) as the SEQUENCE, so that a calendar client updates the event it
already has instead of adding another. A request the clinic has not confirmed yet is
STATUS:TENTATIVE (in downloads and feeds); the confirmation's invite turns the same event
CONFIRMED. Times carry the location's time zone (TZID with a VTIMEZONE component).
Emails carry METHOD:REQUEST (new or changed) or METHOD:CANCEL invites for one appointment
(iTIP allows one UID per invite); downloads and feeds publish several events at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from email.utils import parseaddr

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from booking.models import ACTIVE_STATUSES, Appointment, CalendarFeed, Status
from booking.notifications.links import site_domain
from clinic.models import Practitioner, Role

REQUEST = "REQUEST"
CANCEL = "CANCEL"
PUBLISH = "PUBLISH"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def event_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@{site_domain()}"


def _calendar(method: str | None, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CLINIC_NAME}//Booking//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _organizer(appointment: Appointment) -> vCalAddress:
    address = appointment.location.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    organizer = vCalAddress(f"mailto:{address}")
    organizer.params["cn"] = vText(f"{settings.CLINIC_NAME} {appointment.location.name}")
    return organizer


def _patient_email(appointment: Appointment) -> str:
    patient = appointment.patient
    return patient.email or (patient.user.email if patient.user_id else "")


def _status_and_partstat(appointment: Appointment, *, cancelled: bool) -> tuple[str, str]:
    """The event's STATUS and the patient's PARTSTAT. A request waits for the clinic: the
    event is TENTATIVE and so is the patient, who asked for the time but holds no confirmed
    visit; a time the clinic proposed instead waits for the patient's answer (NEEDS-ACTION)."""
    if cancelled:
        return "CANCELLED", "ACCEPTED"
    if appointment.status == Status.REQUESTED:
        return "TENTATIVE", "NEEDS-ACTION" if appointment.is_waiting_for_patient else "TENTATIVE"
    return "CONFIRMED", "ACCEPTED"


def appointment_event(
    appointment: Appointment,
    *,
    now: dt.datetime,
    cancelled: bool = False,
    summary: str | None = None,
    with_attendee: bool = True,
) -> Event:
    location = appointment.location
    zone = location.zone
    event = Event()
    event.add("uid", event_uid(appointment))
    event.add("sequence", appointment.version)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    title = appointment.service.name
    if appointment.session_label:
        title += f" ({appointment.session_number} of {appointment.course.sessions_planned})"
    event.add("summary", summary or f"{title}, {settings.CLINIC_NAME} {location.name}")
    event.add("location", f"{settings.CLINIC_NAME} {location.name}, {location.one_line_address}")
    event.add(
        "description",
        f"{title} with {appointment.practitioner.name}.\n"
        f"To change or cancel, phone {location.name} at {location.phone}.",
    )
    status, partstat = _status_and_partstat(appointment, cancelled=cancelled)
    event.add("status", status)
    event.add("organizer", _organizer(appointment))
    email = _patient_email(appointment)
    if with_attendee and email:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(appointment.patient.full_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText(partstat)
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee, encode=0)
    return event


def _finish(calendar: Calendar, appointments: list[Appointment]) -> bytes:
    if appointments:
        # VTIMEZONE components covering the events (and a year either side), from zoneinfo.
        first = min(a.starts_at for a in appointments).date() - dt.timedelta(days=366)
        last = max(a.ends_at for a in appointments).date() + dt.timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()


def invite(appointment: Appointment, *, method: str, now: dt.datetime | None = None) -> bytes:
    """An invite for one appointment: REQUEST when booked or changed, CANCEL when cancelled."""
    now = now or timezone.now()
    calendar = _calendar(method)
    calendar.add_component(appointment_event(appointment, now=now, cancelled=method == CANCEL))
    return _finish(calendar, [appointment])


def published(
    appointments: Iterable[Appointment], *, name: str, now: dt.datetime | None = None
) -> bytes:
    """A calendar file to download: one appointment, or every session of a course."""
    now = now or timezone.now()
    appointments = list(appointments)
    calendar = _calendar(PUBLISH, name)
    for appointment in appointments:
        calendar.add_component(
            appointment_event(
                appointment, now=now, cancelled=appointment.status == Status.CANCELLED
            )
        )
    return _finish(calendar, appointments)


def practitioner_feed(
    appointments: Iterable[Appointment], *, name: str, now: dt.datetime | None = None
) -> bytes:
    """A practitioner's schedule as a subscribable feed. Patients appear by first name and
    initial only: the feed lives on phones and in third-party calendar services."""
    now = now or timezone.now()
    appointments = list(appointments)
    calendar = _calendar(PUBLISH, name)
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for appointment in appointments:
        patient = appointment.patient
        who = f"{patient.first_name} {patient.last_name[:1]}."
        what = appointment.service.name
        if appointment.session_label:
            what = f"{what} {appointment.session_number}/{appointment.course.sessions_planned}"
        calendar.add_component(
            appointment_event(
                appointment,
                now=now,
                summary=f"{what} · {who} · {appointment.room.name}",
                with_attendee=False,
            )
        )
    return _finish(calendar, appointments)


# --- Practitioners' private feeds ----------------------------------------------------------------

# How much of a schedule a feed carries: the last two weeks and the next three months.
FEED_PAST = dt.timedelta(days=14)
FEED_AHEAD = dt.timedelta(days=92)
# A feed is fetched every hour or so; its last use is written down at most this often.
FEED_USE_RECORDED_EVERY = dt.timedelta(minutes=30)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def new_feed(practitioner: Practitioner, *, now: dt.datetime | None = None) -> str:
    """Make (or remake) the practitioner's feed and return the secret for its address; the
    previous address stops working."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        practitioner=practitioner,
        defaults={
            "token_hash": _token_hash(token),
            "created_at": now or timezone.now(),
            "last_used_at": None,
        },
    )
    return token


def revoke_feed(practitioner: Practitioner) -> bool:
    deleted, _ = CalendarFeed.objects.filter(practitioner=practitioner).delete()
    return bool(deleted)


def feed_for(token: str) -> CalendarFeed | None:
    """The feed at this secret, if its owner may still read a schedule. Checked on every
    fetch, not when the address was made: a feed stops with the access that justified it
    (an account deactivated or closed, or no longer a practitioner's)."""
    return (
        CalendarFeed.objects.select_related("practitioner__user")
        .filter(
            token_hash=_token_hash(token),
            # A closed account is inactive too (clinic.services.remove_login).
            practitioner__user__is_active=True,
            practitioner__user__role=Role.PRACTITIONER,
        )
        .first()
    )


def feed_appointments(practitioner: Practitioner, *, now: dt.datetime) -> list[Appointment]:
    """The appointments a feed carries: only at the locations the practitioner works at
    today (one who left a location no longer reads its patients' times)."""
    return list(
        Appointment.objects.filter(
            practitioner=practitioner,
            location__staff=practitioner.user,
            status__in=ACTIVE_STATUSES,
            starts_at__gte=now - FEED_PAST,
            starts_at__lt=now + FEED_AHEAD,
        )
        .select_related("location", "patient", "service", "course", "room", "practitioner__user")
        .order_by("starts_at")
    )
