"""The waitlist: a freed time is offered to the first patient waiting who can take it, for a
limited time, then passed on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from booking import notifications
from booking.models import (
    ACTIVE,
    Appointment,
    AppointmentEvent,
    SlotHold,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.slots import (
    CheckedSlot,
    book_hold,
    check_slot,
    check_slot_of,
    hold_slot,
    lock_practitioner,
)
from booking.services.writing import BookingError, SlotUnavailable, record_event
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind, User
from clinic.templatetags.clinic_time import at_location

WAITLIST_OFFER_HOURS = 12
OFFER_TAKEN_THEN_CANCELLED = (
    "You took this time, and that appointment has since been cancelled; the offer has ended."
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
    try:
        # Once for the slot itself, rather than once per waiting patient.
        check_slot_of(freed, patient=None, for_patient=False, now=now)
    except SlotUnavailable:
        return None
    for entry in suited:
        try:
            checked = check_slot_of(
                freed,
                patient=entry.patient,
                for_patient=False,
                now=now,
                # A place the patient made online: only a practitioner they could have chosen.
                certified_only=entry.chosen_online,
            )
        except SlotUnavailable:
            continue
        return _offer(entry, checked, actor=None, now=now)
    return None


def _offer_deadline(starts_at: dt.datetime, *, now: dt.datetime) -> dt.datetime:
    # An offer lasts until its deadline, but never past an hour before the slot itself.
    return min(now + dt.timedelta(hours=WAITLIST_OFFER_HOURS), starts_at - dt.timedelta(hours=1))


def _offer(
    entry: WaitlistEntry, slot: CheckedSlot, *, actor: User | None, now: dt.datetime
) -> WaitlistOffer | None:
    expires_at = _offer_deadline(slot.starts_at, now=now)
    if expires_at <= now:
        return None
    hold = hold_slot(slot, patient=entry.patient, service=entry.service, expires_at=expires_at)
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
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("service", "patient")
        .get(pk=entry.pk)
    )
    if entry.state != WaitlistEntry.State.WAITING:
        raise BookingError("This patient already has an open offer or is no longer waiting.")
    if entry.service.kind == ServiceKind.DRY_NEEDLING:
        raise BookingError(NEEDLING_HAS_NO_WAITLIST)
    lock_practitioner(practitioner)
    checked = check_slot(
        location=entry.location,
        practitioner=practitioner,
        service=entry.service,
        starts_at=starts_at,
        minutes=entry.minutes,
        patient=entry.patient,
        for_patient=False,
        now=now,
        certified_only=entry.chosen_online,
    )
    offer = _offer(entry, checked, actor=actor, now=now)
    if offer is None:
        raise BookingError("This slot is too soon to offer.")
    return offer


def _locked_offer(offer: WaitlistOffer) -> WaitlistOffer:
    """The offer as it is now, locked until the transaction ends (its answer is being written)."""
    return (
        WaitlistOffer.objects.select_for_update().select_related("entry", "hold").get(pk=offer.pk)
    )


@transaction.atomic
def accept_offer(
    offer: WaitlistOffer, *, actor: User, now: dt.datetime | None = None
) -> Appointment:
    now = now or timezone.now()
    offer = _locked_offer(offer)
    if offer.state == WaitlistOffer.State.ACCEPTED and offer.hold.appointment_id:
        # Accepted twice (a double tap): the appointment made the first time, while it stands.
        if offer.hold.appointment.is_active:
            return offer.hold.appointment
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
        .select_related("location")
        .first()
    )
    if clash is not None:
        # The database would refuse it as 'just taken', which the time is not: it is still
        # kept for them, for as long as the offer lasts.
        raise BookingError(
            "You already have an appointment at that time "
            f"({at_location(clash.starts_at, clash.location, 'l j F, g:i A')}). Move or cancel "
            "it first, or decline this offer; the offered time is kept for you until the offer "
            "ends."
        )
    appointment = book_hold(hold, status=Status.CONFIRMED, actor=actor)
    offer.state = WaitlistOffer.State.ACCEPTED
    offer.save(update_fields=["state"])
    offer.entry.state = WaitlistEntry.State.BOOKED
    offer.entry.save(update_fields=["state"])
    record_event(
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
    """End an open offer and pass the slot to the next matching patient, if any; an offer
    already answered, withdrawn or expired is refused with `BookingError` saying so."""
    now = now or timezone.now()
    offer = _locked_offer(offer)
    if offer.state == WaitlistOffer.State.ACCEPTED:
        raise BookingError(
            "You already took this time, so it stays booked for you. To give it up, cancel "
            "the appointment."
        )
    if offer.state == WaitlistOffer.State.DECLINED:
        raise BookingError("You have already declined this offer.")
    if offer.state != WaitlistOffer.State.OPEN:
        raise BookingError("This offer had already ended; there is nothing to decline.")
    hold = _end_offer(offer, state=state, now=now)
    # Declined or unanswered, the patient keeps their place for other slots (not this one).
    offer.entry.state = WaitlistEntry.State.WAITING
    offer.entry.save(update_fields=["state"])
    return _pass_on(hold, exclude_entry=offer.entry, now=now)


def _end_offer(offer: WaitlistOffer, *, state: str, now: dt.datetime) -> SlotHold:
    """Close a locked open offer as `state` and let its hold go; the hold, to pass on."""
    offer.state = state
    offer.save(update_fields=["state"])
    notifications.offer_ended(offer)
    hold = offer.hold
    hold.expires_at = min(hold.expires_at, now)
    hold.save(update_fields=["expires_at"])
    return hold


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
    # A patient offered this time already (who declined it, let it expire or left) is not
    # offered it again through another place of theirs on the list.
    offered_before = WaitlistOffer.objects.filter(
        hold__starts_at=hold.starts_at, hold__practitioner=hold.practitioner
    ).values("entry__patient_id")
    entries = (
        _waiting_for(freed)
        .exclude(patient_id=exclude_entry.patient_id)
        .exclude(patient_id__in=offered_before)
    )
    return _offer_to_first_free(entries, freed, now=now)


def expire_offers(*, now: dt.datetime | None = None) -> int:
    """End the offers whose deadline passed, passing each slot on to the next patient."""
    now = now or timezone.now()
    expired = 0
    for offer in WaitlistOffer.objects.filter(state=WaitlistOffer.State.OPEN, expires_at__lte=now):
        try:
            decline_offer(offer, now=now, state=WaitlistOffer.State.EXPIRED)
        except BookingError:
            continue  # answered a moment ago
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
    wish = {
        "patient": patient,
        "location": location,
        "practitioner": practitioner,
        "service": service,
        "minutes": minutes,
        "weekdays": sorted(set(weekdays)),
        "earliest_time": earliest_time,
        "latest_time": latest_time,
    }
    # The form sent twice (a double tap) makes one place: the patient's joins are serialised.
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    same = WaitlistEntry.objects.filter(
        **wish, state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED]
    ).first()
    if same is not None:
        return same
    entry = WaitlistEntry.objects.create(**wish, created_by=actor)
    patient.locations.add(location)
    return entry


@transaction.atomic
def leave_waitlist(entry: WaitlistEntry, *, now: dt.datetime | None = None) -> bool:
    """Take the patient off the waitlist; a time offered to them and not yet taken goes to the
    next patient waiting, as when an offer is declined. Returns False (and changes nothing) when
    they were no longer waiting: already off it, or booked from an offer they accepted (from a
    page drawn before, or at the same moment: the entry and its offers are locked first, offers
    before the entry, in the order `accept_offer` and `decline_offer` lock them)."""
    now = now or timezone.now()
    offers = WaitlistOffer.objects.select_for_update().filter(entry_id=entry.pk).order_by("pk")
    list(offers.values_list("pk", flat=True))
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.state not in (WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED):
        return False
    entry.state = WaitlistEntry.State.WITHDRAWN
    entry.save(update_fields=["state"])
    open_offers = offers.filter(state=WaitlistOffer.State.OPEN).select_related("entry", "hold")
    for offer in open_offers.select_for_update(of=("self",)):
        hold = _end_offer(offer, state=WaitlistOffer.State.WITHDRAWN, now=now)
        _pass_on(hold, exclude_entry=entry, now=now)
    return True
