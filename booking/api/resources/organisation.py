"""The organisation as FHIR: Location, HealthcareService, Practitioner (with the dry-needling
certification as a qualification and its period), PractitionerRole and Schedule (one each per
practitioner at a location, id `<practitioner>-<location>`). A client sees only its locations
and the practitioners working there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils import timezone

from booking.api.http import (
    ApiError,
    Caller,
    id_of,
    invalid,
    is_key,
    not_found,
    page_of,
    page_rows,
    pk_of,
    read_endpoint,
    reference,
    search_params,
    searchset,
    visible_one,
    with_ids,
)
from clinic.models import (
    Certification,
    Location,
    Practitioner,
    Service,
    ServiceKind,
    WorkingHours,
)

SERVICE_KIND_SYSTEM = "urn:heelclinic:service-kind"
QUALIFICATION_SYSTEM = "urn:heelclinic:qualification"
DRY_NEEDLING_QUALIFICATION = "dry-needling"
TIMEZONE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/timezone"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _clock(value: dt.time) -> str:
    return value.strftime("%H:%M:%S")


def service_type(service: Service) -> dict:
    return {
        "coding": [{"system": SERVICE_KIND_SYSTEM, "code": service.kind, "display": service.name}]
    }


# --- Location ---------------------------------------------------------------------------------


def visible_locations(caller: Caller):
    return Location.objects.filter(pk__in=caller.location_ids)


def location_resource(location: Location) -> dict:
    telecom = [{"system": "phone", "value": location.phone, "use": "work"}]
    if location.email:
        telecom.append({"system": "email", "value": location.email, "use": "work"})
    resource = {
        "resourceType": "Location",
        "id": str(location.pk),
        "extension": [{"url": TIMEZONE_EXTENSION, "valueCode": location.time_zone}],
        "status": "active" if location.is_active else "inactive",
        "name": location.name,
        "telecom": telecom,
        "address": {
            "line": [location.street_address],
            "city": location.city,
            "state": location.region,
            "postalCode": location.postal_code,
        },
        "hoursOfOperation": [
            {
                "daysOfWeek": [DAYS[hours.weekday]],
                "openingTime": _clock(hours.opens_at),
                "closingTime": _clock(hours.closes_at),
            }
            for hours in location.opening_hours.all()
        ],
    }
    if location.latitude is not None and location.longitude is not None:
        resource["position"] = {
            "latitude": float(location.latitude),
            "longitude": float(location.longitude),
        }
    return resource


def _locations(caller: Caller):
    return visible_locations(caller).prefetch_related("opening_hours").order_by("name", "pk")


@read_endpoint("Location")
def location_read(caller: Caller, request, pk: int):
    return location_resource(visible_one(_locations(caller), "Location", pk))


@read_endpoint("Location")
def location_search(caller: Caller, request):
    found = _locations(caller)
    return _search_by_name(caller, request, "Location", found, location_resource, fields=["name"])


def _search_by_name(
    caller: Caller,
    request,
    resource_type: str,
    found,
    resource: Callable[..., dict],
    *,
    fields: list[str],
) -> dict:
    """The searchset of a search by `_id` and `name` (Location, Practitioner); each name given
    narrows it to the rows with one of `fields` containing it."""
    params = search_params(request, ["_id", "name"])
    page = page_of(request)
    found = with_ids(found, params, resource_type)
    for name in params.get("name", []):
        found = found.filter(Q.create([(f"{f}__icontains", name) for f in fields], Q.OR))
    total, rows = page_rows(found, page)
    entries = [(f"{resource_type}/{row.pk}", resource(row)) for row in rows]
    return searchset(caller, entries, total=total, page=page)


# --- HealthcareService -------------------------------------------------------------------------


def healthcare_service_resource(service: Service, location_ids: list[int]) -> dict:
    resource = {
        "resourceType": "HealthcareService",
        "id": str(service.pk),
        "active": service.is_active,
        "type": [service_type(service)],
        "name": service.name,
        "location": [reference("Location", pk) for pk in location_ids],
    }
    if service.description:
        resource["comment"] = service.description
    return resource


def _service_locations(caller: Caller) -> tuple[list[int], list[int]]:
    """The client's active locations, and those of them offering dry needling today."""
    active = visible_locations(caller).filter(is_active=True).order_by("name", "pk")
    everywhere = list(active.values_list("pk", flat=True))
    needling = list(active.offering_dry_needling().values_list("pk", flat=True))
    return everywhere, needling


def _service_entries(caller: Caller, services) -> list[tuple[str, dict]]:
    everywhere, needling = _service_locations(caller)
    return [
        (
            f"HealthcareService/{service.pk}",
            healthcare_service_resource(
                service,
                needling if service.needs_dry_needling_certification else everywhere,
            ),
        )
        for service in services
    ]


@read_endpoint("HealthcareService")
def healthcare_service_read(caller: Caller, request, pk: int):
    service = visible_one(Service.objects, "HealthcareService", pk)
    return _service_entries(caller, [service])[0][1]


@read_endpoint("HealthcareService")
def healthcare_service_search(caller: Caller, request):
    params = search_params(request, ["_id", "service-type", "active"])
    page = page_of(request)
    services = with_ids(Service.objects.order_by("pk"), params, "HealthcareService")
    if "service-type" in params:
        services = services.filter(kind__in=[service_kind(v) for v in params["service-type"]])
    for value in params.get("active", []):
        if value not in ("true", "false"):
            raise invalid(f"active must be true or false, not {value!r}.")
        services = services.filter(is_active=value == "true")
    total, rows = page_rows(services, page)
    entries = _service_entries(caller, rows)
    return searchset(caller, entries, total=total, page=page)


def service_kind(value: str) -> str:
    """A service-type search value (`dry_needling` or `<system>|dry_needling`) as a kind."""
    system, _, code = value.rpartition("|")
    if (system and system != SERVICE_KIND_SYSTEM) or code not in ServiceKind.values:
        raise invalid(
            f"service-type {value!r} is not one of {SERVICE_KIND_SYSTEM}|"
            f"{', '.join(ServiceKind.values)}."
        )
    return code


# --- Practitioner ------------------------------------------------------------------------------


def visible_practitioners(caller: Caller):
    return (
        Practitioner.objects.filter(user__is_active=True, user__locations__in=caller.location_ids)
        .distinct()
        .select_related("user")
        .prefetch_related(
            Prefetch("certifications", queryset=Certification.objects.order_by("valid_from")),
            Prefetch(
                "user__locations",
                queryset=Location.objects.filter(pk__in=caller.location_ids).order_by("pk"),
                to_attr="visible_locations",
            ),
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.filter(location__in=caller.location_ids).order_by(
                    "weekday", "starts_at"
                ),
            ),
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )


def practitioner_resource(practitioner: Practitioner) -> dict:
    user = practitioner.user
    qualifications = []
    for certification in practitioner.certifications.all():
        qualification = {
            "code": {
                "coding": [
                    {
                        "system": QUALIFICATION_SYSTEM,
                        "code": DRY_NEEDLING_QUALIFICATION,
                        "display": "Dry-needling certification",
                    }
                ],
                "text": "Dry-needling certification",
            },
            "period": {
                "start": certification.valid_from.isoformat(),
                "end": certification.valid_until.isoformat(),
            },
            "issuer": {"display": certification.issued_by},
        }
        if certification.certificate_number:
            qualification["identifier"] = [{"value": certification.certificate_number}]
        qualifications.append(qualification)
    resource = {
        "resourceType": "Practitioner",
        "id": str(practitioner.pk),
        "active": user.is_active,
        "name": [
            {
                "text": user.full_name,
                "family": user.last_name,
                "given": [user.first_name],
            }
        ],
    }
    if qualifications:
        resource["qualification"] = qualifications
    return resource


@read_endpoint("Practitioner")
def practitioner_read(caller: Caller, request, pk: int):
    return practitioner_resource(visible_one(visible_practitioners(caller), "Practitioner", pk))


@read_endpoint("Practitioner")
def practitioner_search(caller: Caller, request):
    found = visible_practitioners(caller)
    names = ["user__last_name", "user__first_name"]
    return _search_by_name(
        caller, request, "Practitioner", found, practitioner_resource, fields=names
    )


# --- PractitionerRole and Schedule: a practitioner at a location ---------------------------------


@dataclass(frozen=True)
class Role:
    """A practitioner working at one location."""

    practitioner: Practitioner
    location: Location

    @property
    def id(self) -> str:
        return f"{self.practitioner.pk}-{self.location.pk}"

    def services(self, services: list[Service], today: dt.date) -> list[Service]:
        """What they can be booked for here: dry needling only while certified."""
        certified = self.practitioner.is_certified_on(today)
        return [
            s
            for s in services
            if s.is_active and (certified or not s.needs_dry_needling_certification)
        ]


def role_pk(value: str, resource_type: str) -> tuple[int, int]:
    """`<practitioner>-<location>` as the two primary keys."""
    text = id_of(value, resource_type)
    first, _, second = text.partition("-")
    if not (is_key(first) and is_key(second)):
        raise invalid(f"{value!r} is not a {resource_type} id (practitioner-location).")
    return int(first), int(second)


def visible_roles(
    caller: Caller,
    *,
    practitioner_ids: list[int] | None = None,
    location_ids: list[int] | None = None,
) -> list[Role]:
    practitioners = visible_practitioners(caller)
    if practitioner_ids is not None:
        practitioners = practitioners.filter(pk__in=practitioner_ids)
    roles = [
        Role(practitioner, location)
        for practitioner in practitioners
        for location in practitioner.user.visible_locations
        if location_ids is None or location.pk in location_ids
    ]
    return roles


def practitioner_role_resource(role: Role, services: list[Service], today: dt.date) -> dict:
    hours = [h for h in role.practitioner.working_hours.all() if h.location_id == role.location.pk]
    certification = role.practitioner.certification_on(today)
    resource = {
        "resourceType": "PractitionerRole",
        "id": role.id,
        "active": role.location.is_active,
        "practitioner": reference("Practitioner", role.practitioner.pk, role.practitioner.name),
        "location": [reference("Location", role.location.pk, role.location.name)],
        "healthcareService": [
            reference("HealthcareService", s.pk, s.name) for s in role.services(services, today)
        ],
        "code": [{"text": role.practitioner.title}],
        "availableTime": [
            {
                "daysOfWeek": [DAYS[h.weekday]],
                "availableStartTime": _clock(h.starts_at),
                "availableEndTime": _clock(h.ends_at),
            }
            for h in hours
        ],
    }
    if certification is not None:
        # R4 keeps qualifications on the Practitioner (with their periods); the role says
        # what the current one lets them be booked for here, and until when.
        resource["specialty"] = [
            {
                "coding": [
                    {
                        "system": QUALIFICATION_SYSTEM,
                        "code": DRY_NEEDLING_QUALIFICATION,
                        "display": "Dry needling",
                    }
                ],
                "text": f"Dry needling (certified {certification.valid_from.isoformat()} "
                f"to {certification.valid_until.isoformat()})",
            }
        ]
    return resource


def schedule_resource(role: Role, services: list[Service], now: dt.datetime) -> dict:
    """The calendar the API's Slots come from. Its free times are only a dry-needling
    practitioner's (`slots`), so an uncertified one's names no service type to look for."""
    location = role.location
    today = location.today()
    offered = role.services(services, today) if role.practitioner.is_certified_on(today) else []
    resource = {
        "resourceType": "Schedule",
        "id": role.id,
        "active": location.is_active,
        "actor": [
            reference("Practitioner", role.practitioner.pk, role.practitioner.name),
            reference("PractitionerRole", role.id),
            reference("Location", location.pk, location.name),
        ],
        "planningHorizon": {
            "start": now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (now + dt.timedelta(days=location.booking_horizon_days))
            .astimezone(dt.UTC)
            .strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "comment": f"{role.practitioner.name} at {location.name}",
    }
    if offered:  # FHIR's JSON has no empty arrays
        resource["serviceType"] = [service_type(s) for s in offered]
    return resource


def actor_filter(value: str) -> dict[str, list[int]]:
    """What an `actor` search value (Practitioner/<id> or Location/<id>) narrows a search of
    practitioners at locations to: `{"practitioner_ids": [3]}` or `{"location_ids": [2]}`."""
    kind = value.partition("/")[0]
    if kind == "Practitioner":
        return {"practitioner_ids": [pk_of(value, "Practitioner")]}
    if kind == "Location":
        return {"location_ids": [pk_of(value, "Location")]}
    raise invalid("actor must be Practitioner/<id> or Location/<id>.")


def _role_filters(params: dict, resource_type: str) -> dict:
    filters = {"practitioner_ids": None, "location_ids": None}
    if "_id" in params:
        pairs = [role_pk(v, resource_type) for v in params["_id"]]
        filters["practitioner_ids"] = [p for p, _ in pairs]
        filters["location_ids"] = [loc for _, loc in pairs]
    for value in params.get("practitioner", []):
        filters["practitioner_ids"] = [pk_of(value, "Practitioner")]
    for value in params.get("location", []):
        filters["location_ids"] = [pk_of(value, "Location")]
    for value in params.get("actor", []):
        filters.update(actor_filter(value))
    return filters


def _one_role(caller: Caller, value: str, resource_type: str) -> Role:
    try:
        practitioner_pk, location_pk = role_pk(value, resource_type)
    except ApiError:
        raise not_found(resource_type, value) from None
    roles = visible_roles(caller, practitioner_ids=[practitioner_pk], location_ids=[location_pk])
    if not roles:
        raise not_found(resource_type, value)
    return roles[0]


def _active_services() -> list[Service]:
    return list(Service.objects.filter(is_active=True).order_by("pk"))


@read_endpoint("PractitionerRole")
def practitioner_role_read(caller: Caller, request, role_id: str):
    role = _one_role(caller, role_id, "PractitionerRole")
    return practitioner_role_resource(role, _active_services(), role.location.today())


@read_endpoint("PractitionerRole")
def practitioner_role_search(caller: Caller, request):
    params = search_params(request, ["_id", "practitioner", "location"])
    page = page_of(request)
    roles = visible_roles(caller, **_role_filters(params, "PractitionerRole"))
    services = _active_services()
    entries = [
        (f"PractitionerRole/{r.id}", practitioner_role_resource(r, services, r.location.today()))
        for r in roles[page.offset : page.end]
    ]
    return searchset(caller, entries, total=len(roles), page=page)


@read_endpoint("Schedule")
def schedule_read(caller: Caller, request, role_id: str):
    role = _one_role(caller, role_id, "Schedule")
    return schedule_resource(role, _active_services(), timezone.now())


@read_endpoint("Schedule")
def schedule_search(caller: Caller, request):
    params = search_params(request, ["_id", "actor"])
    page = page_of(request)
    roles = visible_roles(caller, **_role_filters(params, "Schedule"))
    services = _active_services()
    now = timezone.now()
    entries = [
        (f"Schedule/{r.id}", schedule_resource(r, services, now))
        for r in roles[page.offset : page.end]
    ]
    return searchset(caller, entries, total=len(roles), page=page)
