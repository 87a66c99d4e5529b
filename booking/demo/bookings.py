"""The demo clinic's rooms, travel times and appointments (see clinic.demo)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from booking import notifications
from booking.availability import aware
from booking.demo.courses import seed_courses
from booking.demo.outcomes import seed_outcomes
from booking.models import (
    ACTIVE_STATUSES,
    MOVABLE_STATUSES,
    Appointment,
    AppointmentEvent,
    CancelledBy,
    LocationReminderPolicy,
    Notification,
    Status,
    WaitlistEntry,
)
from booking.world import rooms
from clinic.demo import DemoStory, closed_for_a_holiday
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind, TravelTime

ROOMS = {"leaside": 3, "danforth": 2, "rockville": 3, "largo": 2}
TRAVEL = [("leaside", "danforth", 20), ("rockville", "largo", 40)]
# Rockville reminds once, the day before; the others two days and one day before.
DEMO_REMINDER_HOURS = {"rockville": [24]}


def seed_bookings(story: DemoStory) -> None:
    for slug, count in ROOMS.items():
        rooms(story.locations[slug], count, again=True)
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
    if today.weekday() < 6 and not closed_for_a_holiday(leaside, today):
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
    seed_front_desk_week(story)
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


# Patients who phoned in, for the front desk's week (no login; found by the desk's search).
DESK_PATIENTS = [
    ("Lucía", "Fernández", dt.date(1972, 3, 14), "416-555-0163", "danforth"),
    ("Tom", "O'Brien", dt.date(1966, 8, 2), "416-555-0129", "danforth"),
]


def seed_front_desk_week(story: DemoStory) -> None:
    """What the front desk at Leaside and Danforth sees this week beyond the first requests: a
    returning patient with a late cancellation on record, appointments at Danforth, a time
    freed by a cancellation, and someone on the Leaside waitlist.

    The mid-course patient's sessions (Marcus Reid, Rockville) come from his course, booked
    through intake's signed assessment: see the lead's course demo."""
    assessment = story.services[ServiceKind.ASSESSMENT]
    reassessment = story.services[ServiceKind.REASSESSMENT]
    leaside, danforth = story.locations["leaside"], story.locations["danforth"]
    priya = story.practitioners["practitioner"]
    jordan = story.patients["patient"]
    lucia, tom = (_desk_patient(*spec, story) for spec in DESK_PATIENTS)

    # Jordan cancelled late last week (the "late-cancel history" badge) and is back this week.
    _week_appointment(
        jordan,
        leaside,
        priya,
        reassessment,
        _previous_working_day(leaside, days_back=5),
        dt.time(9),
        Status.CANCELLED,
        room=2,
        cancelled_by=CancelledBy.PATIENT,
        reason="Could not get away from work",
        late=True,
    )
    _week_appointment(
        jordan,
        leaside,
        priya,
        reassessment,
        _next_working_day(leaside, days_ahead=3),
        dt.time(9),
        Status.CONFIRMED,
        room=2,
    )
    # Danforth: Sofia Alvarez (Mon, Wed, Fri) and Tom Bergeron (Tue, Thu) assess phone patients.
    _week_appointment(
        lucia,
        danforth,
        story.practitioners["alvarez"],
        assessment,
        _next_weekday(danforth, (0, 2, 4)),
        dt.time(10),
        Status.CONFIRMED,
    )
    _week_appointment(
        tom,
        danforth,
        story.practitioners["bergeron"],
        assessment,
        _next_weekday(danforth, (1, 3)),
        dt.time(13),
        Status.CONFIRMED,
        room=2,
    )
    # A time freed this week at Leaside, and Jordan waiting for an earlier morning.
    _week_appointment(
        tom,
        leaside,
        priya,
        assessment,
        _next_working_day(leaside, days_ahead=4),
        dt.time(13),
        Status.CANCELLED,
        room=3,
        cancelled_by=CancelledBy.PATIENT,
        reason="Booked at Danforth instead",
        late=False,
    )
    WaitlistEntry.objects.get_or_create(
        patient=jordan,
        location=leaside,
        service=reassessment,
        defaults={
            "minutes": 30,
            "weekdays": [0, 1, 2, 3, 4],
            "earliest_time": dt.time(8),
            "latest_time": dt.time(11),
            "created_by": jordan.user or story.users["front_desk"],
        },
    )


def _desk_patient(first, last, born, phone, slug, story: DemoStory) -> Patient:
    location = story.locations[slug]
    patient, _ = Patient.objects.get_or_create(
        first_name=first,
        last_name=last,
        date_of_birth=born,
        user=None,
        defaults={"phone": phone, "preferred_location": location},
    )
    patient.locations.add(location)
    return patient


def _week_appointment(
    patient: Patient,
    location: Location,
    practitioner: Practitioner,
    service: Service,
    day: dt.date,
    at: dt.time,
    status: str,
    *,
    room: int = 1,
    cancelled_by: str = "",
    reason: str = "Booked by phone",
    late: bool = False,
) -> Appointment:
    """One demo appointment per patient, service, location and kind of status (active or
    not): created once, moved to the new date when the demo is seeded again on a later day."""
    starts_at = aware(day, at, location.zone)
    fields = {
        "practitioner": practitioner,
        "room": location.rooms.get(name=f"Room {room}"),
        **Appointment.times(location, starts_at, service.default_minutes),
        "status": status,
        "cancelled_by": cancelled_by,
        "cancellation_reason": reason if cancelled_by else "",
        "late_cancellation": late,
    }
    active = status in ACTIVE_STATUSES
    existing = Appointment.objects.filter(
        patient=patient,
        service=service,
        location=location,
        course__isnull=True,
        status__in=ACTIVE_STATUSES if active else [Status.CANCELLED, Status.NO_SHOW],
    ).first()
    if existing is not None:
        # A visit still to come stays where it is; past ones and cancellations follow today.
        stale = existing.starts_at < timezone.now() or not active
        if existing.starts_at.date() != starts_at.date() and stale:
            Appointment.objects.filter(pk=existing.pk).update(**fields)
        return existing
    appointment = Appointment.objects.create(
        patient=patient, service=service, location=location, **fields
    )
    patient.locations.add(location)
    AppointmentEvent.objects.create(
        appointment=appointment,
        kind=AppointmentEvent.Kind.CREATED,
        to_status=Status.CONFIRMED if not active else status,
        reason="Booked by phone",
    )
    if not active:
        AppointmentEvent.objects.create(
            appointment=appointment,
            kind=AppointmentEvent.Kind.STATUS,
            from_status=Status.CONFIRMED,
            to_status=status,
            reason=reason,
            late=late,
            details={"by": cancelled_by},
        )
    return appointment


def _next_weekday(location: Location, weekdays: tuple[int, ...]) -> dt.date:
    """The first of `weekdays` from tomorrow on."""
    day = location.today() + dt.timedelta(days=1)
    while day.weekday() not in weekdays or closed_for_a_holiday(location, day):
        day += dt.timedelta(days=1)
    return day


def _previous_working_day(location: Location, *, days_back: int) -> dt.date:
    day = location.today() - dt.timedelta(days=days_back)
    while day.weekday() >= 5 or closed_for_a_holiday(location, day):
        day -= dt.timedelta(days=1)
    return day


def _next_working_day(location: Location, *, days_ahead: int) -> dt.date:
    day = location.today() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5 or closed_for_a_holiday(location, day):
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
    """One demo appointment per patient and service: created once, moved on to the new date
    when the demo is seeded again on a later day (one still ahead too: left on its old day, it
    could be where today's are booked)."""
    starts_at = aware(day, at, location.zone)
    fields = {
        "location": location,
        "practitioner": practitioner,
        "room": location.rooms.order_by("name").first(),
        **Appointment.times(location, starts_at, service.default_minutes),
        "status": status,
    }
    existing = Appointment.objects.filter(
        patient=patient, service=service, course__isnull=True, status__in=ACTIVE_STATUSES
    ).first()
    if existing is not None:
        if existing.starts_at.date() != starts_at.date() and existing.starts_at < starts_at:
            Appointment.objects.filter(pk=existing.pk).update(**fields)
        return existing
    appointment = Appointment.objects.create(patient=patient, service=service, **fields)
    patient.locations.add(location)
    AppointmentEvent.objects.create(
        appointment=appointment, kind=AppointmentEvent.Kind.CREATED, to_status=status, reason=reason
    )
    return appointment
