"""The demo clinic's rooms, travel times and appointments (see clinic.demo)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from booking import notifications
from booking.availability import aware
from booking.demo_courses import seed_courses
from booking.demo_outcomes import seed_outcomes
from booking.models import (
    ACTIVE_STATUSES,
    MOVABLE_STATUSES,
    Appointment,
    AppointmentEvent,
    LocationReminderPolicy,
    Notification,
    Room,
    Status,
)
from clinic.demo import DemoStory
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind, TravelTime

ROOMS = {"leaside": 3, "danforth": 2, "rockville": 3, "largo": 2}
TRAVEL = [("leaside", "danforth", 20), ("rockville", "largo", 40)]
# Rockville reminds once, the day before; the others two days and one day before.
DEMO_REMINDER_HOURS = {"rockville": [24]}


def seed_bookings(story: DemoStory) -> None:
    for slug, count in ROOMS.items():
        for n in range(1, count + 1):
            Room.objects.get_or_create(location=story.locations[slug], name=f"Room {n}")
    for a, b, minutes in TRAVEL:
        first, second = sorted([story.locations[a], story.locations[b]], key=lambda loc: loc.pk)
        TravelTime.objects.update_or_create(
            from_location=first, to_location=second, defaults={"minutes": minutes}
        )

    assessment = story.services[ServiceKind.ASSESSMENT]
    leaside = story.locations["leaside"]
    priya = story.practitioners["practitioner"]
    # A new online request waiting for the front desk to confirm it.
    _demo_appointment(
        story.patients["new_request"],
        leaside,
        priya,
        assessment,
        _next_working_day(leaside, days_ahead=2),
        dt.time(10),
        Status.REQUESTED,
        "Requested online",
    )
    # The patient with screening flags, booked for their assessment.
    _demo_appointment(
        story.patients["flagged"],
        leaside,
        priya,
        assessment,
        _next_working_day(leaside, days_ahead=1),
        dt.time(14),
        Status.CONFIRMED,
        "Booked by phone",
    )
    # Someone at the counter today, if Leaside is open today.
    today = leaside.today()
    if today.weekday() < 6:
        _demo_appointment(
            story.patients["phone_patient"],
            leaside,
            priya,
            assessment,
            today,
            dt.time(11) if today.weekday() < 5 else dt.time(10),
            Status.CONFIRMED,
            "Booked by phone",
        )
    seed_courses(story)
    seed_outcomes(story)
    seed_notifications(story)


def seed_notifications(story: DemoStory) -> None:
    """Reminder policies, and the outbox the demo appointments would have: the message each
    one started with, and their reminders waiting for their time. `python manage.py
    send_notifications` then prints the due ones (console email backend in development)."""
    for slug, location in story.locations.items():
        LocationReminderPolicy.objects.get_or_create(
            location=location, defaults={"hours": DEMO_REMINDER_HOURS.get(slug, [48, 24])}
        )
    now = timezone.now()
    upcoming = Appointment.objects.filter(
        patient__in=[patient.pk for patient in story.patients.values()],
        status__in=MOVABLE_STATUSES,
        starts_at__gt=now,
    ).select_related("location", "service", "patient__user")
    for appointment in upcoming:
        first = Notification.Kind.CONFIRMED
        if appointment.status == Status.REQUESTED:
            first = Notification.Kind.REQUEST_RECEIVED
        if appointment.notifications.filter(kind=first).exists():
            notifications.schedule(appointment, now=now)
        else:
            notifications.appointment_created(appointment, now=now)


def _next_working_day(location: Location, *, days_ahead: int) -> dt.date:
    day = location.today() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _demo_appointment(
    patient: Patient,
    location: Location,
    practitioner: Practitioner,
    service: Service,
    day: dt.date,
    at: dt.time,
    status: str,
    reason: str,
) -> Appointment:
    """One demo appointment per patient and service: created once, moved to the new date when
    the demo is seeded again on a later day."""
    starts_at = aware(day, at, location.zone)
    ends_at = starts_at + dt.timedelta(minutes=service.default_minutes)
    fields = {
        "location": location,
        "practitioner": practitioner,
        "room": location.rooms.order_by("name").first(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "blocks_until": ends_at + dt.timedelta(minutes=location.buffer_minutes),
        "status": status,
    }
    existing = Appointment.objects.filter(
        patient=patient, service=service, course__isnull=True, status__in=ACTIVE_STATUSES
    ).first()
    if existing is not None:
        if existing.starts_at.date() != starts_at.date() and existing.starts_at < timezone.now():
            Appointment.objects.filter(pk=existing.pk).update(**fields)
        return existing
    appointment = Appointment.objects.create(patient=patient, service=service, **fields)
    patient.locations.add(location)
    AppointmentEvent.objects.create(
        appointment=appointment, kind=AppointmentEvent.Kind.CREATED, to_status=status, reason=reason
    )
    return appointment
