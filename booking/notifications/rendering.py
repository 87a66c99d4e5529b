"""Rendering a message when it is sent, from subject / text / HTML templates in
`templates/emails/`, in the location's voice, with its calendar file and links.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import SafeMIMEText
from django.template.loader import render_to_string
from django.urls import reverse

from booking import gates, intake_links
from booking.billing.pdf import receipt_attachment
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    Course,
    Notification,
    Status,
)
from booking.notifications import calendars, links
from booking.notifications.outbox import Kind
from clinic.models import Location, ServiceKind

# --- Rendering ----------------------------------------------------------------------------------


def _sender(location: Location) -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return formataddr((f"{settings.CLINIC_NAME} {location.name}", address))


def _message_id(notification: Notification) -> str:
    # The same for every attempt, so that mail clients drop a duplicate sent after a crash.
    stamp = int(notification.created_at.timestamp())
    return f"<notification-{notification.pk}.{stamp}@{links.site_domain()}>"


def _invite_part(
    appointment: Appointment, *, method: str, filename: str, now: dt.datetime
) -> MIMEText:
    """The appointment's calendar invite (REQUEST) or its cancellation (CANCEL), attached."""
    content = calendars.invite(appointment, method=method, now=now)
    # Django's MIME text sends short lines as they are (iCalendar folds at 75 octets), so
    # the invite stays readable rather than base64.
    part = SafeMIMEText(content.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def _sessions(course: Course) -> list[Appointment]:
    return list(
        course.appointments.filter(status__in=ACTIVE_STATUSES)
        .select_related("location", "practitioner__user", "service", "room", "patient__user")
        .order_by("session_number")
    )


def _manage_link(appointment: Appointment, now: dt.datetime) -> str:
    if appointment.is_movable and appointment.starts_at > now:
        return links.manage_url(appointment, now=now)
    return ""


def _intake_link(n: Notification, appointment: Appointment | None) -> str:
    """The questionnaire link, for an assessment of a patient who can log in and has not
    submitted it yet."""
    if (
        appointment is None
        or appointment.service.kind != ServiceKind.ASSESSMENT
        or n.patient.user_id is None
    ):
        return ""
    if n.kind != Kind.INTAKE_MISSING:
        if gates.intake_submitted([n.patient_id]).get(n.patient_id):
            return ""
    return links.absolute(intake_links.intake_form_path(n.patient))


def render_parts(
    notification: Notification, *, now: dt.datetime
) -> tuple[str, str, str, list[MIMEBase]]:
    """Subject, plain text, HTML and attachments (calendar files, a receipt's PDF) of a
    message, as of `now`."""
    n = notification
    appointment = n.appointment
    context: dict = {
        "clinic_name": settings.CLINIC_NAME,
        "location": n.location,
        "patient": n.patient,
        "appointment": appointment,
        "has_login": n.patient.user_id is not None,
        "appointments_url": links.absolute(reverse("booking:my_appointments")),
        "manage_url": _manage_link(appointment, now) if appointment else "",
        "intake_url": _intake_link(n, appointment),
        "context": n.context,
    }
    attachments: list[MIMEBase] = []
    if n.kind in (Kind.CONFIRMED, Kind.RESCHEDULED) and appointment.status == Status.CONFIRMED:
        attachments.append(
            _invite_part(appointment, method=calendars.REQUEST, filename="appointment.ics", now=now)
        )
    if n.kind in (Kind.RESCHEDULED, Kind.CONFIRMED) and "from_starts_at" in n.context:
        # Where it was: a move, or a confirmation that carries one (see `status_changed`).
        zone = zoneinfo.ZoneInfo(n.context["from_time_zone"])
        context["from_starts_at"] = dt.datetime.fromisoformat(n.context["from_starts_at"])
        context["from_zone"] = zone
        context["location_changed"] = n.context.get("from_location_id") != appointment.location_id
    if n.kind == Kind.RESCHEDULED:
        if n.context.get("proposal"):
            context["accept_url"] = links.absolute(
                reverse("booking:appointment_detail", args=[appointment.pk])
            )
    elif n.kind == Kind.CANCELLED and n.context.get("was_confirmed", True):
        # Only an appointment the patient had an invite for has an event to cancel.
        attachments.append(
            _invite_part(
                appointment, method=calendars.CANCEL, filename="appointment-cancelled.ics", now=now
            )
        )
    elif n.kind == Kind.WAITLIST_OFFER:
        context["offer"] = n.offer
        context["hold"] = n.offer.hold
    elif n.kind == Kind.COURSE_BOOKED:
        sessions = _sessions(n.course)
        context["course"] = n.course
        context["sessions"] = [(s, _manage_link(s, now)) for s in sessions]
        for session in sessions:
            attachments.append(
                _invite_part(
                    session,
                    method=calendars.REQUEST,
                    filename=f"session-{session.session_number}.ics",
                    now=now,
                )
            )
    elif n.kind == Kind.RECEIPT and (receipt := receipt_attachment(n.context)) is not None:
        attachments.append(receipt)
    elif n.kind == Kind.AFTER_CARE:
        path = intake_links.aftercare_survey_path(appointment)
        context["survey_url"] = links.absolute(path) if path else ""
    elif n.kind == Kind.OUTCOME_SURVEY:
        path = links.survey_path(appointment, n.context["checkin"], now=now)
        context["survey_url"] = links.absolute(path) if path else ""
        context["checkin"] = n.context["checkin"]
    if n.kind == Kind.REMINDER and appointment.course_id:
        # Before a needling session: how the heel has been, in a minute, from the reminder.
        path = links.survey_path(appointment, "before_session", now=now)
        context["survey_url"] = links.absolute(path) if path else ""
    base = f"emails/{n.kind}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    text = render_to_string(f"{base}.txt", context)
    html = render_to_string(f"{base}.html", context)
    return subject, text, html, attachments


def build_message(
    notification: Notification, *, to: str, now: dt.datetime, connection=None
) -> EmailMultiAlternatives:
    subject, text, html, attachments = render_parts(notification, now=now)
    location = notification.location
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=_sender(location),
        to=[to],
        reply_to=[location.email] if location.email else None,
        headers={"Message-ID": _message_id(notification)},
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    for part in attachments:
        message.attach(part)
    return message
