"""The demo's courses: Marcus Reid half-way through six sessions at Rockville, Grace Liu
finished at Largo, Hannah Becker's all ahead at Leaside, for the desk to mend. Their assessments
come from intake's demo (which runs first); here are their appointments, and the notes of the
sessions done (intake's `signed_session`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils import timezone

from booking.availability import aware
from booking.models import Appointment, AppointmentEvent, Course, Room, Status
from clinic.demo import DemoStory, closed_for_a_holiday
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind
from intake.clinical.models import AssessmentNote
from intake.demo import SESSION_PAIN, amend_demo, session_time, signed_session


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
        course = _course_of(note, practitioner, booked_by=practitioner.user)
        for number, pain in enumerate(SESSION_PAIN[key][:done], start=1):
            at = session_time(note, number)
            session = visits.past(
                needling, at, minutes=course.minutes, course=course, number=number
            )
            signed_session(note, number, pain, at=at, appointment_id=session.pk)
        # The sessions still to come: weekly, on the practitioner's days at this location.
        visits.upcoming_sessions(needling, course, done + 1, dt.time(10))
    seed_course_to_mend(story)


def seed_course_to_mend(story: DemoStory) -> None:
    """Hannah Becker's course at Leaside with Tom Bergeron, booked while his dry-needling
    certification was on record as current: its six sessions are ahead. The lapse (five weeks
    ago) has been recorded since, and her plan was amended two days ago to four sessions. The
    schedule flags every session ("practitioner not certified that day") and the last two
    (beyond the plan as amended): the desk moves the course to Priya Raman and cancels two."""
    patient = story.patients["course_to_mend"]
    bergeron = story.practitioners["bergeron"]
    leaside = story.locations["leaside"]
    note = AssessmentNote.objects.filter(patient=patient, signed_at__isnull=False).first()
    if note is None:
        return
    room = Room.objects.filter(location=leaside).order_by("-name").first()
    visits = _Visits(patient, leaside, bergeron, room)
    needling = story.services[ServiceKind.DRY_NEEDLING]
    with _certified_on_record_until(bergeron, leaside.today() + dt.timedelta(days=60)):
        course = _course_of(
            note,
            bergeron,
            booked_by=story.users["front_desk"],
            booked_at=timezone.now() - dt.timedelta(days=40),
        )
        visits.upcoming_sessions(needling, course, 1, dt.time(16))
    if not note.amendments.exists():
        amend_demo(
            note,
            bergeron,
            at=timezone.now() - dt.timedelta(days=2),
            reason="First-step pain down to 3/10 with stretching alone: four sessions, then review.",
            planned_sessions=4,
        )


def _course_of(
    note: AssessmentNote,
    practitioner: Practitioner,
    *,
    booked_by,
    booked_at: dt.datetime | None = None,
) -> Course:
    """The course of the plan `note` signed, booked once (by `booked_by`, at `booked_at` or
    now)."""
    course, created = Course.objects.get_or_create(
        assessment_id=note.pk,
        defaults={
            "patient_id": note.patient_id,
            "practitioner": practitioner,
            "sessions_planned": note.planned_sessions,
            "minutes": note.session_minutes,
            "interval_days": note.interval_days,
            "created_by": booked_by,
        },
    )
    if created and booked_at is not None:
        Course.objects.filter(pk=course.pk).update(created_at=booked_at)
        course.created_at = booked_at
    return course


@contextmanager
def _certified_on_record_until(practitioner: Practitioner, day: dt.date) -> Iterator[None]:
    """`practitioner`'s certifications as they were on record when the course was booked
    (current to `day`), then as they are: the lapse recorded since."""
    on_record = list(practitioner.certifications.values_list("pk", "valid_until"))
    practitioner.certifications.update(valid_until=day)
    try:
        yield
    finally:
        for pk, valid_until in on_record:
            practitioner.certifications.filter(pk=pk).update(valid_until=valid_until)


def _next_day_worked(practitioner: Practitioner, location: Location, day: dt.date) -> dt.date:
    weekdays = set(
        practitioner.working_hours.filter(location=location).values_list("weekday", flat=True)
    )
    while day.weekday() not in weekdays or closed_for_a_holiday(location, day):
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

    def upcoming_sessions(self, service: Service, course: Course, first: int, at: dt.time) -> None:
        """Sessions `first` to the last of `course`, still to come: weekly at `at` on the
        practitioner's days here, the first from tomorrow. Seeded again later, each one behind
        that schedule moves on to it, the last first, so that none lands where the next still
        is (a session gone by would move onto the next one's day)."""
        day = self.location.today()
        times = []
        for number in range(first, course.sessions_planned + 1):
            day = _next_day_worked(
                self.practitioner,
                self.location,
                day + dt.timedelta(days=1 if number == first else 6),
            )
            times.append((number, aware(day, at, self.location.zone)))
        for number, starts_at in reversed(times):
            self.upcoming(service, starts_at, course, number)

    def upcoming(
        self, service: Service, starts_at: dt.datetime, course: Course, number: int
    ) -> None:
        """A confirmed session still to come; moved on to `starts_at` when the demo is seeded
        again later (a session already later, moved there at the desk, stays)."""
        fields = Appointment.times(self.location, starts_at, course.minutes)
        existing = Appointment.objects.filter(
            course=course, session_number=number, status__in=[Status.CONFIRMED, Status.REQUESTED]
        ).first()
        if existing is not None:
            if existing.starts_at < starts_at:
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
