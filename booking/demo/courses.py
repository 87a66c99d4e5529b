"""The demo's courses: Marcus Reid half-way through six sessions at Rockville, Grace Liu
finished at Largo. Their assessments come from intake's demo (which runs first); here are
their appointments, and the notes of the sessions done (intake's `signed_session`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from booking.availability import aware
from booking.models import Appointment, AppointmentEvent, Course, Room, Status
from clinic.demo import DemoStory
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind
from intake.clinical.models import AssessmentNote
from intake.demo import SESSION_PAIN, session_time, signed_session


def seed_courses(story: DemoStory) -> None:
    assessment = story.services[ServiceKind.ASSESSMENT]
    needling = story.services[ServiceKind.DRY_NEEDLING]
    for key, practitioner_key, slug, done in [
        ("mid_course", "okafor", "rockville", 3),
        ("finished", "kim", "largo", 6),
    ]:
        patient = story.patients[key]
        practitioner = story.practitioners[practitioner_key]
        location = story.locations[slug]
        note = (
            AssessmentNote.objects.filter(patient=patient, signed_at__isnull=False)
            .order_by("-signed_at")
            .first()
        )
        if note is None:
            continue
        room = Room.objects.filter(location=location).order_by("name").first()
        visits = _Visits(patient, location, practitioner, room)
        # The assessment visit itself, an hour before the note was signed.
        visits.past(assessment, note.signed_at - dt.timedelta(hours=1), minutes=60)
        course, _ = Course.objects.get_or_create(
            assessment_id=note.pk,
            defaults={
                "patient": patient,
                "practitioner": practitioner,
                "sessions_planned": note.planned_sessions,
                "minutes": note.session_minutes,
                "interval_days": note.interval_days,
                "created_by": practitioner.user,
            },
        )
        for number, pain in enumerate(SESSION_PAIN[key][:done], start=1):
            at = session_time(note, number)
            session = visits.past(
                needling, at, minutes=course.minutes, course=course, number=number
            )
            signed_session(note, number, pain, at=at, appointment_id=session.pk)
        # The sessions still to come: weekly, on the practitioner's days at this location.
        day = location.today()
        for number in range(done + 1, course.sessions_planned + 1):
            day = _next_day_worked(
                practitioner, location, day + dt.timedelta(days=1 if number == done + 1 else 6)
            )
            visits.upcoming(needling, aware(day, dt.time(10), location.zone), course, number)


def _next_day_worked(practitioner: Practitioner, location: Location, day: dt.date) -> dt.date:
    weekdays = set(
        practitioner.working_hours.filter(location=location).values_list("weekday", flat=True)
    )
    while day.weekday() not in weekdays:
        day += dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class _Visits:
    """One demo patient's visits: always with the same practitioner, at the same location and
    in the same room."""

    patient: Patient
    location: Location
    practitioner: Practitioner
    room: Room

    def past(
        self,
        service: Service,
        starts_at: dt.datetime,
        *,
        minutes: int,
        course: Course | None = None,
        number: int | None = None,
    ) -> Appointment:
        """A visit that happened (completed), created once."""
        done = Appointment.objects.filter(
            patient=self.patient,
            service=service,
            course=course,
            session_number=number,
            status=Status.COMPLETED,
        ).first()
        if done is not None:
            return done
        times = Appointment.times(self.location, starts_at, minutes)
        appointment = self._create(service, Status.COMPLETED, course, number, times)
        AppointmentEvent.objects.bulk_create(
            [
                AppointmentEvent(
                    appointment=appointment,
                    kind=AppointmentEvent.Kind.CREATED,
                    to_status=Status.CONFIRMED,
                    reason="Booked by the clinic",
                    at=starts_at - dt.timedelta(days=7),
                ),
                AppointmentEvent(
                    appointment=appointment,
                    kind=AppointmentEvent.Kind.STATUS,
                    from_status=Status.CHECKED_IN,
                    to_status=Status.COMPLETED,
                    reason="Seen",
                    at=times["ends_at"],
                ),
            ]
        )
        self.patient.locations.add(self.location)
        return appointment

    def upcoming(
        self, service: Service, starts_at: dt.datetime, course: Course, number: int
    ) -> None:
        """A confirmed session still to come; moved to the new date when the demo is seeded
        again later."""
        fields = Appointment.times(self.location, starts_at, course.minutes)
        existing = Appointment.objects.filter(
            course=course, session_number=number, status__in=[Status.CONFIRMED, Status.REQUESTED]
        ).first()
        if existing is not None:
            if existing.starts_at < timezone.now():
                Appointment.objects.filter(pk=existing.pk).update(**fields)
            return
        appointment = self._create(service, Status.CONFIRMED, course, number, fields)
        AppointmentEvent.objects.create(
            appointment=appointment,
            kind=AppointmentEvent.Kind.CREATED,
            to_status=Status.CONFIRMED,
            reason=f"Course session {number} of {course.sessions_planned}",
        )

    def _create(
        self, service: Service, status: str, course: Course | None, number: int | None, times
    ) -> Appointment:
        return Appointment.objects.create(
            location=self.location,
            practitioner=self.practitioner,
            room=self.room,
            patient=self.patient,
            service=service,
            status=status,
            course=course,
            session_number=number,
            **times,
        )
