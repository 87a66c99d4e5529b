"""Free times as FHIR Slots, from the same availability engine as the patients' pages
(`booking.selectors.load_availability` and `booking.availability`): the same opening and
working hours, certification, buffers, rooms, minimum notice and horizon.

Every free time is with a practitioner certified for dry needling on its day, whatever the
service: the API books the patients' online requests, and online a patient is offered only
those practitioners (`booking.views.requests`); the clinic books anyone else.

Slots are not stored: a Slot's id says what it is, `<location>-<practitioner>-<service>-
<minutes>-<start, seconds since the epoch>`, and reading one checks it again with the rules
the booking service uses (`booking.services.check_slot`)."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from dataclasses import dataclass, replace

from django.utils import timezone

from booking.api.http import (
    YEARS,
    Caller,
    instant,
    invalid,
    is_key,
    not_found,
    page_of,
    pk_of,
    read_endpoint,
    reference,
    search_params,
    searchset,
    time_range,
)
from booking.api.resources.organisation import actor_filter, role_pk, service_kind, service_type
from booking.availability import Slot, SlotQuery
from booking.selectors import load_availability
from booking.services import SlotUnavailable, check_slot_of
from clinic.models import Location, Patient, Practitioner, Service


@dataclass(frozen=True)
class FreeTime:
    """One free time for one service: the engine's slot and what it is for."""

    slot: Slot
    service: Service
    minutes: int
    location: Location

    @property
    def id(self) -> str:
        s = self.slot
        return f"{s.location_id}-{s.practitioner_id}-{self.service.pk}-{self.minutes}-{s.start}"

    @property
    def schedule_id(self) -> str:
        return f"{self.slot.practitioner_id}-{self.slot.location_id}"


def slot_resource(free: FreeTime) -> dict:
    return {
        "resourceType": "Slot",
        "id": free.id,
        "serviceType": [service_type(free.service)],
        "schedule": reference("Schedule", free.schedule_id),
        "status": "free",
        "start": instant(free.slot.starts_at),
        "end": instant(free.slot.ends_at),
    }


@dataclass
class SlotSearch:
    """What to look for: at which of the client's locations, for which services, with whom,
    between when, and for which patient (whose own appointments then count as busy)."""

    locations: list[Location]
    services: list[Service]
    practitioner_ids: list[int] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    patient: Patient | None = None


class FreeTimes:
    """The free times of a search, earliest first, made into `FreeTime`s only for the page
    asked for: a search over 8 weeks finds thousands, an answer shows a few dozen. Each
    (location, service) batch comes from the engine already sorted; they are merged lazily."""

    def __init__(self, batches: list[tuple[Location, Service, list[Slot]]]):
        self.batches = [batch for batch in batches if batch[2]]

    def __len__(self) -> int:
        return sum(len(slots) for _, _, slots in self.batches)

    def __getitem__(self, page: slice) -> list[FreeTime]:
        if len(self.batches) == 1:
            location, service, slots = self.batches[0]
            chosen = ((slot, location, service) for slot in slots[page])
        else:
            streams = [
                ((slot, location, service) for slot in slots)
                for location, service, slots in self.batches
            ]
            merged = heapq.merge(
                *streams, key=lambda item: (item[0].start, item[0].practitioner_id)
            )
            chosen = itertools.islice(merged, page.start or 0, page.stop)
        return [
            FreeTime(slot, service, service.default_minutes, location)
            for slot, location, service in chosen
        ]


def find_free_times(search: SlotSearch, *, now: dt.datetime | None = None) -> FreeTimes:
    """Every free time the search asks for: for each location the schedule is loaded once
    (a fixed number of queries) and the pure functions do the rest."""
    now = now or timezone.now()
    batches: list[tuple[Location, Service, list[Slot]]] = []
    for location in search.locations:
        horizon_end = now + dt.timedelta(days=location.booking_horizon_days)
        window_start = max(search.start or now, now)
        window_end = min(search.end or horizon_end, horizon_end)
        if window_start >= window_end:
            continue
        availability = load_availability(
            location=location,
            window_start=window_start,
            window_end=window_end,
            practitioner_ids=search.practitioner_ids,
            patient=search.patient,
            now=now,
        )
        for service in search.services:
            query = replace(
                SlotQuery.for_service(
                    service,
                    service.default_minutes,
                    window_start,
                    window_end,
                    now=now,
                    for_patient=True,
                ),
                needs_certification=True,
            )
            batches.append((location, service, availability.slots(query, search.practitioner_ids)))
    return FreeTimes(batches)


def searched_services(values: list[str]) -> list[Service]:
    services = Service.objects.filter(is_active=True).order_by("pk")
    if values:
        services = services.filter(kind__in=[service_kind(v) for v in values])
    return list(services)


def searched_locations(caller: Caller, location_ids: list[int] | None) -> list[Location]:
    """The client's active locations, or those of them asked for (one it may not see is simply
    not searched, as if it had no free time)."""
    ids = caller.location_ids if location_ids is None else caller.location_ids & set(location_ids)
    return list(Location.objects.filter(pk__in=ids, is_active=True).order_by("name", "pk"))


def _slot_search(caller: Caller, params: dict) -> SlotSearch:
    filters: dict[str, list[int] | None] = {"practitioner_ids": None, "location_ids": None}
    for value in params.get("schedule", []):
        practitioner_pk, location_pk = role_pk(value, "Schedule")
        filters = {"practitioner_ids": [practitioner_pk], "location_ids": [location_pk]}
    for value in params.get("location", []):
        filters["location_ids"] = [pk_of(value, "Location")]
    for value in params.get("schedule.actor", []) + params.get("actor", []):
        filters.update(actor_filter(value))
    for status in params.get("status", []):
        if status != "free":
            raise invalid("Only free slots are published: status=free.")
    start, end = time_range(params.get("start", []), "start")
    return SlotSearch(
        locations=searched_locations(caller, filters["location_ids"]),
        services=searched_services(params.get("service-type", [])),
        practitioner_ids=filters["practitioner_ids"],
        start=start,
        end=end,
    )


@read_endpoint("Slot")
def slot_search(caller: Caller, request):
    params = search_params(
        request,
        ["schedule", "schedule.actor", "actor", "location", "service-type", "start", "status"],
    )
    page = page_of(request)
    free = find_free_times(_slot_search(caller, params))
    entries = [(f"Slot/{f.id}", slot_resource(f)) for f in free[page.offset : page.end]]
    return searchset(caller, entries, total=len(free), page=page)


def parse_slot_id(text: str) -> tuple[int, int, int, int, int]:
    parts = text.split("-")
    if len(parts) != 5 or not all(is_key(p) for p in parts):
        raise not_found("Slot", text)
    location_pk, practitioner_pk, service_pk, minutes, start = (int(p) for p in parts)
    return location_pk, practitioner_pk, service_pk, minutes, start


@dataclass(frozen=True)
class SlotParts:
    """What a Slot id names, once the client may see it: where, with whom, for what, when."""

    location: Location
    practitioner: Practitioner
    service: Service
    minutes: int
    starts_at: dt.datetime


def slot_parts(caller: Caller, slot_id: str) -> SlotParts:
    """The parts of a Slot id at one of the client's locations; else 404."""
    location_pk, practitioner_pk, service_pk, minutes, start = parse_slot_id(slot_id)
    location = Location.objects.filter(
        pk=location_pk, pk__in=caller.location_ids, is_active=True
    ).first()
    practitioner = (
        Practitioner.objects.at(location).filter(pk=practitioner_pk).select_related("user").first()
        if location
        else None
    )
    service = Service.objects.filter(pk=service_pk, is_active=True).first()
    if not (location and practitioner and service):
        raise not_found("Slot", slot_id)
    try:
        starts_at = dt.datetime.fromtimestamp(start, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise not_found("Slot", slot_id) from None
    if starts_at.year not in YEARS:
        raise not_found("Slot", slot_id)
    return SlotParts(location, practitioner, service, minutes, starts_at)


def free_time_of(caller: Caller, slot_id: str) -> FreeTime:
    """The free time a Slot id names, if the client may see it and every booking rule still
    allows it; else 404 (taken, past, or never there)."""
    parts = slot_parts(caller, slot_id)
    try:
        checked = check_slot_of(parts, patient=None, for_patient=True, certified_only=True)
    except SlotUnavailable:
        raise not_found("Slot", slot_id) from None
    slot = Slot(
        start=int(parts.starts_at.timestamp()),
        end=int(checked.ends_at.timestamp()),
        practitioner_id=parts.practitioner.pk,
        room_id=checked.room_id,
        location_id=parts.location.pk,
    )
    return FreeTime(slot, parts.service, parts.minutes, parts.location)


@read_endpoint("Slot")
def slot_read(caller: Caller, request, slot_id: str):
    return slot_resource(free_time_of(caller, slot_id))
