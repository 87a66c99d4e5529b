"""Booking through the API, as the IHE Scheduling profile names it: `Appointment/$find` (free
times as proposed Appointments), `$hold` (the slot hold the patients' pages use) and `$book`
(the patients' online request: the same checks, the same exclusion constraints, the same
emails). A page booking and an API booking racing for one slot end with one appointment;
the loser gets a 409 OperationOutcome.

Dry-needling sessions are found only for a patient whose course gate is open (a signed
assessment recommends it), as on the pages; they are booked as a course by the clinic, so
`$book` takes assessments and re-assessments, with a practitioner certified for dry needling
(the only ones a patient is offered online)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from booking import gates, services
from booking.api import scopes as api_scopes
from booking.api.http import (
    GENERAL_PARAMS,
    MAX_COUNT,
    ApiError,
    Caller,
    conflict,
    endpoint,
    instant,
    invalid,
    is_key,
    list_in,
    not_found,
    parse_body,
    pk_of,
    query_params,
    reference,
    time_range,
)
from booking.api.resources.appointments import appointment_response, visible_appointments
from booking.api.resources.organisation import service_type
from booking.api.resources.patients import patient_of
from booking.api.resources.slots import (
    FreeTime,
    SlotSearch,
    find_free_times,
    searched_locations,
    searched_services,
    slot_parts,
)
from booking.models import Appointment, SlotHold
from clinic.audit import record_label
from clinic.models import AccessLog, Patient

HOLD_SYSTEM = "urn:heelclinic:slot-hold"
FIND_PARAMETERS = ("start", "end", "service-type", "location", "practitioner", "patient", "_count")
GATE_CLOSED = (
    "A dry-needling session can be found only for a patient whose signed assessment "
    "recommends dry needling; the clinic books the course."
)


def _value(parameter: dict):
    """A Parameters entry's value as a search would give it: text, a reference, a resource."""
    if "resource" in parameter:
        return parameter["resource"]
    for key, value in parameter.items():
        if key == "valueReference" and isinstance(value, dict):
            return str(value.get("reference", ""))
        if key == "valueCoding" and isinstance(value, dict):
            system = value.get("system")
            return f"{system}|{value.get('code', '')}" if system else str(value.get("code", ""))
        if key.startswith("value"):
            return str(value)
    raise invalid(f"The parameter {parameter.get('name')!r} has no value.")


def operation_params(request, allowed: tuple[str, ...]) -> dict[str, list]:
    """An operation's inputs, from the address (GET) or a Parameters body (POST)."""
    if request.method == "GET":
        params = query_params(request)
    else:
        body = parse_body(request)
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise invalid("The body must be a Parameters resource.")
        params: dict[str, list] = {}
        for parameter in list_in(body, "parameter"):
            if not isinstance(parameter, dict) or not isinstance(parameter.get("name"), str):
                raise invalid("Each parameter needs a name and a value.")
            params.setdefault(parameter["name"], []).append(_value(parameter))
    unknown = sorted(set(params) - set(allowed) - GENERAL_PARAMS)
    if unknown:
        raise invalid(f"Unknown parameter(s): {', '.join(unknown)}. Known: {', '.join(allowed)}.")
    return params


def proposed_resource(free: FreeTime, patient: Patient | None) -> dict:
    participants = [
        {
            "actor": reference("Practitioner", free.slot.practitioner_id),
            "required": "required",
            "status": "needs-action",
        },
        {
            "actor": reference("Location", free.location.pk, free.location.name),
            "required": "required",
            "status": "accepted",
        },
    ]
    if patient is not None:
        participants.insert(
            0,
            {
                "actor": reference("Patient", patient.pk),
                "required": "required",
                "status": "needs-action",
            },
        )
    return {
        "resourceType": "Appointment",
        "status": "proposed",
        "serviceType": [service_type(free.service)],
        "start": instant(free.slot.starts_at),
        "end": instant(free.slot.ends_at),
        "minutesDuration": free.minutes,
        "slot": [reference("Slot", free.id)],
        "participant": participants,
    }


def _count(params: dict) -> int:
    text = (params.get("_count") or ["50"])[-1]
    if not is_key(str(text)) or not 1 <= int(text) <= MAX_COUNT:
        raise invalid(f"_count must be a whole number from 1 to {MAX_COUNT}.")
    return int(text)


def _instant_param(params: dict, name: str) -> dt.datetime | None:
    values = params.get(name)
    if not values:
        return None
    start, _ = time_range([str(values[-1])], name)
    return start


@endpoint("GET", "POST", scope=api_scopes.read_scope("Slot"))
def find(caller: Caller, request):
    """`Appointment/$find`: free times for a service (all of them if none is named), at the
    client's locations (or the one named), with one practitioner or any, between `start` and
    `end`; with `patient`, the patient's own appointments count as busy."""
    params = operation_params(request, FIND_PARAMETERS)
    patient = None
    if params.get("patient"):
        # The patient's appointments are taken out of the answer: set beside an answer for no
        # patient, it says when they have a visit. Checked before the patient is looked up,
        # so an id tried out says nothing either.
        caller.require(api_scopes.read_scope("Appointment"))
        patient = patient_of(caller, str(params["patient"][-1]))
    found_services = searched_services([str(v) for v in params.get("service-type", [])])
    if any(s.needs_dry_needling_certification for s in found_services):
        asked = bool(params.get("service-type"))
        # Whether needling is open to a patient is the practitioner's clinical decision: only
        # a client with the clinical scope may learn it.
        clinical = any(caller.may(scope) for scope in api_scopes.CLINICAL)
        if patient is not None and asked and not clinical:
            raise ApiError(
                403,
                "forbidden",
                "Dry-needling times for a patient depend on their clinical record: "
                f"this needs {' or '.join(sorted(api_scopes.CLINICAL))}.",
            )
        if not (patient is not None and clinical and gates.course_gate(patient).allowed):
            if asked:
                raise ApiError(422, "business-rule", GATE_CLOSED)
            found_services = [s for s in found_services if not s.needs_dry_needling_certification]
    location_ids = [pk_of(str(v), "Location") for v in params.get("location", [])] or None
    practitioner_ids = [pk_of(str(v), "Practitioner") for v in params.get("practitioner", [])]
    search = SlotSearch(
        locations=searched_locations(caller, location_ids),
        services=found_services,
        practitioner_ids=practitioner_ids or None,
        start=_instant_param(params, "start"),
        end=_instant_param(params, "end"),
        patient=patient,
    )
    free = find_free_times(search)
    count = _count(params)
    if patient is not None:
        # The search read the patient's appointments (their busy times).
        caller.log_type(patient, record_label(Appointment))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(free),
        "link": [{"relation": "self", "url": request.build_absolute_uri()}],
        "entry": [
            {"resource": proposed_resource(f, patient), "search": {"mode": "match"}}
            for f in free[:count]
        ],
    }


# --- $hold and $book ----------------------------------------------------------------------------


def _appointment_in(request) -> dict:
    body = parse_body(request)
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        resources = [
            p.get("resource")
            for p in list_in(body, "parameter")
            if isinstance(p, dict) and p.get("name") == "appointment-resource"
        ]
        body = resources[0] if len(resources) == 1 else None
    if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
        raise invalid(
            "Send the proposed Appointment (from $find), or Parameters with one "
            "appointment-resource."
        )
    return body


def _references(appointment: dict, resource_type: str) -> list[str]:
    found = []
    for participant in list_in(appointment, "participant"):
        actor = participant.get("actor") if isinstance(participant, dict) else None
        ref = str((actor or {}).get("reference", "")) if isinstance(actor, dict) else ""
        if ref.startswith(f"{resource_type}/"):
            found.append(ref)
    return found


def _patient_in(caller: Caller, appointment: dict) -> Patient:
    refs = _references(appointment, "Patient")
    if len(refs) != 1:
        raise invalid("The Appointment needs one participant Patient/<id>.")
    return patient_of(caller, refs[0])


def _slot_in(appointment: dict) -> str:
    slots = [
        str(s.get("reference", "")) for s in list_in(appointment, "slot") if isinstance(s, dict)
    ]
    if len(slots) != 1 or not slots[0].startswith("Slot/"):
        raise invalid("The Appointment needs one slot, Slot/<id> (as $find gives it).")
    return slots[0].removeprefix("Slot/")


def _hold_in(caller: Caller, appointment: dict) -> SlotHold | None:
    for identifier in list_in(appointment, "identifier"):
        if isinstance(identifier, dict) and identifier.get("system") == HOLD_SYSTEM:
            value = str(identifier.get("value", ""))
            if not is_key(value):
                raise invalid("The hold's identifier is not one this server gave.")
            # Only a hold this client placed: not another client's, a patient's own on the
            # pages, nor a waitlist offer's (taken by accepting the offer).
            hold = (
                SlotHold.objects.filter(
                    pk=int(value),
                    location_id__in=caller.location_ids,
                    placed_by=caller.client.account,
                )
                .select_related("patient")
                .first()
            )
            if hold is None:
                raise not_found("hold", value)
            patient_of(caller, str(hold.patient_id))  # the client must see its patient too
            booked = hold.appointment_id
            if booked and not visible_appointments(caller).filter(pk=booked).exists():
                # Booked already (`$book` then answers with that appointment), and moved since
                # to a location the client may not see: as unknown as the appointment is.
                raise not_found("hold", value)
            return hold
    return None


def _refuse_needling(service) -> None:
    if service.needs_dry_needling_certification:
        raise ApiError(
            422,
            "business-rule",
            "Dry-needling sessions are booked as a course by the clinic, from the "
            "practitioner's plan; the API books assessments and re-assessments.",
        )


def _booking_refused(error: services.BookingError) -> ApiError:
    if isinstance(error, services.SlotUnavailable | services.SlotTaken):
        return conflict(f"This time cannot be booked: {error}")
    return ApiError(422, "business-rule", str(error))


def _place_hold(caller: Caller, appointment: dict) -> SlotHold:
    patient = _patient_in(caller, appointment)
    parts = slot_parts(caller, _slot_in(appointment))
    _refuse_needling(parts.service)
    return services.place_hold(
        patient=patient,
        location=parts.location,
        practitioner=parts.practitioner,
        service=parts.service,
        starts_at=parts.starts_at,
        minutes=parts.minutes,
        placed_by=caller.client.account,
        # As on the request pages: only a dry-needling practitioner is chosen online.
        certified_only=True,
    )


@endpoint("POST", scope=api_scopes.APPOINTMENT_WRITE)
def hold(caller: Caller, request):
    """`Appointment/$hold`: keep the slot of a proposed Appointment for its patient for a few
    minutes (the same hold as the pages); the answer carries the hold as an identifier."""
    appointment = _appointment_in(request)
    try:
        held = _place_hold(caller, appointment)
    except services.BookingError as error:
        raise _booking_refused(error) from None
    caller.log(held.patient, held, AccessLog.Action.CREATE)
    resource = {
        "resourceType": "Appointment",
        "identifier": [{"system": HOLD_SYSTEM, "value": str(held.pk)}],
        "status": "proposed",
        "serviceType": [service_type(held.service)],
        "start": instant(held.starts_at),
        "end": instant(held.ends_at),
        "slot": [{"reference": f"Slot/{_slot_in(appointment)}"}],
        "participant": [
            {"actor": reference("Patient", held.patient_id), "status": "needs-action"},
            {"actor": reference("Practitioner", held.practitioner_id), "status": "accepted"},
            {"actor": reference("Location", held.location_id), "status": "accepted"},
        ],
        "comment": f"Held until {instant(held.expires_at)}.",
    }
    return resource


@endpoint("POST", scope=api_scopes.APPOINTMENT_WRITE)
def book(caller: Caller, request):
    """`Appointment/$book`: a held or a proposed Appointment becomes the patient's request
    (confirmed at once where the location says so), with the emails the pages send."""
    appointment = _appointment_in(request)
    note = appointment.get("comment") or ""
    if not isinstance(note, str):
        raise invalid("comment must be a string.")
    actor = caller.client.account
    try:
        with transaction.atomic():
            held = _hold_in(caller, appointment)
            if held is not None:
                _refuse_needling(held.service)
            else:
                held = _place_hold(caller, appointment)
            booked = services.request_appointment(hold=held, actor=actor, note=note)
    except services.BookingError as error:
        raise _booking_refused(error) from None
    booked = Appointment.objects.select_related(
        "service", "practitioner__user", "location", "patient"
    ).get(pk=booked.pk)
    caller.log(booked.patient, booked, AccessLog.Action.CREATE)
    return appointment_response(caller, booked, status=201)
