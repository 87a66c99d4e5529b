"""One appointment's life after it is asked for: staff bookings, status changes (check-in,
no-show, ...), cancelling and moving, the front desk's answer to an online request, and the
patient who phones or walks in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from functools import partial

from django.db import connection, transaction
from django.utils import timezone

from booking import gates, notifications
from booking.billing.invoicing import (
    charge_late_cancellation,
    charge_missed_visit,
    invoice_visit,
)
from booking.models import (
    MOVABLE_STATUSES,
    Appointment,
    AppointmentEvent,
    CancelledBy,
    Course,
    Room,
    Status,
)
from booking.services.slots import check_move, check_slot, lock_practitioner, write_appointment
from booking.services.waitlist import FreedSlot, leave_places_for, offer_freed_slot
from booking.services.writing import (
    ConsentNeeded,
    PossibleDuplicates,
    SlotUnavailable,
    StaleAppointment,
    TransitionRefused,
    record_event,
    refuse_needling_outside_a_course,
    write,
)
from clinic.models import Location, Patient, Practitioner, Service, User
from clinic.templatetags.clinic_time import at_location

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
    with `course`, as that course's session `session_number`. A dry-needling session is
    booked only so, as a session of its course (refused before its time is looked at)."""
    refuse_needling_outside_a_course(service, course)
    now = now or timezone.now()
    lock_practitioner(practitioner)
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
    appointment = write_appointment(
        checked,
        patient=patient,
        service=service,
        status=status,
        actor=actor,
        course=course,
        session_number=session_number,
    )
    patient.locations.add(location)
    record_event(
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


def locked(
    appointment: Appointment, expected_version: int | None, actor: User | None = None
) -> Appointment:
    # The appointment's row only (`of`): with its location joined, FOR UPDATE would lock the
    # location's row too, and every invoice, credit note and number written there meanwhile
    # needs that row (its foreign key) to commit: a desk invoicing a course ahead deadlocked
    # with a check-out waiting for the year's invoice number.
    current = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("location")
        .get(pk=appointment.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleAppointment.since(current, expected_version, actor)
    return current


def _bump(appointment: Appointment, *fields: str) -> None:
    appointment.version += 1
    appointment.save(update_fields=[*fields, "version"])


def apply_status(
    current: Appointment,
    *,
    to: str,
    actor: User | None,
    reason: str,
    now: dt.datetime,
    fields: tuple[str, ...] = (),
    late: bool | None = None,
    details: dict | None = None,
) -> str:
    """Give a locked appointment its new status (saving `fields` the caller set alongside)
    and record who changed it, when and why; returns the status it had."""
    previous = current.status
    current.status = to
    _bump(current, "status", *fields)
    record_event(
        current,
        actor=actor,
        kind=AppointmentEvent.Kind.STATUS,
        from_status=previous,
        to_status=to,
        reason=reason,
        late=late,
        details=details,
        at=now,
    )
    if to not in MOVABLE_STATUSES:
        # Nothing left to bring forward: its waitlist places go (and their offers, on).
        leave_places_for(current, now=now)
    return previous


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
    current = locked(appointment, expected_version, actor)
    if not current.can_change_to(to):
        raise TransitionRefused(
            f"A {current.get_status_display().lower()} appointment cannot be marked "
            f"{Status(to).label.lower()}."
        )
    if to == Status.CONFIRMED and current.starts_at <= now:
        # Confirming would promise the patient a time already gone (and email them so).
        raise TransitionRefused(
            "This request's time has passed: decline it, or propose another time."
        )
    if to == Status.NO_SHOW and now < current.starts_at:
        raise TransitionRefused(
            "A patient can only be marked as a no-show once the appointment has started."
        )
    if to == Status.NO_SHOW:
        refuse_if_recorded(current, "marked a no-show", now)
    if to == Status.CHECKED_IN and not current.check_in_is_open(now):
        raise TransitionRefused(f"Check-in opens at {check_in_opens_text(current)}.")
    if to == Status.CHECKED_IN:
        require_current_consent(current.patient)
    fields = ()
    if to == Status.CONFIRMED and current.proposed_by_clinic:
        current.proposed_by_clinic = False
        fields = ("proposed_by_clinic",)
    previous = apply_status(current, to=to, actor=actor, reason=reason, now=now, fields=fields)
    # The bill of the visit (or of a missed one) is written with the status, or not at all.
    if to == Status.COMPLETED:
        invoice_visit(current, actor=actor, now=now)
    elif to == Status.NO_SHOW:
        charge_missed_visit(current, actor=actor, now=now)
    notifications.status_changed(current, previous=previous, now=now)
    return current


def _keep_course_order(appointment: Appointment, starts_at: dt.datetime) -> None:
    """A patient moves a course session only between its neighbours' days."""
    before, after = neighbours = appointment.course_neighbours()
    earliest, latest = appointment.patients_move_window(neighbours)
    if (earliest is None or starts_at >= earliest) and (latest is None or starts_at < latest):
        return
    phone = f"phone {appointment.location.name} at {appointment.location.phone}"
    if earliest is not None and latest is not None and earliest >= latest:
        # The desk put another session on its day: only the desk can sort that out.
        raise SlotUnavailable(
            [f"This session of your course can be moved by the clinic only: {phone}."]
        )
    bounds = [
        f"{side} session {s.session_number} ({at_location(s.starts_at, s.location, 'l j F')})"
        for side, s in (("after", before), ("before", after))
        if s is not None
    ]
    raise SlotUnavailable(
        [
            f"Session {appointment.session_number} of your course stays {' and '.join(bounds)}, "
            "on a day of its own, so that the sessions keep their order. Please choose a day "
            f"between them, or {phone}."
        ]
    )


def refuse_if_recorded(appointment: Appointment, change: str, now: dt.datetime) -> None:
    """A visit that has begun and that a signed clinical note records took place: it is not
    missed, cancelled or moved afterwards (nor charged as such). The note's own signing refuses the
    other order. (A note linked to a visit still ahead says nothing of it.)"""
    if appointment.starts_at <= now and gates.visit_is_recorded(appointment.pk):
        raise TransitionRefused(
            f"A signed note records this visit, so it took place: it cannot be {change}."
        )


def check_in_opens_text(appointment: Appointment) -> str:
    """When check-in opens, as the refusal and the desk's panel say it: '10:30 PM EDT, Tue 8
    Jun 2027', in the appointment's location's time."""
    return at_location(appointment.check_in_opens_at(), appointment.location, "g:i A T, D j M Y")


def require_current_consent(patient: Patient) -> None:
    """Nobody is checked in for needling without the current consent on file (intake keeps it)."""
    if not gates.consent_is_current(patient):
        raise ConsentNeeded(
            f"Check-in refused: {patient.full_name} has not signed the current version of the "
            "consent (it is missing or an older version). They can sign it now at the counter, "
            "then be checked in.",
            patient=patient,
        )


# The patient has arrived; refused with the reason if their consent is not current.
check_in = partial(change_status, to=Status.CHECKED_IN, reason="Arrived")


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
    current = locked(appointment, expected_version, actor)
    if not current.can_change_to(Status.CANCELLED):
        raise TransitionRefused(
            f"A {current.get_status_display().lower()} appointment cannot be cancelled."
        )
    refuse_if_recorded(current, "cancelled", now)
    late = current.cancelling_is_late(now)
    current.cancelled_by = CancelledBy(by)
    current.cancellation_reason = reason[:300]
    current.late_cancellation = late
    previous = apply_status(
        current,
        to=Status.CANCELLED,
        actor=actor,
        reason=reason,
        now=now,
        fields=("cancelled_by", "cancellation_reason", "late_cancellation"),
        late=late,
        details={"by": by} | (details or {}),
    )
    charge_late_cancellation(current, actor=actor, now=now)
    notifications.appointment_cancelled(current, previous=previous, now=now)
    if offer_to_waitlist and current.starts_at > now:
        offer_freed_slot(FreedSlot.of(current), now=now)
    return current


def patient_cancel(
    appointment: Appointment, *, actor: User, reason: str, now: dt.datetime | None = None
) -> Appointment:
    """A patient cancels online; inside the notice period they must phone instead (but for a
    request the clinic has not confirmed: it is withdrawn, never late)."""
    now = now or timezone.now()
    if not appointment.is_movable:
        # Cancelled already (the form sent twice, an old email's link), or it has happened.
        raise TransitionRefused(
            f"This appointment is {appointment.get_status_display().lower()}; it cannot be "
            "cancelled."
        )
    if not appointment.patient_may_cancel_online(now):
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
    current = locked(appointment, expected_version, actor)
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
    certified_only: bool = False,
) -> Appointment:
    """Move an appointment to another time, practitioner, room or location, keeping its course
    numbering and history. `certified_only` as for `check_slot`."""
    now = now or timezone.now()
    current = locked(appointment, expected_version, actor)
    if current.status not in (Status.REQUESTED, Status.CONFIRMED):
        raise TransitionRefused(
            f"A {current.get_status_display().lower()} appointment cannot be moved."
        )
    refuse_if_recorded(current, "moved", now)
    if for_patient and not current.patient_may_change_online(now):
        raise TransitionRefused(
            f"It is too late to change this appointment online. Please phone "
            f"{current.location.name} at {current.location.phone}."
        )
    location = location or current.location
    practitioner = practitioner or current.practitioner
    if for_patient:
        _keep_course_order(current, starts_at)
    lock_practitioner(practitioner)
    checked = check_move(
        current,
        location=location,
        practitioner=practitioner,
        starts_at=starts_at,
        for_patient=for_patient,
        room=room,
        now=now,
        certified_only=certified_only,
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
    write(
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
    record_event(
        current,
        actor=actor,
        kind=AppointmentEvent.Kind.MOVED,
        reason=reason,
        details={"from": before, "to": after} | (event_details or {}),
        at=now,
    )
    current.patient.locations.add(location)
    if location != moved_from["from_location"]:
        # Its places for an earlier time were asked for at the location it left.
        leave_places_for(current, now=now)
    proposal = (
        (event_details or {}).get("message", "") if (event_details or {}).get("proposal") else ""
    )
    notifications.appointment_moved(current, **moved_from, now=now, proposal=proposal)
    if freed.starts_at > now:
        # The old time is free again, as after a cancellation (unless the move overlaps it).
        offer_freed_slot(freed, now=now)
    return current


# --- Answering online requests (front desk) -----------------------------------------------------


# The front desk confirms an online request as asked.
confirm_request = partial(change_status, to=Status.CONFIRMED, reason="Confirmed by the clinic")


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
    current = locked(appointment, expected_version, actor)
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
    current = locked(appointment, expected_version, actor)
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
    duplicates: Callable[[], list[Patient]] = list,
    seen: Collection[int] = (),
) -> Patient:
    """A patient record with the minimum details, registered at `location` (no login yet:
    the patient can sign up later with the same email); refused with `PossibleDuplicates`
    while `duplicates()` finds one the desk has not `seen` (their ids). The check and the
    record are one step for a date of birth: "add them" clicked twice, or by two desks at
    once, finds the patient the first added."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('booking.new_patient'), %s)",
            [date_of_birth.toordinal()],
        )
    found = duplicates()
    if any(patient.pk not in seen for patient in found):
        raise PossibleDuplicates(found)
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
