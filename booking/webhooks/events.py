"""Queueing events: one delivery row per endpoint that listens, written in the transaction of
the change (booking's announcements call `queue`; intake's submission reaches
`questionnaire_submitted` through its hook), so a rolled-back change sends nothing.

The payload is the event, its time, a resource reference and the location, nothing else: no
names, no times of visits, no answers. Receivers read what they need through the FHIR API with
their own client (its scopes and locations then apply). References are
`<FHIR type>/<primary key>`, as the API serves them: `Appointment/123`,
`QuestionnaireResponse/<questionnaire id>`; a course booked refers to its first session's
appointment (`Appointment/…`), which the API serves. A move to another location names the
location it left too (`previous_location`), and is told to the endpoints of both.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from booking.webhooks.models import Delivery, Endpoint, Event
from booking.webhooks.signing import new_message_id


def payload(
    event: str,
    *,
    reference: str,
    location_id: int | None,
    at: dt.datetime,
    previous_location_id: int | None = None,
) -> dict:
    data = {
        "reference": reference,
        "location": f"Location/{location_id}" if location_id else None,
    }
    if previous_location_id is not None:
        data["previous_location"] = f"Location/{previous_location_id}"
    return {
        "type": event,
        "timestamp": at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def listening(event: str, *location_ids: int | None):
    """Enabled endpoints that chose `event`, limited to no location or to one of these."""
    endpoints = Endpoint.objects.filter(is_enabled=True, events__contains=[event])
    chosen_here = Q(locations__isnull=True)
    if here := [pk for pk in location_ids if pk is not None]:
        chosen_here |= Q(locations__in=here)
    return endpoints.filter(chosen_here).distinct()


def queue(
    event: str,
    *,
    reference: str,
    location_id: int | None,
    at: dt.datetime,
    previous_location_id: int | None = None,
) -> int:
    """Write a delivery for every endpoint listening (at the location, or at the one the
    record left: a move between locations is news at both); how many were written."""
    body = payload(
        event,
        reference=reference,
        location_id=location_id,
        at=at,
        previous_location_id=previous_location_id,
    )
    rows = [
        Delivery(
            endpoint=endpoint,
            event=event,
            message_id=new_message_id(),
            payload=body,
            next_attempt_at=at,
            created_at=at,
        )
        for endpoint in listening(event, location_id, previous_location_id).only("pk")
    ]
    Delivery.objects.bulk_create(rows)
    return len(rows)


# --- What booking's changes are, as events ------------------------------------------------------

STATUS_EVENTS = {
    "requested": Event.APPOINTMENT_REQUESTED,
    "confirmed": Event.APPOINTMENT_CONFIRMED,
    "checked_in": Event.APPOINTMENT_CHECKED_IN,
    "completed": Event.APPOINTMENT_COMPLETED,
    "no_show": Event.APPOINTMENT_NO_SHOW,
    "cancelled": Event.APPOINTMENT_CANCELLED,
}


def _about_appointment(event: str, appointment, *, at: dt.datetime, **fields) -> None:
    queue(
        event,
        reference=f"Appointment/{appointment.pk}",
        location_id=appointment.location_id,
        at=at,
        **fields,
    )


def appointment_status(appointment, *, at: dt.datetime) -> None:
    """The appointment reached its current status (a new one counts: requested or confirmed)."""
    event = STATUS_EVENTS.get(appointment.status)
    if event is not None:
        _about_appointment(event, appointment, at=at)


def appointment_moved(appointment, *, at: dt.datetime, from_location_id: int) -> None:
    """Moved: the endpoints of the location it left hear it too (its payload then names that
    location as `previous_location`), or the appointment would vanish from their view."""
    left = from_location_id if from_location_id != appointment.location_id else None
    _about_appointment(Event.APPOINTMENT_MOVED, appointment, at=at, previous_location_id=left)


def course_booked(first_session, *, at: dt.datetime) -> None:
    # A course is referred to by its first session's appointment (see above).
    _about_appointment(Event.COURSE_BOOKED, first_session, at=at)


def questionnaire_submitted(*, intake_id: int, location_id: int | None, at: dt.datetime) -> None:
    queue(
        Event.QUESTIONNAIRE_SUBMITTED,
        reference=f"QuestionnaireResponse/{intake_id}",
        location_id=location_id,
        at=at,
    )
