"""Taking a waitlist offer: the offered time is booked for the patient, or, when their place was
for an earlier time than one of their appointments, that appointment moves there (one visit,
not two). Apart from `waitlist` because a move is an appointment's workflow, which itself
offers the time it leaves to the waitlist.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from booking import notifications
from booking.models import (
    ACTIVE,
    Appointment,
    AppointmentEvent,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.appointments import change_status, reschedule_appointment
from booking.services.slots import book_hold
from booking.services.waitlist import locked_offer
from booking.services.writing import BookingError, lock_patient, record_event
from clinic.models import User
from clinic.templatetags.clinic_time import at_location

OFFER_TAKEN_THEN_CANCELLED = (
    "You took this time, and that appointment has since been cancelled; the offer has ended."
)
MOVED_FROM_THE_WAITLIST = "Moved to an earlier time offered from the waitlist"


def _when(appointment: Appointment) -> str:
    return at_location(appointment.starts_at, appointment.location, "l j F, g:i A")


@transaction.atomic
def accept_offer(
    offer: WaitlistOffer, *, actor: User, now: dt.datetime | None = None
) -> Appointment:
    """Take the offered time: the appointment booked there, or the appointment the place was
    for moved there (its history, emails and the time it leaves, offered to the next patient
    waiting, as for any move)."""
    now = now or timezone.now()
    patient_id, replaces_id = (
        WaitlistEntry.objects.filter(pk=offer.entry_id)
        .values_list("patient_id", "replaces_id")
        .get()
    )
    # The patient first, as closing their account locks them: an offer taken at that moment
    # (from another tab) is taken before the closing, which undoes it, or refused after.
    lock_patient(patient_id, actor=actor)
    linked = None
    if replaces_id is not None:
        # The appointment before the offer: the order cancelling it locks them in (its places
        # are then left, their offers ended), so the two never wait on each other.
        linked = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("location")
            .get(pk=replaces_id)
        )
    offer = locked_offer(offer)
    taken = linked if linked is not None else offer.hold.appointment
    if offer.state == WaitlistOffer.State.ACCEPTED and taken is not None:
        # Accepted twice (a double tap): the appointment it made or moved, while it stands.
        if taken.is_active:
            return taken
        raise BookingError(OFFER_TAKEN_THEN_CANCELLED)
    if offer.state != WaitlistOffer.State.OPEN or offer.expires_at <= now:
        raise BookingError("This offer has ended; the slot may have gone to someone else.")
    hold = offer.hold
    clash = (
        Appointment.objects.filter(
            ACTIVE,
            patient_id=hold.patient_id,
            starts_at__lt=hold.ends_at,
            ends_at__gt=hold.starts_at,
        )
        .exclude(pk=replaces_id)
        .select_related("location")
        .first()
    )
    if clash is not None:
        # The database would refuse it as 'just taken', which the time is not: it is still
        # kept for them, for as long as the offer lasts.
        raise BookingError(
            f"You already have an appointment at that time ({_when(clash)}). Move or cancel "
            "it first, or decline this offer; the offered time is kept for you until the offer "
            "ends."
        )
    if linked is not None:
        appointment = _move_there(offer, linked, actor=actor, now=now)
    else:
        appointment = _book_there(offer, actor=actor, now=now)
    offer.state = WaitlistOffer.State.ACCEPTED
    offer.save(update_fields=["state"])
    offer.entry.state = WaitlistEntry.State.BOOKED
    offer.entry.save(update_fields=["state"])
    notifications.offer_ended(offer)
    return appointment


def _book_there(offer: WaitlistOffer, *, actor: User, now: dt.datetime) -> Appointment:
    appointment = book_hold(offer.hold, status=Status.CONFIRMED, actor=actor)
    record_event(
        appointment,
        actor=actor,
        kind=AppointmentEvent.Kind.CREATED,
        to_status=Status.CONFIRMED,
        reason="Accepted a waitlist offer",
        at=now,
    )
    notifications.appointment_created(appointment, now=now)
    return appointment


def _move_there(
    offer: WaitlistOffer, appointment: Appointment, *, actor: User, now: dt.datetime
) -> Appointment:
    """Move the (locked) appointment the place was for to the offered time, with the move
    service, as the desk would; a request is confirmed with it, as an offer taken is."""
    hold = offer.hold
    if not appointment.is_movable or appointment.starts_at <= now:
        # Its places are left when it stops being movable, so this is a moment's race.
        raise BookingError(
            f"Your appointment on {_when(appointment)} is "
            f"{appointment.get_status_display().lower()}: there is nothing to move. The offer "
            "has ended."
        )
    if hold.starts_at >= appointment.starts_at:
        # Moved earlier since (by the desk, or by the patient online): this is no longer earlier.
        raise BookingError(
            f"Your appointment is now on {_when(appointment)}, no later than this offer: "
            "nothing was changed. Decline the offer to let the next patient have it."
        )
    moved = reschedule_appointment(
        appointment,
        starts_at=hold.starts_at,
        actor=actor,
        location=hold.location,
        practitioner=hold.practitioner,
        room=hold.room,
        reason=MOVED_FROM_THE_WAITLIST,
        # The clinic offered this time, checked by its rules when it was held.
        for_patient=False,
        now=now,
        event_details={"waitlist_offer": offer.pk},
        # A place the patient made online: only a practitioner they could have chosen.
        certified_only=offer.entry.chosen_online,
    )
    # The offer's hold gives way to the appointment now in its time.
    hold.expires_at = min(hold.expires_at, now)
    hold.save(update_fields=["expires_at"])
    if moved.status == Status.REQUESTED:
        moved = change_status(
            moved, to=Status.CONFIRMED, actor=actor, reason="Accepted a waitlist offer", now=now
        )
    return moved
