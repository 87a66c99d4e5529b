"""Booking workflows: holds and online requests, staff bookings, status changes,
moving and cancelling, courses booked all at once, and the waitlist.

Services take domain objects and keyword arguments, never a request; each runs in one
transaction. They check a slot with the same rules the slot search uses, and PostgreSQL's
exclusion constraints and travel-time trigger have the last word: a conflict found there
(or a deadlock between two simultaneous bookings) becomes `SlotTaken`, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from booking import gates, notifications
from booking.availability import Slot, SlotQuery, aware, slot_problems
from booking.models import (
    ACTIVE,
    MOVABLE_STATUSES,
    Appointment,
    AppointmentEvent,
    CancelledBy,
    Course,
    Room,
    SlotHold,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.selectors import Availability, load_availability
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind, User

HOLD_MINUTES = 10
WAITLIST_OFFER_HOURS = 12

# PostgreSQL error codes that mean "someone else took this time first".
_CONFLICT_CODES = {
    "23P01",  # exclusion_violation (overlap constraints, travel-time trigger)
    "23505",  # unique_violation (one active appointment per course session)
    "40P01",  # deadlock_detected: two overlapping inserts waiting on each other
    "40001",  # serialization_failure
}


class BookingError(Exception):
    """A booking that the rules refuse; `str()` is a message for the person booking."""


class SlotUnavailable(BookingError):
    """The chosen slot breaks a booking rule (outside hours, too soon, uncertified...)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


class SlotTaken(BookingError):
    """Someone else booked the time a moment ago (found by PostgreSQL at write time)."""

    def __init__(self, message: str = "This time was just taken by another booking."):
        super().__init__(message)


class TransitionRefused(BookingError):
    pass


class StaleAppointment(BookingError):
    """The appointment changed since the form was opened."""


class ConsentNeeded(TransitionRefused):
    """Check-in refused: the patient has not signed the current consent (they can, at the
    counter, and then be checked in)."""

    def __init__(self, message: str, *, patient: Patient):
        self.patient = patient
        super().__init__(message)


def is_conflict(error: Exception) -> bool:
    cause = getattr(error, "__cause__", None)
    return getattr(cause, "pgcode", None) in _CONFLICT_CODES


def _conflict_message(error: Exception) -> str:
    diag = getattr(error.__cause__, "diag", None)
    text = f"{getattr(diag, 'constraint_name', '') or ''} {error}"
    if "appointment_no_overlap_per_patient" in text:
        return "The patient already has an appointment at that time."
    if "appointment_travel_time_between_locations" in text:
        return "The practitioner would not have time to travel from another location."
    if "appointment_one_active_per_course_session" in text:
        return "That session of the course is already booked."
    return "This time was just taken by another booking."


def _write(action: Callable[[], object]):
    """Run a write in a savepoint, turning a conflict PostgreSQL found into `SlotTaken`."""
    try:
        with transaction.atomic():
            return action()
    except (IntegrityError, OperationalError) as error:
        if is_conflict(error):
            raise SlotTaken(_conflict_message(error)) from error
        raise


def _record(
    appointment: Appointment,
    *,
    actor: User | None,
    kind: str,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
    late: bool | None = None,
    details: dict | None = None,
    at: dt.datetime | None = None,
) -> AppointmentEvent:
    return AppointmentEvent.objects.create(
        appointment=appointment,
        actor=actor,
        kind=kind,
        reason=reason,
        from_status=from_status,
        to_status=to_status,
        late=late,
        details=details or {},
        at=at or timezone.now(),
    )


# --- Checking one slot ----------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedSlot:
    location: Location
    practitioner: Practitioner
    room_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    blocks_until: dt.datetime


def check_slot(
    *,
    location: Location,
    practitioner: Practitioner,
    service: Service,
    starts_at: dt.datetime,
    minutes: int,
    patient: Patient | None,
    for_patient: bool,
    room: Room | None = None,
    ignore_appointment_ids: tuple[int, ...] = (),
    availability: Availability | None = None,
    now: dt.datetime | None = None,
) -> CheckedSlot:
    """The slot if every booking rule allows it; `SlotUnavailable` with the reasons if not."""
    now = now or timezone.now()
    if minutes not in service.allowed_minutes:
        allowed = ", ".join(str(m) for m in service.allowed_minutes)
        raise SlotUnavailable([f"{service.name} lasts {allowed} minutes, not {minutes}."])
    length = dt.timedelta(minutes=minutes)
    if availability is None:
        availability = load_availability(
            location=location,
            window_start=starts_at,
            window_end=starts_at + length,
            practitioner_ids=[practitioner.pk],
            patient=patient,
            ignore_appointment_ids=ignore_appointment_ids,
            now=now,
        )
    calendar = availability.calendars.get(practitioner.pk)
    if calendar is None:
        raise SlotUnavailable([f"{practitioner} does not work at {location}."])
    query = SlotQuery(
        window_start=starts_at,
        window_end=starts_at + length,
        length=length,
        now=now,
        needs_certification=service.needs_dry_needling_certification,
        for_patient=for_patient,
    )
    problems, room_id = slot_problems(
        starts_at=starts_at,
        query=query,
        rules=availability.rules,
        calendar=calendar,
        rooms=availability.rooms,
        patient_busy=availability.patient_busy,
        room_id=room.pk if room else None,
    )
    if problems:
        raise SlotUnavailable(problems)
    return CheckedSlot(
        location=location,
        practitioner=practitioner,
        room_id=room_id,
        starts_at=starts_at,
        ends_at=starts_at + length,
        blocks_until=starts_at + length + dt.timedelta(minutes=location.buffer_minutes),
    )


def _lock_practitioner(practitioner: Practitioner) -> None:
    """Serialise bookings of one practitioner (the travel-time trigger does the same)."""
    Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()


# --- Online requests: hold, then confirm ------------------------------------------------------


@transaction.atomic
def place_hold(
    *,
    patient: Patient,
    location: Location,
    practitioner: Practitioner,
    service: Service,
    starts_at: dt.datetime,
    minutes: int,
    now: dt.datetime | None = None,
) -> SlotHold:
    """Keep a slot for `patient` for a few minutes while they confirm their request."""
    now = now or timezone.now()
    _lock_practitioner(practitioner)
    # A patient holds one slot at a time: choosing another releases the previous one.
    SlotHold.objects.filter(patient=patient, appointment__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    checked = check_slot(
        location=location,
        practitioner=practitioner,
        service=service,
        starts_at=starts_at,
        minutes=minutes,
        patient=patient,
        for_patient=True,
        now=now,
    )
    return SlotHold.objects.create(
        location=location,
        practitioner=practitioner,
        room_id=checked.room_id,
        service=service,
        patient=patient,
        starts_at=checked.starts_at,
        ends_at=checked.ends_at,
        blocks_until=checked.blocks_until,
        expires_at=now + dt.timedelta(minutes=HOLD_MINUTES),
    )


@transaction.atomic
def request_appointment(
    *, hold: SlotHold, actor: User, note: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Turn a hold into a requested appointment (confirmed at once if the location says so).

    Confirming the same hold twice returns the appointment made the first time."""
    now = now or timezone.now()
    hold = (
        SlotHold.objects.select_for_update()
        .select_related("location", "practitioner", "service", "patient")
        .get(pk=hold.pk)
    )
    if hold.appointment_id:
        return hold.appointment
    if hold.expires_at <= now:
        # The hold ran out: the slot is still theirs if nobody else took it.
        check_slot(
            location=hold.location,
            practitioner=hold.practitioner,
            service=hold.service,
            starts_at=hold.starts_at,
            minutes=int((hold.ends_at - hold.starts_at).total_seconds() // 60),
            patient=hold.patient,
            for_patient=True,
            now=now,
        )
    status = Status.CONFIRMED if hold.location.confirms_requests_automatically else Status.REQUESTED
    appointment = _write(
        lambda: Appointment.objects.create(
            location=hold.location,
            practitioner=hold.practitioner,
            room_id=hold.room_id,
            patient=hold.patient,
            service=hold.service,
            starts_at=hold.starts_at,
            ends_at=hold.ends_at,
            blocks_until=hold.blocks_until,
            status=status,
            patient_note=note.strip()[:500],
            created_by=actor,
        )
    )
    hold.appointment = appointment
    hold.save(update_fields=["appointment"])
    hold.patient.locations.add(hold.location)
    _record(
        appointment,
        actor=actor,
        kind=AppointmentEvent.Kind.CREATED,
        to_status=Status.REQUESTED,
        reason="Requested online",
        at=now,
    )
    if status == Status.CONFIRMED:
        _record(
            appointment,
            actor=None,
            kind=AppointmentEvent.Kind.STATUS,
            from_status=Status.REQUESTED,
            to_status=Status.CONFIRMED,
            reason="Confirmed automatically (location policy)",
            at=now,
        )
    notifications.appointment_created(appointment, now=now)
    return appointment


# --- Staff bookings ------------------------------------------------------------------------------


@transaction.atomic
def book_appointment(
    *,
    patient: Patient,
    location: Location,
    practitioner: Practitioner,
    service: Service,
    starts_at: dt.datetime,
    minutes: int,
    actor: User,
    room: Room | None = None,
    status: str = Status.CONFIRMED,
    reason: str = "Booked by the clinic",
    course: Course | None = None,
    session_number: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Book an appointment for a patient (by phone, at the counter, or by a practitioner);
    with `course`, as that course's session `session_number`."""
    now = now or timezone.now()
    _lock_practitioner(practitioner)
    checked = check_slot(
        location=location,
        practitioner=practitioner,
        service=service,
        starts_at=starts_at,
        minutes=minutes,
        patient=patient,
        for_patient=False,
        room=room,
        now=now,
    )
    appointment = _write(
        lambda: Appointment.objects.create(
            location=location,
            practitioner=practitioner,
            room_id=checked.room_id,
            patient=patient,
            service=service,
            starts_at=checked.starts_at,
            ends_at=checked.ends_at,
            blocks_until=checked.blocks_until,
            status=status,
            course=course,
            session_number=session_number,
            created_by=actor,
        )
    )
    patient.locations.add(location)
    _record(
        appointment,
        actor=actor,
        kind=AppointmentEvent.Kind.CREATED,
        to_status=status,
        reason=reason,
        at=now,
    )
    notifications.appointment_created(appointment, now=now)
    return appointment


# --- Status changes ------------------------------------------------------------------------------


def _locked(appointment: Appointment, expected_version: int | None) -> Appointment:
    current = (
        Appointment.objects.select_for_update().select_related("location").get(pk=appointment.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleAppointment(
            "Someone else changed this appointment a moment ago "
            f"(it is now {current.get_status_display().lower()}); here is its current state."
        )
    return current


def _bump(appointment: Appointment, *fields: str) -> None:
    appointment.version += 1
    appointment.save(update_fields=[*fields, "version"])


@transaction.atomic
def change_status(
    appointment: Appointment,
    *,
    to: str,
    actor: User | None,
    reason: str = "",
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Apply one allowed status change and record it. Cancelling goes through `cancel_appointment`."""
    now = now or timezone.now()
    if to == Status.CANCELLED:
        raise TransitionRefused("Use cancel_appointment to cancel.")
    current = _locked(appointment, expected_version)
    if not current.can_change_to(to):
        raise TransitionRefused(
            f"A {current.get_status_display().lower()} appointment cannot be marked "
            f"{Status(to).label.lower()}."
        )
    if to == Status.NO_SHOW and now < current.starts_at:
        raise TransitionRefused(
            "A patient can only be marked as a no-show once the appointment has started."
        )
    if to == Status.CHECKED_IN and now < current.starts_at - dt.timedelta(hours=12):
        raise TransitionRefused("Check-in opens on the day of the appointment.")
    if to == Status.CHECKED_IN:
        _require_current_consent(current.patient)
    previous = current.status
    current.status = to
    fields = ["status"]
    if to == Status.CONFIRMED and current.proposed_by_clinic:
        current.proposed_by_clinic = False
        fields.append("proposed_by_clinic")
    _bump(current, *fields)
    _record(
        current,
        actor=actor,
        kind=AppointmentEvent.Kind.STATUS,
        from_status=previous,
        to_status=to,
        reason=reason,
        at=now,
    )
    notifications.status_changed(current, previous=previous, now=now)
    return current


def _require_current_consent(patient: Patient) -> None:
    """Nobody is checked in for needling without the current consent on file (intake keeps it)."""
    if not gates.consent_is_current(patient):
        raise ConsentNeeded(
            f"Check-in refused: {patient.full_name} has not signed the current version of the "
            "consent (it is missing or an older version). They can sign it now at the counter, "
            "then be checked in.",
            patient=patient,
        )


def check_in(
    appointment: Appointment,
    *,
    actor: User,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The patient has arrived. Refused with the reason if their consent is not current."""
    return change_status(
        appointment,
        to=Status.CHECKED_IN,
        actor=actor,
        reason="Arrived",
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def cancel_appointment(
    appointment: Appointment,
    *,
    by: str,
    actor: User | None,
    reason: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    offer_to_waitlist: bool = True,
    details: dict | None = None,
) -> Appointment:
    """Cancel, recording who asked, why and whether it is late; offer the freed slot."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise TransitionRefused("Say why the appointment is cancelled.")
    current = _locked(appointment, expected_version)
    if not current.can_change_to(Status.CANCELLED):
        raise TransitionRefused(
            f"A {current.get_status_display().lower()} appointment cannot be cancelled."
        )
    late = current.is_late_cancellation(now)
    previous = current.status
    current.status = Status.CANCELLED
    current.cancelled_by = CancelledBy(by)
    current.cancellation_reason = reason[:300]
    current.late_cancellation = late
    _bump(current, "status", "cancelled_by", "cancellation_reason", "late_cancellation")
    _record(
        current,
        actor=actor,
        kind=AppointmentEvent.Kind.STATUS,
        from_status=previous,
        to_status=Status.CANCELLED,
        reason=reason,
        late=late,
        details={"by": by} | (details or {}),
        at=now,
    )
    notifications.appointment_cancelled(current, previous=previous, now=now)
    if offer_to_waitlist and current.starts_at > now:
        offer_freed_slot(FreedSlot.of(current), now=now)
    return current


def patient_cancel(
    appointment: Appointment, *, actor: User, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """A patient cancels online; inside the notice period they must phone instead."""
    now = now or timezone.now()
    if not appointment.patient_may_change_online(now):
        raise TransitionRefused(
            f"It is too late to cancel online (less than {appointment.location.cancellation_notice_hours} "
            f"hours before). Please phone {appointment.location.name} at {appointment.location.phone}."
        )
    return cancel_appointment(
        appointment,
        by=CancelledBy.PATIENT,
        actor=actor,
        reason=reason or "Cancelled by the patient online",
        now=now,
    )


@transaction.atomic
def decline_request(
    appointment: Appointment,
    *,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The clinic declines an online request, saying why; the patient is told the reason (by
    email, and on their appointment page).

    A decline is the clinic cancelling a requested appointment: the time is freed (and
    offered to the waitlist) like any cancellation."""
    now = now or timezone.now()
    if not (reason or "").strip():
        raise TransitionRefused("Write the reason the patient will read.")
    current = _locked(appointment, expected_version)
    if current.status != Status.REQUESTED:
        raise TransitionRefused(
            f"Only a requested appointment can be declined; this one is "
            f"{current.get_status_display().lower()}."
        )
    return cancel_appointment(
        current,
        by=CancelledBy.CLINIC,
        actor=actor,
        reason=reason,
        expected_version=expected_version,
        now=now,
        details={"declined": True},
    )


@transaction.atomic
def reschedule_appointment(
    appointment: Appointment,
    *,
    starts_at: dt.datetime,
    actor: User,
    location: Location | None = None,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    reason: str = "",
    for_patient: bool = False,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    event_details: dict | None = None,
) -> Appointment:
    """Move an appointment to another time, practitioner, room or location, keeping its course
    numbering and history."""
    now = now or timezone.now()
    current = _locked(appointment, expected_version)
    if current.status not in (Status.REQUESTED, Status.CONFIRMED):
        raise TransitionRefused(
            f"A {current.get_status_display().lower()} appointment cannot be moved."
        )
    if for_patient and not current.patient_may_change_online(now):
        raise TransitionRefused(
            f"It is too late to change this appointment online. Please phone "
            f"{current.location.name} at {current.location.phone}."
        )
    location = location or current.location
    practitioner = practitioner or current.practitioner
    _lock_practitioner(practitioner)
    checked = check_slot(
        location=location,
        practitioner=practitioner,
        service=current.service,
        starts_at=starts_at,
        minutes=current.minutes,
        patient=current.patient,
        for_patient=for_patient,
        room=room,
        ignore_appointment_ids=(current.pk,),
        now=now,
    )
    # The time it leaves, taken before the appointment's fields change.
    freed = FreedSlot.of(current)
    # Where it was, for the patient's email.
    moved_from = {
        "from_starts_at": current.starts_at,
        "from_location": current.location,
        "from_practitioner": str(current.practitioner),
    }
    before = {
        "starts_at": current.starts_at.isoformat(),
        "location": current.location.name,
        "practitioner": str(current.practitioner),
        "room": str(current.room.name),
    }
    current.location = location
    current.practitioner = practitioner
    current.room_id = checked.room_id
    current.starts_at, current.ends_at = checked.starts_at, checked.ends_at
    current.blocks_until = checked.blocks_until
    # Whoever moves it last chose this time: a time the clinic proposed is no longer pending.
    current.proposed_by_clinic = False
    _write(
        lambda: _bump(
            current,
            "location",
            "practitioner",
            "room",
            "starts_at",
            "ends_at",
            "blocks_until",
            "proposed_by_clinic",
        )
    )
    current.refresh_from_db(fields=["room"])
    after = {
        "starts_at": current.starts_at.isoformat(),
        "location": location.name,
        "practitioner": str(practitioner),
        "room": str(current.room.name),
    }
    _record(
        current,
        actor=actor,
        kind=AppointmentEvent.Kind.MOVED,
        reason=reason,
        details={"from": before, "to": after} | (event_details or {}),
        at=now,
    )
    current.patient.locations.add(location)
    proposal = (
        (event_details or {}).get("message", "") if (event_details or {}).get("proposal") else ""
    )
    notifications.appointment_moved(current, **moved_from, now=now, proposal=proposal)
    if freed.starts_at > now:
        # The old time is free again, as after a cancellation (unless the move overlaps it).
        offer_freed_slot(freed, now=now)
    return current


# --- Answering online requests (front desk) -----------------------------------------------------


@transaction.atomic
def confirm_request(
    appointment: Appointment,
    *,
    actor: User,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    return change_status(
        appointment,
        to=Status.CONFIRMED,
        actor=actor,
        reason="Confirmed by the clinic",
        expected_version=expected_version,
        now=now,
    )


@transaction.atomic
def propose_time(
    appointment: Appointment,
    *,
    starts_at: dt.datetime,
    actor: User,
    message: str,
    location: Location | None = None,
    practitioner: Practitioner | None = None,
    room: Room | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Answer a request with another time: the request moves there (so the time is kept for the
    patient) and waits for the patient to accept it; `message` is what the patient reads."""
    now = now or timezone.now()
    message = (message or "").strip()
    if not message:
        raise TransitionRefused("Write a short message for the patient with the new time.")
    current = _locked(appointment, expected_version)
    if current.status != Status.REQUESTED:
        raise TransitionRefused(
            f"This appointment is now {current.get_status_display().lower()}: only a request "
            "waiting for confirmation can be answered with another time."
        )
    moved = reschedule_appointment(
        current,
        starts_at=starts_at,
        actor=actor,
        location=location,
        practitioner=practitioner,
        room=room,
        reason=f"Another time proposed to the patient: {message}"[:300],
        expected_version=current.version,
        now=now,
        event_details={"proposal": True, "message": message[:300]},
    )
    moved.proposed_by_clinic = True
    moved.save(update_fields=["proposed_by_clinic"])
    return moved


@transaction.atomic
def accept_proposed_time(
    appointment: Appointment,
    *,
    actor: User,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """The patient accepts the time the clinic proposed: the appointment is confirmed."""
    current = _locked(appointment, expected_version)
    if not current.is_waiting_for_patient:
        raise TransitionRefused("There is no proposed time waiting for your answer.")
    if current.starts_at <= (now or timezone.now()):
        raise TransitionRefused("The proposed time has passed; please choose another time.")
    return change_status(
        current,
        to=Status.CONFIRMED,
        actor=actor,
        reason="The patient accepted the time the clinic proposed",
        now=now,
    )


# --- Patients who phone or walk in --------------------------------------------------------------


@transaction.atomic
def register_patient_at_desk(
    *,
    location: Location,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str,
    email: str = "",
) -> Patient:
    """A patient record with the minimum details, registered at `location` (no login yet:
    the patient can sign up later with the same email)."""
    patient = Patient.objects.create(
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=phone.strip(),
        email=(email or "").strip().lower(),
        preferred_location=location,
    )
    patient.locations.add(location)
    return patient


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
        try:
            check_slot(
                location=choice.location,
                practitioner=choice.practitioner,
                service=service,
                starts_at=choice.starts_at,
                minutes=minutes,
                patient=patient,
                for_patient=False,
                now=now,
            )
        except SlotUnavailable as refused:
            proposal.problems = refused.problems
        if any(s < choice.starts_at + length and choice.starts_at < e for s, e in taken):
            proposal.problems.append("This session overlaps another session of the course.")
        if proposal.problems:
            proposal.alternatives = nearest_alternatives(
                location=choice.location,
                practitioner=choice.practitioner,
                service=service,
                minutes=minutes,
                around=choice.starts_at,
                patient=patient,
                now=now,
                exclude=taken,
                limit=alternatives,
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
    length = dt.timedelta(minutes=minutes)
    start = max(around - dt.timedelta(days=days), now)
    availability = load_availability(
        location=location,
        window_start=start,
        window_end=around + dt.timedelta(days=days),
        patient=patient,
        now=now,
    )
    query = SlotQuery(
        window_start=start,
        window_end=around + dt.timedelta(days=days),
        length=length,
        now=now,
        needs_certification=service.needs_dry_needling_certification,
        for_patient=False,
        step=dt.timedelta(minutes=30),
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
        constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "")
        if constraint == "course_one_per_assessment":
            raise CourseNotAllowed(gates.COURSE_ALREADY_BOOKED) from error
        if constraint == "course_assessment_is_the_patients":
            raise CourseNotAllowed(
                "The assessment prescribing this course is not this patient's; nothing was booked."
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
        _lock_practitioner(practitioner)
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
            appointment = _write(
                lambda checked=checked, choice=choice: Appointment.objects.create(
                    location=choice.location,
                    practitioner=choice.practitioner,
                    room_id=checked.room_id,
                    patient=patient,
                    service=service,
                    starts_at=checked.starts_at,
                    ends_at=checked.ends_at,
                    blocks_until=checked.blocks_until,
                    status=Status.CONFIRMED,
                    course=course,
                    session_number=choice.number,
                    created_by=actor,
                )
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
    if not gate.allowed:
        raise CourseNotAllowed(f"Session {session_number} cannot be booked again: {gate.reason}")
    if gate.prescription.assessment_id != course.assessment_id:
        # A re-assessment has prescribed since: its plan (and its course) is the one in force.
        raise CourseNotAllowed(
            f"Session {session_number} cannot be booked again: a later assessment has "
            "prescribed a new plan; book the sessions of that plan instead."
        )
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


# --- Waitlist --------------------------------------------------------------------------------


NEEDLING_HAS_NO_WAITLIST = (
    "Dry-needling sessions are booked as a course after the assessment; to have a session of "
    "a course earlier, move it on the schedule."
)


@dataclass(frozen=True)
class FreedSlot:
    """A time an appointment no longer occupies, as it was before it was cancelled or moved
    (after a move the appointment's own fields hold the new time). Its room is chosen
    again when it is offered, as for any booking."""

    location: Location
    practitioner: Practitioner
    service: Service
    starts_at: dt.datetime
    ends_at: dt.datetime
    # The patient who gave the time up: it is not offered back to them.
    given_up_by_id: int | None = None

    @classmethod
    def of(cls, appointment: Appointment) -> FreedSlot:
        return cls(
            location=appointment.location,
            practitioner=appointment.practitioner,
            service=appointment.service,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            given_up_by_id=appointment.patient_id,
        )

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@transaction.atomic
def offer_freed_slot(freed: FreedSlot, *, now: dt.datetime | None = None) -> WaitlistOffer | None:
    """Offer a freed slot to the first waiting patient it suits (first come, first served)."""
    now = now or timezone.now()
    entries = _waiting_for(freed).exclude(patient_id=freed.given_up_by_id)
    return _offer_to_first_free(entries, freed, now=now)


def _waiting_for(freed: FreedSlot):
    """The places waiting for this kind of slot, oldest first, locked (others already being
    offered by another worker are skipped)."""
    return (
        WaitlistEntry.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            location=freed.location,
            state=WaitlistEntry.State.WAITING,
            service=freed.service,
            minutes=freed.minutes,
        )
        .select_related("patient", "service")
        .order_by("created_at", "id")
    )


def _offer_to_first_free(
    entries: Iterable[WaitlistEntry], freed: FreedSlot, *, now: dt.datetime
) -> WaitlistOffer | None:
    """Offer `freed` to the first of `entries` whose times it suits and who is free then.

    The slot is checked with the booking rules before anything is held: a time that is not
    free after all (a move onto part of it, someone's hold) is offered to nobody, and a
    patient who has another appointment then is passed over for the next one, instead of
    being held a time they could never accept."""
    if freed.service.kind == ServiceKind.DRY_NEEDLING:
        return None  # needling comes as a course (the gate), never from a waitlist place
    if _offer_deadline(freed.starts_at, now=now) <= now:
        return None  # too soon for anyone to answer an offer
    local_start = freed.starts_at.astimezone(freed.location.zone)
    local_end = freed.ends_at.astimezone(freed.location.zone)
    suited = [
        entry
        for entry in entries
        if entry.matches(
            local_start=local_start,
            local_end=local_end,
            practitioner_id=freed.practitioner.pk,
            service_id=freed.service.pk,
        )
    ]
    if not suited:
        return None

    def check(patient: Patient | None) -> CheckedSlot:
        return check_slot(
            location=freed.location,
            practitioner=freed.practitioner,
            service=freed.service,
            starts_at=freed.starts_at,
            minutes=freed.minutes,
            patient=patient,
            for_patient=False,
            now=now,
        )

    try:
        check(None)  # once for the slot itself, rather than once per waiting patient
    except SlotUnavailable:
        return None
    for entry in suited:
        try:
            checked = check(entry.patient)
        except SlotUnavailable:
            continue
        return _offer(
            entry,
            freed.location,
            freed.practitioner,
            checked.room_id,
            checked.starts_at,
            checked.ends_at,
            actor=None,
            now=now,
        )
    return None


def _offer_deadline(starts_at: dt.datetime, *, now: dt.datetime) -> dt.datetime:
    # An offer lasts until its deadline, but never past an hour before the slot itself.
    return min(now + dt.timedelta(hours=WAITLIST_OFFER_HOURS), starts_at - dt.timedelta(hours=1))


def _offer(
    entry: WaitlistEntry,
    location: Location,
    practitioner: Practitioner,
    room_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    *,
    actor: User | None,
    now: dt.datetime,
) -> WaitlistOffer | None:
    expires_at = _offer_deadline(starts_at, now=now)
    if expires_at <= now:
        return None
    hold = SlotHold.objects.create(
        location=location,
        practitioner=practitioner,
        room_id=room_id,
        service=entry.service,
        patient=entry.patient,
        starts_at=starts_at,
        ends_at=ends_at,
        blocks_until=ends_at + dt.timedelta(minutes=location.buffer_minutes),
        expires_at=expires_at,
    )
    entry.state = WaitlistEntry.State.OFFERED
    entry.save(update_fields=["state"])
    offer = WaitlistOffer.objects.create(
        entry=entry, hold=hold, expires_at=expires_at, offered_by=actor, offered_at=now
    )
    notifications.slot_offered(offer, now=now)
    return offer


@transaction.atomic
def offer_slot_by_hand(
    *,
    entry: WaitlistEntry,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    actor: User,
    now: dt.datetime | None = None,
) -> WaitlistOffer:
    """The front desk offers a specific free slot to a waiting patient."""
    now = now or timezone.now()
    entry = WaitlistEntry.objects.select_for_update().select_related("service").get(pk=entry.pk)
    if entry.state != WaitlistEntry.State.WAITING:
        raise BookingError("This patient already has an open offer or is no longer waiting.")
    if entry.service.kind == ServiceKind.DRY_NEEDLING:
        raise BookingError(NEEDLING_HAS_NO_WAITLIST)
    _lock_practitioner(practitioner)
    checked = check_slot(
        location=entry.location,
        practitioner=practitioner,
        service=entry.service,
        starts_at=starts_at,
        minutes=entry.minutes,
        patient=entry.patient,
        for_patient=False,
        now=now,
    )
    offer = _offer(
        entry,
        entry.location,
        practitioner,
        checked.room_id,
        checked.starts_at,
        checked.ends_at,
        actor=actor,
        now=now,
    )
    if offer is None:
        raise BookingError("This slot is too soon to offer.")
    return offer


@transaction.atomic
def accept_offer(
    offer: WaitlistOffer, *, actor: User, now: dt.datetime | None = None
) -> Appointment:
    now = now or timezone.now()
    offer = (
        WaitlistOffer.objects.select_for_update().select_related("entry", "hold").get(pk=offer.pk)
    )
    if offer.state == WaitlistOffer.State.ACCEPTED and offer.hold.appointment_id:
        return offer.hold.appointment
    if offer.state != WaitlistOffer.State.OPEN or offer.expires_at <= now:
        raise BookingError("This offer has ended; the slot may have gone to someone else.")
    hold = offer.hold
    appointment = _write(
        lambda: Appointment.objects.create(
            location=hold.location,
            practitioner=hold.practitioner,
            room_id=hold.room_id,
            patient=hold.patient,
            service=hold.service,
            starts_at=hold.starts_at,
            ends_at=hold.ends_at,
            blocks_until=hold.blocks_until,
            status=Status.CONFIRMED,
            created_by=actor,
        )
    )
    hold.appointment = appointment
    hold.save(update_fields=["appointment"])
    offer.state = WaitlistOffer.State.ACCEPTED
    offer.save(update_fields=["state"])
    offer.entry.state = WaitlistEntry.State.BOOKED
    offer.entry.save(update_fields=["state"])
    _record(
        appointment,
        actor=actor,
        kind=AppointmentEvent.Kind.CREATED,
        to_status=Status.CONFIRMED,
        reason="Accepted a waitlist offer",
        at=now,
    )
    notifications.offer_ended(offer)
    notifications.appointment_created(appointment, now=now)
    return appointment


@transaction.atomic
def decline_offer(
    offer: WaitlistOffer,
    *,
    now: dt.datetime | None = None,
    state: str = WaitlistOffer.State.DECLINED,
) -> WaitlistOffer | None:
    """End an open offer and pass the slot to the next matching patient, if any."""
    now = now or timezone.now()
    offer = (
        WaitlistOffer.objects.select_for_update().select_related("entry", "hold").get(pk=offer.pk)
    )
    if offer.state != WaitlistOffer.State.OPEN:
        return None
    offer.state = state
    offer.save(update_fields=["state"])
    notifications.offer_ended(offer)
    hold = offer.hold
    hold.expires_at = min(hold.expires_at, now)
    hold.save(update_fields=["expires_at"])
    # Declined or unanswered, the patient keeps their place for other slots (not this one).
    offer.entry.state = WaitlistEntry.State.WAITING
    offer.entry.save(update_fields=["state"])
    return _pass_on(hold, exclude_entry=offer.entry, now=now)


def _pass_on(
    hold: SlotHold, *, exclude_entry: WaitlistEntry, now: dt.datetime
) -> WaitlistOffer | None:
    freed = FreedSlot(
        location=hold.location,
        practitioner=hold.practitioner,
        service=hold.service,
        starts_at=hold.starts_at,
        ends_at=hold.ends_at,
    )
    entries = (
        _waiting_for(freed)
        .exclude(pk=exclude_entry.pk)
        .exclude(
            offers__hold__starts_at=hold.starts_at, offers__hold__practitioner=hold.practitioner
        )
    )
    return _offer_to_first_free(entries, freed, now=now)


def expire_offers(*, now: dt.datetime | None = None) -> int:
    """End the offers whose deadline passed, passing each slot on to the next patient."""
    now = now or timezone.now()
    expired = 0
    for offer in WaitlistOffer.objects.filter(state=WaitlistOffer.State.OPEN, expires_at__lte=now):
        decline_offer(offer, now=now, state=WaitlistOffer.State.EXPIRED)
        expired += 1
    return expired


@transaction.atomic
def join_waitlist(
    *,
    patient: Patient,
    location: Location,
    service: Service,
    minutes: int,
    weekdays: list[int],
    earliest_time: dt.time,
    latest_time: dt.time,
    actor: User,
    practitioner: Practitioner | None = None,
) -> WaitlistEntry:
    if service.kind == ServiceKind.DRY_NEEDLING:
        # Needling is booked as a course from a signed assessment (the gate); a waitlist
        # place would hand a session to someone nobody has assessed.
        raise BookingError(NEEDLING_HAS_NO_WAITLIST)
    if earliest_time >= latest_time:
        raise BookingError("The earliest time must be before the latest time.")
    if not weekdays:
        raise BookingError("Choose at least one day of the week.")
    entry = WaitlistEntry.objects.create(
        patient=patient,
        location=location,
        practitioner=practitioner,
        service=service,
        minutes=minutes,
        weekdays=sorted(set(weekdays)),
        earliest_time=earliest_time,
        latest_time=latest_time,
        created_by=actor,
    )
    patient.locations.add(location)
    return entry


@transaction.atomic
def leave_waitlist(entry: WaitlistEntry) -> None:
    entry.state = WaitlistEntry.State.WITHDRAWN
    entry.save(update_fields=["state"])
    for offer in entry.offers.filter(state=WaitlistOffer.State.OPEN):
        offer.state = WaitlistOffer.State.WITHDRAWN
        offer.save(update_fields=["state"])
        notifications.offer_ended(offer)
        offer.hold.expires_at = timezone.now()
        offer.hold.save(update_fields=["expires_at"])


# --- Closing a patient's account ---------------------------------------------------------------


@transaction.atomic
def close_patient_account(patient: Patient, *, actor: User, now: dt.datetime | None = None) -> None:
    """A patient closes their account: future appointments are cancelled, waitlist places and
    held times given up, and the login removed (see clinic.services.remove_login). The
    clinical record stays — questionnaires, consents, notes, appointment history and the
    access log — for as long as clinical-record retention requires."""
    from clinic.services import remove_login

    now = now or timezone.now()
    upcoming = Appointment.objects.filter(
        patient=patient, status__in=MOVABLE_STATUSES, starts_at__gt=now
    )
    for appointment in upcoming:
        cancel_appointment(
            appointment,
            by=CancelledBy.PATIENT,
            actor=actor,
            reason="The patient closed their account",
            now=now,
        )
    for entry in WaitlistEntry.objects.filter(patient=patient).exclude(
        state=WaitlistEntry.State.WITHDRAWN
    ):
        leave_waitlist(entry)
    SlotHold.objects.filter(patient=patient, appointment__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    if patient.user_id:
        remove_login(patient.user)
