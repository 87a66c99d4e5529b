"""Factories for booking tests: rooms, services, a ready-made location (`a_clinic`) and the
rows booked there: appointments, holds, waitlist places and offers, courses. `an_appointment`,
`a_slot_hold`, `a_waitlist_entry`, `a_course` write rows directly (tests of what comes after);
`a_booking`, `a_placed_hold`, `joined_waitlist` go through the booking services (their rules
checked, their emails written)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import factory
from django.utils import timezone

from booking import services
from booking import world as booking_world
from booking.models import (
    Appointment,
    Course,
    Room,
    SlotHold,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from clinic import world
from clinic.models import (
    Location,
    Patient,
    Practitioner,
    Service,
    ServiceKind,
)
from tests.factories import LocationFactory, PatientFactory, certified_practitioner


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


def assessment_service() -> Service:
    return world.service(ServiceKind.ASSESSMENT)


def needling_service() -> Service:
    return world.service(ServiceKind.DRY_NEEDLING)


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    location = factory.SubFactory(LocationFactory)
    practitioner = factory.LazyAttribute(lambda o: certified_practitioner(locations=[o.location]))
    room = factory.LazyAttribute(lambda o: RoomFactory(location=o.location))
    patient = factory.SubFactory(PatientFactory)
    service = factory.LazyFunction(assessment_service)
    starts_at = dt.datetime(2030, 1, 7, 15, 0, tzinfo=dt.UTC)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=60))
    blocks_until = factory.LazyAttribute(lambda o: o.ends_at + dt.timedelta(minutes=5))
    status = Status.CONFIRMED


@dataclass
class Clinic:
    """A location open Monday to Saturday 8:00–18:00 with two rooms and a certified
    practitioner working Monday to Friday 9:00–17:00, all in America/Toronto."""

    location: Location
    practitioner: Practitioner
    rooms: list[Room]
    assessment: Service
    needling: Service


def a_clinic(
    *,
    location: Location | None = None,
    practitioner: Practitioner | None = None,
    rooms: int = 2,
    **location_fields,
) -> Clinic:
    location = location or LocationFactory(**location_fields)
    world.opening_hours(location, world.weekly(range(6), dt.time(8), dt.time(18)))
    hours = {location: world.weekly(range(5), dt.time(9), dt.time(17))}
    if practitioner:
        world.working_hours([(practitioner, hours)])
    else:
        practitioner = certified_practitioner(locations=[location], hours=hours)
    room_list = booking_world.rooms(location, rooms)
    return Clinic(location, practitioner, room_list, assessment_service(), needling_service())


def a_colleague(clinic: Clinic, *, certified: bool = True) -> Practitioner:
    """A second practitioner at the clinic, working the same hours (Monday to Friday 9–17);
    with `certified=False`, one without any dry-needling certification."""
    hours = {clinic.location: world.weekly(range(5), dt.time(9), dt.time(17))}
    colleague = certified_practitioner(locations=[clinic.location], hours=hours)
    if not certified:
        colleague.certifications.all().delete()
    return colleague


def an_appointment(
    clinic: Clinic,
    patient,
    starts_at: dt.datetime,
    *,
    service=None,
    room=None,
    practitioner=None,
    minutes: int | None = None,
    **fields,
):
    """An appointment of `patient` at the clinic with its practitioner (unless `practitioner`
    says otherwise), in its first room unless `room` says otherwise: an assessment (60 minutes)
    unless `service` says otherwise (a needling session: 30), blocking 5 minutes more. Written
    directly, without the booking rules; `minutes` for another length, `fields` for the rest."""
    service = service or clinic.assessment
    minutes = minutes or (60 if service == clinic.assessment else 30)
    return AppointmentFactory(
        location=clinic.location,
        practitioner=practitioner or clinic.practitioner,
        room=room or clinic.rooms[0],
        patient=patient,
        service=service,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
        blocks_until=starts_at + dt.timedelta(minutes=minutes + 5),
        **fields,
    )


def a_booking(
    clinic: Clinic,
    starts_at: dt.datetime,
    *,
    patient=None,
    practitioner=None,
    service=None,
    minutes=None,
    actor=None,
    **fields,
) -> Appointment:
    """An appointment booked through `services.book_appointment` (its rules checked, its emails
    written), unlike `an_appointment`: for `patient` (a new patient unless given) at the clinic
    with its practitioner (unless `practitioner`), by `actor` (that practitioner unless given):
    an assessment of 60 minutes unless `service` says a needling session (30) or `minutes`
    says otherwise; `fields` for the rest (status, room, now)."""
    from booking import services

    practitioner = practitioner or clinic.practitioner
    service = service or clinic.assessment
    return services.book_appointment(
        patient=patient or PatientFactory(),
        location=clinic.location,
        practitioner=practitioner,
        service=service,
        starts_at=starts_at,
        minutes=minutes or (60 if service == clinic.assessment else 30),
        actor=actor or practitioner.user,
        **fields,
    )


def a_placed_hold(clinic: Clinic, patient, starts_at: dt.datetime) -> SlotHold:
    """What `services.place_hold` holds for `patient` choosing an assessment (60 minutes) at
    `starts_at` with the clinic's practitioner, as the online request page does."""
    from booking import services

    return services.place_hold(
        patient=patient,
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.assessment,
        starts_at=starts_at,
        minutes=60,
        placed_by=patient.user,
    )


def a_slot_hold(
    clinic: Clinic,
    patient,
    starts_at: dt.datetime,
    *,
    room=None,
    service=None,
    expires_at: dt.datetime | None = None,
    **fields,
) -> SlotHold:
    """A hold on an hour of `service` (an assessment unless given) for `patient` with the
    clinic's practitioner, in its first room unless `room` says otherwise, blocking 5 minutes
    more, until `expires_at` (two hours from now unless given). Written directly, without the
    booking rules."""
    return SlotHold.objects.create(
        location=clinic.location,
        practitioner=clinic.practitioner,
        room=room or clinic.rooms[0],
        service=service or clinic.assessment,
        patient=patient,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        blocks_until=starts_at + dt.timedelta(minutes=65),
        expires_at=expires_at or timezone.now() + dt.timedelta(hours=2),
        **fields,
    )


def _waiting(
    clinic: Clinic,
    patient,
    *,
    weekdays=(0, 1, 2, 3, 4),
    earliest: dt.time = dt.time(8),
    latest: dt.time = dt.time(18),
    service=None,
    **fields,
) -> dict:
    service = service or clinic.assessment
    return fields | {
        "patient": patient,
        "location": clinic.location,
        "service": service,
        "minutes": 60 if service == clinic.assessment else 30,
        "weekdays": list(weekdays),
        "earliest_time": earliest,
        "latest_time": latest,
    }


def a_waitlist_entry(clinic: Clinic, patient, *, created_by=None, **wish) -> WaitlistEntry:
    """`patient` waiting for an hour's assessment at the clinic on weekdays between 8:00 and
    18:00, unless `wish` says other `weekdays`, `earliest` and `latest` times, a `service`
    (needling: 30 minutes) or more fields (a `practitioner`); written by `created_by` (the
    patient unless given). Written directly, without the booking rules."""
    return WaitlistEntry.objects.create(
        **_waiting(clinic, patient, **wish), created_by=created_by or patient.user
    )


def a_needling_place_from_before(clinic: Clinic, patient, *, created_by=None) -> WaitlistEntry:
    """A waitlist place for a dry-needling session, as places could be made before the services
    and then PostgreSQL refused them (booking 0022, `waitlist_place_not_for_needling`)."""
    from tests.database import rule_set_aside

    with rule_set_aside("booking_waitlistentry", "waitlist_place_not_for_needling"):
        return a_waitlist_entry(clinic, patient, service=clinic.needling, created_by=created_by)


def joined_waitlist(clinic: Clinic, patient, *, actor=None, **wish) -> WaitlistEntry:
    """`patient` put on the waitlist through `services.join_waitlist` (its rules checked), as
    `a_waitlist_entry` says, by `actor` (the patient, or for a patient without an account the
    clinic's practitioner, unless given)."""
    from booking import services

    return services.join_waitlist(
        **_waiting(clinic, patient, **wish), actor=actor or patient.user or clinic.practitioner.user
    )


def a_waitlist_offer(entry: WaitlistEntry, hold: SlotHold) -> WaitlistOffer:
    """The offer of `hold`'s time to the patient waiting in `entry`, open as long as the hold."""
    return WaitlistOffer.objects.create(entry=entry, hold=hold, expires_at=hold.expires_at)


def a_freed_slot(
    clinic: Clinic, starts_at: dt.datetime, *, practitioner=None, service=None
) -> services.FreedSlot:
    """A time freed at the clinic at `starts_at`: an assessment (an hour) with its practitioner
    unless `practitioner` or `service` say otherwise (a needling session: 30 minutes). Nobody's
    appointment needs to exist: the offers check the time itself."""
    service = service or clinic.assessment
    minutes = 60 if service == clinic.assessment else 30
    return services.FreedSlot(
        location=clinic.location,
        practitioner=practitioner or clinic.practitioner,
        service=service,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=minutes),
    )


def a_course_record(
    patient: Patient,
    practitioner: Practitioner,
    *,
    assessment_id: int | None = None,
    sessions_planned: int = 6,
    minutes: int = 30,
    interval_days: int = 7,
    created_by=None,
) -> Course:
    """A course of `patient` with `practitioner` and no sessions booked yet, prescribed by the
    assessment `assessment_id` (a new signed one of the patient's planning `sessions_planned`
    weekly sessions of `minutes` unless given: its plan must be the course's) and written by
    `created_by` (the practitioner unless given). Written directly, without the booking rules."""
    if assessment_id is None:
        assessment_id = prescribing_assessment(
            patient,
            practitioner,
            sessions=sessions_planned,
            minutes=minutes,
            interval_days=interval_days,
        ).pk
    return Course.objects.create(
        patient=patient,
        practitioner=practitioner,
        assessment_id=assessment_id,
        sessions_planned=sessions_planned,
        minutes=minutes,
        interval_days=interval_days,
        created_by=created_by or practitioner.user,
    )


def prescribing_assessment(
    patient: Patient,
    practitioner: Practitioner,
    *,
    sessions: int = 6,
    minutes: int = 30,
    interval_days: int = 7,
):
    """A signed assessment of `patient` by `practitioner` that prescribes a course (`sessions`
    sessions of `minutes`, every `interval_days`): the database refuses a course without one of
    the patient's own that says needling is appropriate, and a course other than its plan."""
    from tests.intake.factories import signed_assessment

    return signed_assessment(
        patient,
        practitioner,
        planned_sessions=sessions,
        session_minutes=minutes,
        interval_days=interval_days,
    )


def an_amended_plan(course: Course, *, reason: str = "Plan reviewed", **content) -> None:
    """The course's assessment amended by its practitioner (`content`: the fields that change,
    e.g. `planned_sessions=4`); the course itself is left as it was booked."""
    from intake.clinical.models import AssessmentNote
    from tests.intake.factories import an_amendment

    note = AssessmentNote.objects.get(pk=course.assessment_id)
    an_amendment(note, course.practitioner, reason=reason, **content)


def a_course(
    clinic: Clinic,
    patient,
    *,
    statuses: list[str],
    first_start: dt.datetime,
    interval: dt.timedelta = dt.timedelta(days=7),
    assessment=None,
    practitioner: Practitioner | None = None,
    minutes: int | None = None,
    sessions_planned: int | None = None,
):
    """A course of `sessions_planned` sessions of `minutes`, of which len(statuses) are booked
    at the clinic, the first at `first_start` (weekly by default), each with the given status
    (cancelled ones say by the patient). Written directly, without the booking rules: tests of
    what comes after booking. Prescribed by `assessment` (its plan unless told otherwise), or a
    new signed one of the patient's planning this course: at least 4 sessions, 30 minutes each,
    unless told otherwise."""
    practitioner = practitioner or clinic.practitioner
    if assessment is not None:
        sessions_planned = sessions_planned or assessment.planned_sessions
        minutes = minutes or assessment.session_minutes
    sessions_planned = sessions_planned or max(4, len(statuses))
    minutes = minutes or 30
    assessment = assessment or prescribing_assessment(
        patient, practitioner, sessions=sessions_planned, minutes=minutes
    )
    course = a_course_record(
        patient,
        practitioner,
        assessment_id=assessment.pk,
        sessions_planned=sessions_planned,
        minutes=minutes,
    )
    for number, status in enumerate(statuses, start=1):
        starts_at = first_start + interval * (number - 1)
        AppointmentFactory(
            location=clinic.location,
            practitioner=practitioner,
            room=clinic.rooms[0],
            patient=patient,
            service=clinic.needling,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
            blocks_until=starts_at + dt.timedelta(minutes=minutes + 5),
            status=status,
            course=course,
            session_number=number,
            cancelled_by="patient" if status == Status.CANCELLED else "",
        )
    return course


def busy_day(
    location: Location,
    day: dt.date,
    *,
    practitioners: int = 30,
    appointments_each: int = 5,
) -> list[Appointment]:
    """A busy day at `location`: `practitioners` certified practitioners working 8:00–18:00,
    each with their own room and `appointments_each` 45-minute appointments from 9:00,
    every hour, for patients of their own (made in bulk, so that the test stays fast)."""
    from booking.availability import aware

    world.opening_hours(location, world.weekly(range(7), dt.time(7), dt.time(19)))
    service = assessment_service()
    hours = {location: world.weekly([day.weekday()], dt.time(8), dt.time(18))}
    people = list(
        zip(
            [
                certified_practitioner(locations=[location], hours=hours)
                for _ in range(practitioners)
            ],
            booking_world.rooms(location, practitioners, name="Busy room {n}"),
            strict=True,
        )
    )
    patients = world.patients(
        [
            {
                "first_name": "Busy",
                "last_name": f"Patient {n}",
                "date_of_birth": dt.date(1970, 1, 1),
                "phone": "416-555-0100",
            }
            for n in range(practitioners * appointments_each)
        ]
    )
    rows = []
    for n, (practitioner, room) in enumerate(people):
        for k in range(appointments_each):
            start = aware(day, dt.time(9 + k), location.zone)
            rows.append(
                Appointment(
                    location=location,
                    practitioner=practitioner,
                    room=room,
                    patient=patients[n * appointments_each + k],
                    service=service,
                    starts_at=start,
                    ends_at=start + dt.timedelta(minutes=45),
                    blocks_until=start + dt.timedelta(minutes=50),
                    status=Status.CONFIRMED,
                )
            )
    return Appointment.objects.bulk_create(rows)
