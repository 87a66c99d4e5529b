"""Appointments as FHIR: read (and the current version's vread), search, and cancelling by updating `status` (PUT or PATCH),
through the same cancel service as the pages. A client sees the appointments at its
locations; another location's appointment is a 404, whatever its id. Every read, search
result and change is written to the access log as the client.

Booking ($find, $hold, $book) is in `booking_operations`."""

from __future__ import annotations

import re

from booking import services
from booking.api import scopes as api_scopes
from booking.api.http import (
    ApiError,
    Caller,
    endpoint,
    fhir_response,
    instant,
    invalid,
    operation_outcome,
    page_of,
    page_rows,
    parse_body,
    pk_of,
    read_endpoint,
    reference,
    search_params,
    searchset,
    visible_one,
    with_ids,
    within_time_range,
)
from booking.api.resources.organisation import service_kind, service_type
from booking.models import Appointment, CancelledBy, Status
from clinic.audit import record_label
from clinic.models import AccessLog

TO_FHIR = {
    Status.REQUESTED: "pending",
    Status.CONFIRMED: "booked",
    Status.CHECKED_IN: "checked-in",
    Status.COMPLETED: "fulfilled",
    Status.CANCELLED: "cancelled",
    Status.NO_SHOW: "noshow",
}
FROM_FHIR = {fhir: ours for ours, fhir in TO_FHIR.items()}
STALE = "The appointment changed meanwhile (If-Match names an older version)."


def visible_appointments(caller: Caller):
    return Appointment.objects.filter(location_id__in=caller.location_ids).select_related(
        "service", "practitioner__user", "location"
    )


def appointment_resource(appointment: Appointment) -> dict:
    resource = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "meta": {"versionId": str(appointment.version)},
        "status": TO_FHIR[appointment.status],
        "serviceType": [service_type(appointment.service)],
        "start": instant(appointment.starts_at),
        "end": instant(appointment.ends_at),
        "minutesDuration": appointment.minutes,
        "created": instant(appointment.created_at),
        "participant": [
            {
                "actor": reference("Patient", appointment.patient_id),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference(
                    "Practitioner", appointment.practitioner_id, appointment.practitioner.name
                ),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": reference("Location", appointment.location_id, appointment.location.name),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if appointment.status == Status.CANCELLED and appointment.cancellation_reason:
        resource["cancelationReason"] = {"text": appointment.cancellation_reason}
    return resource


def etag(appointment: Appointment) -> dict:
    return {"ETag": f'W/"{appointment.version}"'}


def appointment_response(caller: Caller, appointment: Appointment, status: int = 200):
    headers = etag(appointment)
    if status == 201:
        headers["Location"] = (
            f"{caller.base()}/Appointment/{appointment.pk}/_history/{appointment.version}"
        )
    return fhir_response(appointment_resource(appointment), status, headers)


def _visible(caller: Caller, pk: int) -> Appointment:
    return visible_one(visible_appointments(caller), "Appointment", pk)


@endpoint("GET", "PUT", "PATCH")
def appointment_instance(caller: Caller, request, pk: int):
    if request.method == "GET":
        caller.require(api_scopes.read_scope("Appointment"))
        appointment = _visible(caller, pk)
        caller.log(appointment.patient, appointment)
        return appointment_response(caller, appointment)
    caller.require(api_scopes.APPOINTMENT_WRITE)
    appointment = _visible(caller, pk)
    wanted = _status_asked(request, pk)
    expected_version = _expected_version(request)
    if expected_version is not None and expected_version != appointment.version:
        # Checked before anything else: the client acts on a state that is gone, even if
        # what it asks for happens to be so now (the service checks again under its lock).
        raise ApiError(412, "conflict", STALE)
    if wanted == TO_FHIR[appointment.status]:
        # Nothing to change: the answer is the appointment as it stands, a read.
        caller.log(appointment.patient, appointment)
        return _written(caller, appointment, f"Appointment/{pk} is {wanted} already.")
    if wanted != "cancelled":
        raise ApiError(
            422,
            "business-rule",
            "Only cancelling (status cancelled) is possible through the API; "
            "other changes are made by the clinic.",
        )
    reason = _cancellation_reason(request) or f"Cancelled through the API ({caller.client.name})"
    try:
        appointment = services.cancel_appointment(
            appointment,
            by=CancelledBy.CLINIC,
            actor=caller.client.account,
            reason=reason,
            expected_version=expected_version,
            details={"api_client": caller.client.name},
        )
    except services.StaleAppointment as error:
        raise ApiError(412, "conflict", str(error) or STALE) from None
    except services.TransitionRefused as error:
        current = _visible(caller, pk)
        if TO_FHIR[current.status] == wanted:
            # Cancelled meanwhile (by the desk, or this client's own request sent twice): what
            # was asked for is so, and the answer is the one a moment later would get.
            caller.log(current.patient, current)
            return _written(caller, current, f"Appointment/{pk} is {wanted} already.")
        raise ApiError(409, "business-rule", str(error)) from None
    caller.log(appointment.patient, appointment, AccessLog.Action.CHANGE)
    return _written(caller, _visible(caller, pk), f"Appointment/{pk} was cancelled.")


def _written(caller: Caller, appointment: Appointment, text: str):
    """The answer to an update: the appointment as it stands, for a client that may read
    appointments; for one that may only write, what was done and the new version (its
    ETag), nothing of the appointment (or an update changing nothing would be a read)."""
    if caller.may(api_scopes.read_scope("Appointment")):
        return appointment_response(caller, appointment)
    return fhir_response(
        operation_outcome("informational", text, severity="information"), headers=etag(appointment)
    )


@read_endpoint("Appointment")
def appointment_version(caller: Caller, request, pk: int, version: int):
    """`Appointment/<id>/_history/<version>` (a vread; the address a booking answers with in
    `Location`): the appointment if that is its current version. Older versions are not kept
    (the appointment's history of changes is the clinic's, on its pages)."""
    appointment = _visible(caller, pk)
    if version != appointment.version:
        raise ApiError(
            404,
            "not-found",
            f"Appointment/{pk} version {version} is not kept; "
            f"its current version is {appointment.version}.",
        )
    caller.log(appointment.patient, appointment)
    return appointment_response(caller, appointment)


def _status_asked(request, pk: int) -> str:
    """The status a PUT (the whole resource) or a PATCH (a JSON Patch replacing /status, or
    the resource's changed elements) asks for."""
    body = parse_body(request)
    if isinstance(body, list):
        replaced = [
            op.get("value")
            for op in body
            if isinstance(op, dict)
            and op.get("op") in ("replace", "add")
            and op.get("path") == "/status"
        ]
        if len(replaced) != 1 or len(body) != 1:
            raise invalid("A JSON Patch here replaces /status, and nothing else.")
        status = replaced[0]
    else:
        if body.get("resourceType", "Appointment") != "Appointment":
            raise invalid("The body must be an Appointment.")
        if request.method == "PUT" and str(body.get("id")) != str(pk):
            raise invalid(f"The resource's id must be {pk}, the id in the address.")
        status = body.get("status")
    if not isinstance(status, str) or status not in FROM_FHIR:
        raise invalid(f"status must be one of {', '.join(FROM_FHIR)}.")
    request._fhir_body = body
    return status


def _cancellation_reason(request) -> str:
    body = getattr(request, "_fhir_body", None)
    if not isinstance(body, dict) or body.get("cancelationReason") is None:
        return ""
    reason = body["cancelationReason"]
    text = reason.get("text") if isinstance(reason, dict) else None
    if not isinstance(reason, dict) or not isinstance(text, str | None):
        # Kept as given, anything else would be written as Python prints it.
        raise invalid('cancelationReason must be a CodeableConcept: {"text": "…"}.')
    return (text or "").strip()[:300]


def _expected_version(request) -> int | None:
    header = request.headers.get("If-Match", "")
    if not header:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"(\d{1,9})"\s*', header)
    if match is None:
        raise invalid('If-Match must be a version, as in W/"3".')
    return int(match.group(1))


@read_endpoint("Appointment")
def appointment_search(caller: Caller, request):
    params = search_params(
        request, ["_id", "patient", "practitioner", "location", "date", "status", "service-type"]
    )
    page = page_of(request)
    appointments = with_ids(
        visible_appointments(caller).order_by("starts_at", "pk"), params, "Appointment"
    )
    for value in params.get("patient", []):
        appointments = appointments.filter(patient_id=pk_of(value, "Patient"))
    for value in params.get("practitioner", []):
        appointments = appointments.filter(practitioner_id=pk_of(value, "Practitioner"))
    for value in params.get("location", []):
        appointments = appointments.filter(location_id=pk_of(value, "Location"))
    for value in params.get("status", []):
        codes = value.split(",")
        if any(code not in FROM_FHIR for code in codes):
            raise invalid(f"status must be among {', '.join(FROM_FHIR)}.")
        appointments = appointments.filter(status__in=[FROM_FHIR[c] for c in codes])
    for value in params.get("service-type", []):
        appointments = appointments.filter(service__kind=service_kind(value))
    appointments = within_time_range(appointments, "starts_at", params.get("date", []), "date")
    total, rows = page_rows(appointments, page)
    caller.log_list((a.patient_id for a in rows), record_label(Appointment))
    entries = [(f"Appointment/{a.pk}", appointment_resource(a)) for a in rows]
    return searchset(caller, entries, total=total, page=page)
