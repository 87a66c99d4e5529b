"""Booking's part of the clinic's world (see `clinic.world`, which builds the rest): the rooms
of a location, for the demo, the benchmark and the tests alike."""

from __future__ import annotations

from booking.models import Room
from clinic.models import Location


def rooms(
    place: Location, count: int, *, name: str = "Room {n}", again: bool = False
) -> list[Room]:
    """`count` rooms at `place`, named `name` with n = 1, 2, …: new, in bulk; or `again` (the
    demo), those already there found by their name."""
    names = [name.format(n=n) for n in range(1, count + 1)]
    if again:
        return [Room.objects.get_or_create(location=place, name=each)[0] for each in names]
    return Room.objects.bulk_create([Room(location=place, name=each) for each in names])
