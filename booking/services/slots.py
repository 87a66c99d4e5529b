"""Checking one slot with the rules the slot search uses, holding it for a patient, and the
patient's online request that follows the hold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Protocol

from django.db import transaction
from django.utils import timezone

from booking import notifications
from booking.availability import SlotQuery, slot_problems
from booking.models import (
    Appointment,
    AppointmentEvent,
    Course,
    Room,
    SlotHold,
    Status,
)
from booking.selectors import Availability, load_availability
from booking.services.writing import (
    BookingError,
    SlotUnavailable,
    lock_patient,
    record_event,
    refuse_needling_outside_a_course,
    write,
)
from clinic.models import Location, Patient, Practitioner, Service, User

HOLD_MINUTES = 10


class HoldReplaced(BookingError):
    """The patient chose another time after this hold: confirming it would be a second request."""


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
    certified_only: bool = False,
) -> CheckedSlot:
    """The slot if every booking rule allows it; `SlotUnavailable` with the reasons if not.
    `certified_only`: the practitioner must hold a current dry-needling certification even
    for a service that does not itself need one (a patient's own choice online: the pages
    offer no one else)."""
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
    query = SlotQuery.for_service(
        service, minutes, starts_at, starts_at + length, now=now, for_patient=for_patient
    )
    if certified_only:
        query = replace(query, needs_certification=True)
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
        **Appointment.times(location, starts_at, minutes),
    )


class NamedSlot(Protocol):
    """A time something already names in full: a freed slot, the parts of an API Slot id."""

    @property
    def location(self) -> Location: ...
    @property
    def practitioner(self) -> Practitioner: ...
    @property
    def service(self) -> Service: ...
    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def minutes(self) -> int: ...


def check_slot_of(
    slot: NamedSlot,
    *,
    patient: Patient | None,
    for_patient: bool,
    now: dt.datetime | None = None,
    certified_only: bool = False,
    ignore_appointment_ids: tuple[int, ...] = (),
) -> CheckedSlot:
    """`check_slot` for the time `slot` names, for `patient` (or for anyone, with None);
    `certified_only` and `ignore_appointment_ids` as for `check_slot`."""
    return check_slot(
        location=slot.location,
        practitioner=slot.practitioner,
        service=slot.service,
        starts_at=slot.starts_at,
        minutes=slot.minutes,
        patient=patient,
        for_patient=for_patient,
        now=now,
        certified_only=certified_only,
        ignore_appointment_ids=ignore_appointment_ids,
    )


def check_move(
    appointment: Appointment,
    *,
    location: Location,
    practitioner: Practitioner,
    starts_at: dt.datetime,
    for_patient: bool,
    room: Room | None = None,
    now: dt.datetime | None = None,
    certified_only: bool = False,
) -> CheckedSlot:
    """`check_slot` for moving `appointment` to `starts_at` with `practitioner` at `location`:
    the same service, length and patient, and the time it holds now does not stand in the way
    (the desk's drop preview asks exactly what the move itself will)."""
    return check_slot(
        location=location,
        practitioner=practitioner,
        service=appointment.service,
        starts_at=starts_at,
        minutes=appointment.minutes,
        patient=appointment.patient,
        for_patient=for_patient,
        room=room,
        ignore_appointment_ids=(appointment.pk,),
        now=now,
        certified_only=certified_only,
    )


def lock_practitioner(practitioner: Practitioner) -> None:
    """Serialise bookings of one practitioner (the travel-time trigger does the same)."""
    Practitioner.objects.select_for_update().filter(pk=practitioner.pk).first()


# --- Writing the appointment into a slot ---------------------------------------------------------


def _taking(slot: CheckedSlot | SlotHold) -> dict:
    """Where and when `slot` is, as the fields of the appointment or hold that takes it."""
    return {
        "location": slot.location,
        "practitioner": slot.practitioner,
        "room_id": slot.room_id,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "blocks_until": slot.blocks_until,
    }


def write_appointment(
    slot: CheckedSlot | SlotHold,
    *,
    patient: Patient,
    service: Service,
    status: str,
    actor: User,
    course: Course | None = None,
    session_number: int | None = None,
    patient_note: str = "",
) -> Appointment:
    """The appointment in a slot that `check_slot` passed, or that a hold kept, written in
    its own savepoint: every booking workflow writes through here, so PostgreSQL's last word
    on the slot (`SlotTaken`) reads the same everywhere. The caller records the history and
    sends the email (each workflow says it in its own words). A dry-needling session is
    written only as a session of its course."""
    refuse_needling_outside_a_course(service, course)
    return write(
        lambda: Appointment.objects.create(
            **_taking(slot),
            patient=patient,
            service=service,
            status=status,
            course=course,
            session_number=session_number,
            patient_note=patient_note,
            created_by=actor,
        )
    )


def hold_slot(
    slot: CheckedSlot,
    *,
    patient: Patient,
    service: Service,
    expires_at: dt.datetime,
    placed_by: User | None = None,
) -> SlotHold:
    """Keep a slot that `check_slot` passed for `patient` until `expires_at` (a patient's own
    choice while they confirm it, or a waitlist offer while it waits for an answer)."""
    return SlotHold.objects.create(
        **_taking(slot),
        service=service,
        patient=patient,
        expires_at=expires_at,
        placed_by=placed_by,
    )


def book_hold(hold: SlotHold, *, status: str, actor: User, patient_note: str = "") -> Appointment:
    """The appointment in the slot `hold` kept for its patient; the hold then names it, so
    booking the same hold twice finds the first appointment."""
    appointment = write_appointment(
        hold,
        patient=hold.patient,
        service=hold.service,
        status=status,
        actor=actor,
        patient_note=patient_note,
    )
    hold.appointment = appointment
    hold.save(update_fields=["appointment"])
    return appointment


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
    placed_by: User | None,
    now: dt.datetime | None = None,
    certified_only: bool = False,
) -> SlotHold:
    """Keep a slot for `patient` for a few minutes while they confirm their request; only
    `placed_by` (the patient, or the API client's account) may then request it.
    `certified_only` as for `check_slot`. Never for a dry-needling session: the time it
    keeps could only be requested as a visit of its own, outside a course."""
    refuse_needling_outside_a_course(service, None)
    now = now or timezone.now()
    lock_practitioner(practitioner)
    # A patient holds one slot at a time: choosing another releases the previous one. A
    # waitlist offer's hold is not theirs to release this way: it keeps the offered time
    # until they answer the offer (or it expires and passes on).
    SlotHold.objects.filter(
        patient=patient, appointment__isnull=True, expires_at__gt=now, offer__isnull=True
    ).update(expires_at=now)
    checked = check_slot(
        location=location,
        practitioner=practitioner,
        service=service,
        starts_at=starts_at,
        minutes=minutes,
        patient=patient,
        for_patient=True,
        now=now,
        certified_only=certified_only,
    )
    return hold_slot(
        checked,
        patient=patient,
        service=service,
        expires_at=now + dt.timedelta(minutes=HOLD_MINUTES),
        placed_by=placed_by,
    )


@transaction.atomic
def request_appointment(
    *, hold: SlotHold, actor: User, note: str = "", now: dt.datetime | None = None
) -> Appointment:
    """Turn a hold into a requested appointment (confirmed at once if the location says so).

    Confirming the same hold twice returns the appointment made the first time."""
    now = now or timezone.now()
    # The patient before the hold, in the order closing their account locks them (it lets
    # the hold go): a request is made before the closing, which cancels it, or refused after.
    lock_patient(SlotHold.objects.values_list("patient_id", flat=True).get(pk=hold.pk), actor=actor)
    hold = (
        SlotHold.objects.select_for_update()
        .select_related("location", "practitioner", "service", "patient")
        .get(pk=hold.pk)
    )
    if hold.appointment_id:
        return hold.appointment
    if hold.expires_at <= now:
        # Let go for a time chosen after it (another tab, the back button): that choice stands,
        # and this one would be a second request.
        if (
            hold.placed_by_id is not None
            and SlotHold.objects.filter(
                patient_id=hold.patient_id, placed_by_id=hold.placed_by_id, pk__gt=hold.pk
            ).exists()
        ):
            raise HoldReplaced(
                "You chose another time after this one, so this one was let go: only your "
                "latest choice can be requested."
            )
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
    appointment = book_hold(hold, status=status, actor=actor, patient_note=note.strip()[:500])
    hold.patient.locations.add(hold.location)
    record_event(
        appointment,
        actor=actor,
        kind=AppointmentEvent.Kind.CREATED,
        to_status=Status.REQUESTED,
        reason="Requested online",
        at=now,
    )
    if status == Status.CONFIRMED:
        record_event(
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
