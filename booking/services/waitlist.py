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
    MOVABLE_STATUSES,
    Appointment,
    SlotHold,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.services.slots import (
    CheckedSlot,
    check_slot,
    check_slot_of,
    hold_slot,
    lock_practitioner,
)
from booking.services.writing import BookingError, SlotUnavailable, lock_patient
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind, User
from clinic.templatetags.clinic_time import at_location

WAITLIST_OFFER_HOURS = 12
# --- Waitlist --------------------------------------------------------------------------------


NEEDLING_HAS_NO_WAITLIST = (
    "Dry-needling sessions are booked as a course after the assessment; to have a session of "
    "a course earlier, move it on the schedule."
)
LIVE_PLACE = (WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED)


class PlaceLinkRefused(BookingError):
    """A waitlist place cannot be for an earlier time than this appointment (the message says
    why, for the form's field that chose it)."""


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
        .select_related("patient", "service", "replaces")
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
                # The appointment it would move does not stand in the way of its earlier time.
                ignore_appointment_ids=_moved_by(entry),
            )
        except SlotUnavailable:
            continue
        return _offer(entry, checked, actor=None, now=now)
    return None


def _moved_by(entry: WaitlistEntry) -> tuple[int, ...]:
    """The appointment that taking an offer to `entry` moves, as `check_slot` ignores it."""
    return (entry.replaces_id,) if entry.replaces_id else ()


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
        .select_related("service", "patient", "replaces__location")
        .get(pk=entry.pk)
    )
    if entry.state != WaitlistEntry.State.WAITING:
        raise BookingError("This patient already has an open offer or is no longer waiting.")
    if entry.service.kind == ServiceKind.DRY_NEEDLING:
        raise BookingError(NEEDLING_HAS_NO_WAITLIST)
    if entry.replaces is not None and starts_at >= entry.replaces.starts_at:
        raise BookingError(
            "This place is for an earlier time than the patient's appointment on "
            f"{at_location(entry.replaces.starts_at, entry.replaces.location, 'l j F, g:i A')}: "
            "offer a time before it."
        )
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
        ignore_appointment_ids=_moved_by(entry),
    )
    offer = _offer(entry, checked, actor=actor, now=now)
    if offer is None:
        raise BookingError("This slot is too soon to offer.")
    return offer


def locked_offer(offer: WaitlistOffer) -> WaitlistOffer:
    """The offer as it is now, locked until the transaction ends (its answer is being written)."""
    return (
        WaitlistOffer.objects.select_for_update().select_related("entry", "hold").get(pk=offer.pk)
    )


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
    offer = locked_offer(offer)
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
    # A place for an earlier time than an appointment that has begun, which nobody has marked
    # yet (checked in, missed), can be offered nothing more: it goes, as when it is marked.
    for entry in WaitlistEntry.objects.filter(state__in=LIVE_PLACE, replaces__starts_at__lte=now):
        leave_waitlist(entry, now=now)
    return expired


def replaceable_appointments(
    *,
    patient: Patient,
    location: Location,
    service: Service | None = None,
    now: dt.datetime | None = None,
):
    """The patient's appointments at `location` (of `service`, when given) that a waitlist place
    can bring forward: ahead, still movable, and not a session of a course (a course session
    keeps between its neighbours and is moved on the schedule)."""
    appointments = Appointment.objects.filter(
        patient=patient,
        location=location,
        status__in=MOVABLE_STATUSES,
        starts_at__gt=now or timezone.now(),
        course__isnull=True,
    )
    if service is not None:
        appointments = appointments.filter(service=service)
    return appointments.select_related("location", "service", "practitioner__user").order_by(
        "starts_at", "pk"
    )


def _refuse_to_bring_forward(
    appointment: Appointment,
    *,
    patient: Patient,
    location: Location,
    service: Service,
    now: dt.datetime,
) -> None:
    """`PlaceLinkRefused` unless a place of `patient` at `location` for `service` can be for an
    earlier time than `appointment`."""
    if appointment.patient_id != patient.pk:
        raise PlaceLinkRefused("That appointment is not this patient's.")
    if appointment.course_id:
        raise PlaceLinkRefused(
            "A session of a course is moved on the schedule (it keeps between the sessions "
            "around it), not from the waitlist."
        )
    if appointment.service_id != service.pk:
        raise PlaceLinkRefused(
            f"That appointment is a {appointment.service.name.lower()}, not a "
            f"{service.name.lower()}."
        )
    if appointment.location_id != location.pk:
        raise PlaceLinkRefused(
            f"That appointment is at {appointment.location.name}; a place at {location.name} "
            f"brings forward an appointment at {location.name}."
        )
    if not appointment.is_movable or appointment.starts_at <= now:
        raise PlaceLinkRefused(
            f"That appointment is {appointment.get_status_display().lower()}"
            f"{' and has begun' if appointment.starts_at <= now else ''}: there is nothing to "
            "bring forward."
        )


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
    replaces: Appointment | None = None,
    now: dt.datetime | None = None,
) -> WaitlistEntry:
    """Put `patient` on the waitlist; with `replaces`, for an earlier time than that appointment
    of theirs (then of its own length, whatever `minutes` says): taking an offer moves it there
    instead of booking a second visit."""
    now = now or timezone.now()
    if service.kind == ServiceKind.DRY_NEEDLING:
        # Needling is booked as a course from a signed assessment (the gate); a waitlist
        # place would hand a session to someone nobody has assessed.
        raise BookingError(NEEDLING_HAS_NO_WAITLIST)
    if earliest_time >= latest_time:
        raise BookingError("The earliest time must be before the latest time.")
    if not weekdays:
        raise BookingError("Choose at least one day of the week.")
    # The form sent twice (a double tap) makes one place: the patient's joins are serialised,
    # and come before or after the closing of their account, never in the middle of it. A
    # no-key lock: what a cancellation meanwhile writes about the patient (its emails, its
    # history) only key-shares the row, and must not wait on a join waiting on it.
    lock_patient(patient.pk, actor=actor)
    if replaces is not None:
        # Locked before it is checked, as cancelling or marking it locks it: a place is never
        # made for an appointment cancelled a moment ago (`leave_places_for` has then run).
        replaces = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("location", "service")
            .get(pk=replaces.pk)
        )
        _refuse_to_bring_forward(
            replaces, patient=patient, location=location, service=service, now=now
        )
        minutes = replaces.minutes
    wish = {
        "patient": patient,
        "location": location,
        "practitioner": practitioner,
        "service": service,
        "minutes": minutes,
        "weekdays": sorted(set(weekdays)),
        "earliest_time": earliest_time,
        "latest_time": latest_time,
        "replaces": replaces,
    }
    same = WaitlistEntry.objects.filter(**wish, state__in=LIVE_PLACE).first()
    if same is not None:
        return same
    if replaces is not None and replaces.waitlist_places.filter(state__in=LIVE_PLACE).exists():
        raise PlaceLinkRefused(
            "There is already a place on the waitlist for an earlier time than the appointment "
            f"on {at_location(replaces.starts_at, replaces.location, 'l j F, g:i A')}. To change "
            "the days or times, leave that place first."
        )
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


def leave_places_for(appointment: Appointment, *, now: dt.datetime) -> None:
    """The appointment can no longer be moved (cancelled, or begun: checked in, missed,
    completed), or moved to another location: the places for an earlier time than it are
    withdrawn, as if the patient left them, and a time offered to them goes to the next
    patient waiting.

    Withdrawn rather than kept as places for a new visit: the patient asked to bring *this*
    visit forward, and once it is cancelled (perhaps on purpose) or has happened, an offer
    taken from such a place would book a visit nobody asked for (and once it moved to another
    location, would move it back). The desk or the patient can
    make a new place in a moment. Called with the appointment locked, before the offers of its
    places: the order `accept_offer` locks them in."""
    for entry in WaitlistEntry.objects.filter(replaces=appointment, state__in=LIVE_PLACE):
        leave_waitlist(entry, now=now)
