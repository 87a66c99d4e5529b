""" "Nearest first": a small, offline lookup from what a patient types (a city, a Canadian
postal code or a US ZIP code) to a rough position, and locations sorted by distance.

It only needs to be good enough to put the nearer clinic first, so it knows the towns
around the clinics and the first characters of postal codes, and needs no internet."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

from clinic.models import Location

Position = tuple[float, float]

TOWNS: dict[str, Position] = {
    # Greater Toronto
    "toronto": (43.6532, -79.3832),
    "north york": (43.7615, -79.4111),
    "scarborough": (43.7764, -79.2318),
    "etobicoke": (43.6205, -79.5132),
    "east york": (43.6911, -79.3277),
    "leaside": (43.7046, -79.3662),
    "danforth": (43.6784, -79.3480),
    "york": (43.6896, -79.4787),
    "mississauga": (43.5890, -79.6441),
    "brampton": (43.7315, -79.7624),
    "markham": (43.8561, -79.3370),
    "vaughan": (43.8361, -79.4983),
    "richmond hill": (43.8828, -79.4403),
    "oakville": (43.4675, -79.6877),
    "pickering": (43.8384, -79.0868),
    "ajax": (43.8509, -79.0204),
    "oshawa": (43.8971, -78.8658),
    "hamilton": (43.2557, -79.8711),
    # Maryland and around
    "rockville": (39.0840, -77.1528),
    "bethesda": (38.9847, -77.0947),
    "silver spring": (38.9907, -77.0261),
    "gaithersburg": (39.1434, -77.2014),
    "germantown": (39.1732, -77.2717),
    "potomac": (39.0182, -77.2086),
    "wheaton": (39.0398, -77.0552),
    "largo": (38.8976, -76.8303),
    "bowie": (38.9429, -76.7302),
    "upper marlboro": (38.8159, -76.7497),
    "landover": (38.9340, -76.8966),
    "college park": (38.9897, -76.9378),
    "hyattsville": (38.9559, -76.9455),
    "greenbelt": (39.0046, -76.8755),
    "laurel": (39.0993, -76.8483),
    "annapolis": (38.9784, -76.4922),
    "columbia": (39.2037, -76.8610),
    "baltimore": (39.2904, -76.6122),
    "frederick": (39.4143, -77.4105),
    "washington": (38.9072, -77.0369),
    "washington dc": (38.9072, -77.0369),
}

# Canadian postal codes by their first letter (Ontario's regions).
POSTAL_REGIONS: dict[str, Position] = {
    "M": TOWNS["toronto"],
    "L": (43.65, -79.70),  # the ring around Toronto
    "K": (45.4215, -75.6972),  # Eastern Ontario
    "N": (42.9849, -81.2453),  # Southwestern Ontario
    "P": (46.4917, -80.9930),  # Northern Ontario
}

# US ZIP codes by their first three digits.
ZIP_REGIONS: dict[str, Position] = {
    "200": TOWNS["washington"],
    "202": TOWNS["washington"],
    "203": TOWNS["washington"],
    "204": TOWNS["washington"],
    "205": TOWNS["washington"],
    "206": (38.55, -76.80),
    "207": TOWNS["largo"],
    "208": TOWNS["rockville"],
    "209": TOWNS["silver spring"],
    "210": TOWNS["columbia"],
    "211": TOWNS["baltimore"],
    "212": TOWNS["baltimore"],
    "214": TOWNS["annapolis"],
    "217": TOWNS["frederick"],
    "220": (38.85, -77.20),
    "221": (38.85, -77.20),
    "222": (38.88, -77.10),
    "223": (38.80, -77.05),
}

_CANADIAN_POSTAL = re.compile(r"^([A-Z])\d[A-Z]\s?(\d[A-Z]\d)?$")
_US_ZIP = re.compile(r"^(\d{3})\d{2}(-\d{4})?$")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join(
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .lower()
        .replace(",", " ")
        .split()
    )


def position_of(text: str, locations: Iterable[Location] = ()) -> Position | None:
    """A rough position for a town, a postal code or a ZIP code; None if unknown."""
    typed = (text or "").strip()
    if not typed:
        return None
    upper = typed.upper()
    if match := _CANADIAN_POSTAL.match(upper):
        return POSTAL_REGIONS.get(match.group(1))
    if match := _US_ZIP.match(upper):
        return ZIP_REGIONS.get(match.group(1))
    plain = _plain(typed)
    for location in locations:
        if location.latitude is not None and plain in {
            _plain(location.name),
            _plain(location.city),
        }:
            return float(location.latitude), float(location.longitude)
    if plain in TOWNS:
        return TOWNS[plain]
    # "Rockville, MD" or "Toronto ON": try the words before the region.
    for size in range(len(plain.split()), 0, -1):
        head = " ".join(plain.split()[:size])
        if head in TOWNS:
            return TOWNS[head]
    return None


def distance_km(a: Position, b: Position) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371 * 2 * math.asin(math.sqrt(h))


def nearest_first(
    locations: Iterable[Location], origin: Position
) -> list[tuple[Location, float | None]]:
    """Locations with their distance in km from `origin`, nearest first (unknown last)."""
    measured = []
    for location in locations:
        if location.latitude is None or location.longitude is None:
            measured.append((location, None))
        else:
            measured.append(
                (
                    location,
                    distance_km(origin, (float(location.latitude), float(location.longitude))),
                )
            )
    return sorted(measured, key=lambda pair: (pair[1] is None, pair[1] or 0.0, pair[0].name))
