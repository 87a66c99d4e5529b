"""Free time on the day view, for a service: a free box stands only where the service chosen at
the top of the page (an initial assessment of 60 minutes, a re-assessment of 45, …) can really
be booked with that practitioner and a room, its buffer included, at the clinic's slot starts.

Before, the grid cut any gap into half-hour pieces: a "+ 9:00 AM" box then led, after finding
the patient, to "not free for 60 minutes", a room looked free while the only practitioner was
busy, and boxes started at odd times such as 11:05 (the end of a buffer). Now the boxes are the
starts `booking.availability.free_slots` finds for the service, exactly as the booking page
that follows checks them. The service chosen is remembered on the device, like the location.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from booking.availability import Rooms, SlotQuery
from booking.desk.grid import Item, clock, minute_of_day
from booking.desk.helpers import remember_on_device, remembered_on_device
from booking.selectors import Availability
from clinic.models import Service, ServiceKind
from clinic.params import whole_number

STEP = dt.timedelta(minutes=15)  # the staff's slot starts, as the booking pages offer them
OFFER_COOKIE = "desk_offer"
_COOKIE_SALT = "booking.desk.offer"


@dataclass(frozen=True)
class Offer:
    """What the free time on the grid is for: a service the desk books, for so many minutes."""

    service: Service
    minutes: int

    @property
    def key(self) -> str:
        return f"{self.service.kind}:{self.minutes}"

    @property
    def label(self) -> str:
        return f"{self.service.name}, {self.minutes} min"

    @property
    def booked_here(self) -> bool:
        """Whether a free box books it: assessments yes; needling sessions are booked with
        their course (from the patient's page), so their free boxes only show where a session
        fits — where to drag one, or which times to offer on the phone."""
        return self.service.kind in DESK_BOOKED

    def query(self, day_start: dt.datetime, day_end: dt.datetime, now: dt.datetime) -> SlotQuery:
        return SlotQuery.for_service(
            self.service, self.minutes, day_start, day_end, now=now, for_patient=False, step=STEP
        )


DESK_BOOKED = frozenset({ServiceKind.ASSESSMENT, ServiceKind.REASSESSMENT})
_OFFER_ORDER = [ServiceKind.ASSESSMENT, ServiceKind.REASSESSMENT, ServiceKind.DRY_NEEDLING]


def offers() -> list[Offer]:
    """Each active service, in each length it may take: the assessments first (what the desk
    books from a free box), then the needling session's lengths."""
    services = sorted(
        Service.objects.filter(is_active=True, kind__in=_OFFER_ORDER),
        key=lambda s: _OFFER_ORDER.index(s.kind),
    )
    return [Offer(s, m) for s in services for m in sorted(s.allowed_minutes)]


def chosen_offer(request, choices: list[Offer]) -> Offer | None:
    """The offer named in the address (`?offer=assessment:60`), else the one this device
    chose last, else the first service at its usual length."""
    by_key = {offer.key: offer for offer in choices}
    wanted = request.GET.get("offer", "")
    if wanted in by_key:
        return by_key[wanted]
    remembered = remembered_on_device(request, OFFER_COOKIE, _COOKIE_SALT)
    if remembered in by_key:
        return by_key[remembered]
    if not choices:
        return None
    first = choices[0].service
    return by_key.get(f"{first.kind}:{first.default_minutes}", choices[0])


def remember_offer(request, response, offer: Offer | None) -> None:
    if offer is not None:
        remember_on_device(request, response, OFFER_COOKIE, _COOKIE_SALT, offer.key)


def offer_from_query(data, choices: list[Offer]) -> Offer | None:
    """The offer a booking link carried (`service=assessment&minutes=60`), if it is one."""
    minutes = whole_number(data.get("minutes", ""))
    return next(
        (o for o in choices if o.service.kind == data.get("service") and o.minutes == minutes),
        None,
    )


# --- Where the offer can be booked (pure functions of the loaded availability) ------------------


@dataclass
class FreeStarts:
    """The times the offer can start that day: by practitioner, and by room."""

    by_practitioner: dict[int, list[int]]  # practitioner id -> starts, seconds since the epoch
    by_room: dict[int, list[int]]  # room id -> starts


def free_starts(
    availability: Availability,
    offer: Offer,
    day_start: dt.datetime,
    day_end: dt.datetime,
    now: dt.datetime,
) -> FreeStarts:
    """Every start at which `offer` can be booked that day with each practitioner (and a
    room), and in each room (with some practitioner): the by-room view agrees with the
    practitioners' availability, since a room is free for the offer only when someone can see
    the patient in it."""
    slots = availability.slots(offer.query(day_start, day_end, now))
    by_practitioner: dict[int, list[int]] = {}
    for slot in slots:
        by_practitioner.setdefault(slot.practitioner_id, []).append(slot.start)
    block = offer.minutes * 60 + int(availability.rules.buffer.total_seconds())
    anyone = sorted({slot.start for slot in slots})
    return FreeStarts(by_practitioner, _starts_by_room(anyone, block, availability.rooms))


def _starts_by_room(starts: list[int], block: int, rooms: Rooms) -> dict[int, list[int]]:
    return {
        room_id: [start for start in starts if not busy.overlaps_ts(start, start + block)]
        for room_id, busy in rooms.busy.items()
    }


def start_items(
    starts: list[int],
    offer: Offer,
    availability: Availability,
    day: dt.date,
    url: Callable[[dt.datetime], str],
    place: str,
) -> list[Item]:
    """A free box for each start, one slot step long, linking to book the offer then; `place`
    finishes what a screen reader hears ("with Priya Raman", "in Room 2")."""
    zone = availability.rules.zone
    step = int(STEP.total_seconds()) // 60
    items = []
    for start in starts:
        at = dt.datetime.fromtimestamp(start, tz=dt.UTC)
        minute = minute_of_day(at, zone, day)
        label = clock(at.astimezone(zone))
        if offer.booked_here:
            hint, link = f"Book {label} {place} ({offer.label})", url(at)
        else:
            hint, link = f"Free at {label} {place} for {offer.label}", ""
        items.append(Item("free", minute, minute + step, label=label, hint=hint, url=link))
    return items
