"""A course of dry-needling sessions, booked all at once from a signed plan: proposed dates,
the check of every session before anything is written, nearest alternatives, booking one
session again under its number, and following a plan amended to more sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking import gates, notifications
from booking.availability import Slot, SlotQuery, aware
from booking.billing.packages import package_of
from booking.models import (
    ACTIVE,
    Appointment,
    AppointmentEvent,
    Course,
    PlanAsItStands,
    Room,
    Status,
)
from booking.selectors import load_availability
from booking.services.appointments import book_appointment
from booking.services.slots import check_slot, lock_practitioner, write_appointment
from booking.services.writing import BookingError, SlotTaken, SlotUnavailable, constraint_name
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind, User

# --- Courses -----------------------------------------------------------------------------------


@dataclass
class SessionChoice:
    """One session of a course as the person booking it has set it."""

    number: int
    location: Location
    practitioner: Practitioner
    starts_at: dt.datetime


@dataclass
class SessionProposal:
    choice: SessionChoice
    problems: list[str] = field(default_factory=list)
    alternatives: list[Slot] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def proposed_dates(
    *, first: dt.datetime, zone, sessions: int, interval_days: int
) -> list[dt.datetime]:
    """Session times at the same local wall-clock time every `interval_days` (DST-safe)."""
    local = first.astimezone(zone)
    return [
        aware(
            local.date() + dt.timedelta(days=interval_days * n),
            local.time().replace(tzinfo=None),
            zone,
        )
        for n in range(sessions)
    ]


def check_course(
    *,
    patient: Patient,
    service: Service,
    minutes: int,
    choices: list[SessionChoice],
    now: dt.datetime | None = None,
    alternatives: int = 4,
) -> list[SessionProposal]:
    """Check every session of a proposed course, with the nearest free alternatives for each
    session that cannot be booked as set. Sessions must not clash with each other either."""
    now = now or timezone.now()
    proposals: list[SessionProposal] = []
    taken: list[tuple[dt.datetime, dt.datetime]] = []
    length = dt.timedelta(minutes=minutes)
    for choice in choices:
        proposal = SessionProposal(choice)
        # The session as asked, and the times around it if it cannot be booked.
        session = {
            "location": choice.location,
            "practitioner": choice.practitioner,
            "service": service,
            "minutes": minutes,
            "patient": patient,
            "now": now,
        }
        try:
            check_slot(**session, starts_at=choice.starts_at, for_patient=False)
        except SlotUnavailable as refused:
            proposal.problems = refused.problems
        if any(s < choice.starts_at + length and choice.starts_at < e for s, e in taken):
            proposal.problems.append("This session overlaps another session of the course.")
        if proposal.problems:
            proposal.alternatives = nearest_alternatives(
                **session, around=choice.starts_at, exclude=taken, limit=alternatives
            )
        else:
            taken.append((choice.starts_at, choice.starts_at + length))
        proposals.append(proposal)
    return proposals


def nearest_alternatives(
    *,
    location: Location,
    practitioner: Practitioner | None,
    service: Service,
    minutes: int,
    around: dt.datetime,
    patient: Patient | None,
    now: dt.datetime,
    limit: int = 4,
    exclude: list[tuple[dt.datetime, dt.datetime]] = (),
    days: int = 4,
) -> list[Slot]:
    """Free slots closest in time to `around` (within `days` either side): with the same
    practitioner first, then anyone at the location."""
    start = max(around - dt.timedelta(days=days), now)
    end = around + dt.timedelta(days=days)
    availability = load_availability(
        location=location, window_start=start, window_end=end, patient=patient, now=now
    )
    query = SlotQuery.for_service(
        service, minutes, start, end, now=now, for_patient=False, step=dt.timedelta(minutes=30)
    )
    slots = [
        s
        for s in availability.slots(query)
        if not any(a < s.ends_at and s.starts_at < b for a, b in exclude)
    ]

    def distance(slot: Slot) -> tuple:
        same = practitioner is not None and slot.practitioner_id == practitioner.pk
        return (not same, abs((slot.starts_at - around).total_seconds()))

    chosen: list[Slot] = []
    for slot in sorted(slots, key=distance):
        if all(slot.starts_at != c.starts_at for c in chosen):
            chosen.append(slot)
        if len(chosen) == limit:
            break
    return sorted(chosen)


class CourseNotAllowed(BookingError):
    pass


def _create_course(*, patient: Patient, prescription, actor: User) -> Course:
    """The course row; what the database refuses (a second course of one assessment, an
    assessment of another patient's) becomes a clear refusal, never a 500."""
    try:
        with transaction.atomic():
            return Course.objects.create(
                patient=patient,
                practitioner_id=prescription.practitioner_id,
                assessment_id=prescription.assessment_id,
                sessions_planned=prescription.sessions,
                minutes=prescription.minutes,
                interval_days=prescription.interval_days,
                created_by=actor,
            )
    except IntegrityError as error:
        constraint = constraint_name(error)
        if constraint == "course_one_per_assessment":
            raise CourseNotAllowed(gates.COURSE_ALREADY_BOOKED) from error
        if constraint == "course_assessment_is_the_patients":
            raise CourseNotAllowed(
                "The assessment prescribing this course is not this patient's; nothing was booked."
            ) from error
        if constraint == "course_follows_its_signed_plan":
            # The gate was read before the assessment was locked: an amendment signed in
            # between changed the decision or the plan (booking migration 0017).
            raise CourseNotAllowed(
                "The assessment was amended a moment ago and no longer prescribes this course "
                "as proposed; nothing was booked. Open the course page again to see the plan "
                "as it stands."
            ) from error
        raise


@transaction.atomic
def book_course(
    *, patient: Patient, choices: list[SessionChoice], actor: User, now: dt.datetime | None = None
) -> Course:
    """Book all the sessions of a prescribed course in one transaction, or none of them.

    The prescription comes from the patient's latest signed assessment (intake decides); if
    it does not allow a course, or any session cannot be booked, nothing is saved and the
    error names the reason or the session."""
    now = now or timezone.now()
    gate = gates.course_gate(patient)
    if not gate.allowed:
        raise CourseNotAllowed(gate.reason)
    prescription = gate.prescription
    if len(choices) != prescription.sessions:
        raise CourseNotAllowed(
            f"The plan prescribes {prescription.sessions} sessions; {len(choices)} were given."
        )
    # Two people booking from one assessment at the same moment both passed the gate: the
    # second waits here until the first commits, then finds its course and is told.
    gates.lock_prescription(prescription.assessment_id)
    if Course.objects.filter(assessment_id=prescription.assessment_id).exists():
        raise CourseNotAllowed(gates.COURSE_ALREADY_BOOKED)
    service = Service.objects.get(kind=ServiceKind.DRY_NEEDLING)
    # Lock practitioners in a fixed order so that two course bookings cannot deadlock.
    for practitioner in sorted(
        {c.practitioner.pk: c.practitioner for c in choices}.values(), key=lambda p: p.pk
    ):
        lock_practitioner(practitioner)
    course = _create_course(patient=patient, prescription=prescription, actor=actor)
    # One load per location for the whole course, instead of one per session.
    length = dt.timedelta(minutes=prescription.minutes)
    availability = {}
    for location in {c.location.pk: c.location for c in choices}.values():
        here = [c for c in choices if c.location.pk == location.pk]
        availability[location.pk] = load_availability(
            location=location,
            window_start=min(c.starts_at for c in here),
            window_end=max(c.starts_at for c in here) + length,
            practitioner_ids=sorted({c.practitioner.pk for c in here}),
            patient=patient,
            now=now,
        )
    events = []
    for choice in sorted(choices, key=lambda c: c.number):
        local = choice.starts_at.astimezone(choice.location.zone)
        label = f"Session {choice.number} ({local:%a %d %b %H:%M})"
        try:
            checked = check_slot(
                location=choice.location,
                practitioner=choice.practitioner,
                service=service,
                starts_at=choice.starts_at,
                minutes=prescription.minutes,
                patient=patient,
                for_patient=False,
                availability=availability[choice.location.pk],
                now=now,
            )
            appointment = write_appointment(
                checked,
                patient=patient,
                service=service,
                status=Status.CONFIRMED,
                actor=actor,
                course=course,
                session_number=choice.number,
            )
        except SlotUnavailable as refused:
            # Raising rolls back the whole course: no partial course is ever left behind.
            raise SlotUnavailable(
                [f"{label}: {problem}" for problem in refused.problems]
            ) from refused
        except SlotTaken as taken:
            raise SlotTaken(f"{label}: {taken}") from taken
        events.append(
            AppointmentEvent(
                appointment=appointment,
                actor=actor,
                kind=AppointmentEvent.Kind.CREATED,
                to_status=Status.CONFIRMED,
                reason=f"Course session {choice.number} of {prescription.sessions}",
                at=now,
            )
        )
    AppointmentEvent.objects.bulk_create(events)
    patient.locations.add(*{c.location for c in choices})
    notifications.course_booked(course, now=now)
    return course


def course_session_refusal(course: Course, session_number: int) -> str:
    """Why session `session_number` of `course` cannot be booked again ('' if it can): it
    must be one of the course's numbers and have no active appointment (only a cancelled
    or missed one)."""
    planned = course.sessions_planned
    if not 1 <= session_number <= planned:
        return f"This course has sessions 1 to {planned}; there is no session {session_number}."
    active = (
        course.appointments.filter(ACTIVE, session_number=session_number)
        .select_related("location")
        .first()
    )
    if active is not None:
        local = active.starts_at.astimezone(active.location.zone)
        return (
            f"Session {session_number} of {planned} is already booked "
            f"({local:%a %-d %b %H:%M} at {active.location.name}, "
            f"{active.get_status_display().lower()}); move that appointment instead."
        )
    return ""


@transaction.atomic
def rebook_course_session(
    *,
    course: Course,
    session_number: int,
    location: Location,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    actor: User,
    room: Room | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book a session of a course again under its own number, after its appointment was
    cancelled (or missed): the other sessions and the numbering stay as they are.

    Refused while that number has an active appointment, and once intake no longer says
    dry needling is appropriate for the patient; the slot is checked like any needling
    session (certification on that date, travel time, the patient free, the course's
    length)."""
    now = now or timezone.now()
    # Two people booking the same session again at once: the second waits, then is told.
    course = Course.objects.select_for_update().select_related("patient").get(pk=course.pk)
    refusal = course_session_refusal(course, session_number)
    if refusal:
        raise BookingError(refusal)
    gate = gates.needling_gate(course.patient)
    refusal = _plan_not_in_force(course, gate)
    if not refusal and session_number > gate.prescription.sessions:
        refusal = (
            f"the assessment was amended to plan {gate.prescription.sessions} sessions, and "
            f"session {session_number} is beyond it."
        )
    if refusal:
        raise CourseNotAllowed(f"Session {session_number} cannot be booked again: {refusal}")
    return book_appointment(
        patient=course.patient,
        location=location,
        practitioner=practitioner,
        service=Service.objects.get(kind=ServiceKind.DRY_NEEDLING),
        starts_at=starts_at,
        minutes=course.minutes,
        actor=actor,
        room=room,
        reason=f"Course session {session_number} of {course.sessions_planned} booked again",
        course=course,
        session_number=session_number,
        now=now,
    )


# --- A plan amended to more sessions ------------------------------------------------------------


def _plan_not_in_force(course: Course, gate) -> str:
    """Why the course's plan no longer lets its sessions be booked ('' if it does): intake's
    gate is closed (needling no longer appropriate, screening answers waiting for review), or a
    later assessment has prescribed a plan (and a course) of its own."""
    if not gate.allowed:
        return gate.reason
    if gate.prescription.assessment_id != course.assessment_id:
        # A re-assessment has prescribed since: its plan (and its course) is the one in force.
        return (
            "a later assessment has prescribed a new plan; book the sessions of that plan instead."
        )
    return ""


def extension_refusal(course: Course, plan: PlanAsItStands) -> str:
    """Why `course` cannot follow its assessment's plan as it stands to more sessions (empty when
    it can): the plan adds none, no longer says needling, or changes how long sessions last or
    how often they come (the sessions booked keep what they were booked with, and the course is
    one length and one spacing); or the course was paid ahead as a package, whose price was for
    the sessions it planned then."""
    if not plan.needling:
        return "The assessment, as amended, says dry needling is not appropriate."
    if plan.sessions is None or plan.sessions <= course.sessions_planned:
        return f"The assessment plans no more than the course's {course.sessions_planned} sessions."
    if (plan.minutes, plan.interval_days) != (course.minutes, course.interval_days):
        return (
            f"The amended plan also changes the sessions to {plan.minutes} minutes every "
            f"{plan.interval_days} days, which the sessions booked ({course.minutes} minutes every "
            f"{course.interval_days} days) cannot follow: the course can only be extended by a "
            "plan that keeps them."
        )
    in_force = _plan_not_in_force(course, gates.needling_gate(course.patient))
    if in_force:
        return f"Its sessions cannot be booked now: {in_force}"
    if package_of(course) is not None:
        return (
            f"The course was paid ahead as a package of {course.sessions_planned} sessions: "
            "the sessions the plan adds are booked, and invoiced, as visits of their own."
        )
    return ""


@transaction.atomic
def extend_course_to_its_plan(course: Course) -> Course:
    """The course plans as many sessions as its assessment, amended since it was booked, now
    does, so that the sessions added can be booked under their numbers
    (`rebook_course_session`). Refused, with the reason, when `extension_refusal` gives one; the
    course is locked first, so a second click finds it extended and changes nothing more."""
    course = Course.objects.select_for_update().get(pk=course.pk)
    plan = course.plan_as_it_stands()
    refusal = extension_refusal(course, plan)
    if refusal:
        raise CourseNotAllowed(refusal)
    course.sessions_planned = plan.sessions
    try:
        with transaction.atomic():
            course.save(update_fields=["sessions_planned"])
    except IntegrityError as error:
        if constraint_name(error) == "course_follows_its_signed_plan":
            # Amended again between the reading and the writing (migration 0017 reads the plan
            # under the assessment's lock).
            raise CourseNotAllowed(
                "The assessment was amended again a moment ago; the course was not changed. "
                "Here is the plan as it stands now."
            ) from error
        raise
    return course
