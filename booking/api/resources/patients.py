"""Patients as FHIR: their name, date of birth and contact details, no health information. A
client sees the patients registered at its locations; every read and every search result is
written to the access log as the client."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from booking.api.http import (
    Caller,
    invalid,
    page_of,
    page_rows,
    pk_of,
    read_endpoint,
    search_params,
    searchset,
    visible_one,
    with_ids,
)
from clinic.audit import record_label
from clinic.models import Patient


def visible_patients(caller: Caller):
    """Patients registered at one of the client's locations. The filter is a subquery, so no
    join multiplies the rows."""
    return Patient.objects.filter(
        pk__in=Patient.locations.through.objects.filter(location_id__in=caller.location_ids).values(
            "patient_id"
        )
    )


def patient_of(caller: Caller, value: str) -> Patient:
    """The patient a reference names, if the client may see them; else 404, whether they do
    not exist or are another location's."""
    return visible_one(visible_patients(caller), "Patient", pk_of(value, "Patient"))


def patient_resource(patient: Patient) -> dict:
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "name": [
            {
                "text": f"{patient.first_name} {patient.last_name}".strip(),
                "family": patient.last_name,
                "given": [patient.first_name],
            }
        ],
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if telecom:
        resource["telecom"] = telecom
    if patient.emergency_contact_name:
        contact = {"name": {"text": patient.emergency_contact_name}}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        resource["contact"] = [contact]
    return resource


@read_endpoint("Patient")
def patient_read(caller: Caller, request, pk: int):
    patient = patient_of(caller, str(pk))
    caller.log(patient, patient)
    return patient_resource(patient)


@read_endpoint("Patient")
def patient_search(caller: Caller, request):
    params = search_params(request, ["_id", "name", "family", "given", "birthdate", "email"])
    page = page_of(request)
    patients = with_ids(
        visible_patients(caller).order_by("last_name", "first_name", "pk"), params, "Patient"
    )
    for name in params.get("name", []):
        patients = patients.filter(Q(first_name__icontains=name) | Q(last_name__icontains=name))
    for family in params.get("family", []):
        patients = patients.filter(last_name__icontains=family)
    for given in params.get("given", []):
        patients = patients.filter(first_name__icontains=given)
    for email in params.get("email", []):
        patients = patients.filter(email__iexact=email)
    for birthdate in params.get("birthdate", []):
        try:
            day = dt.date.fromisoformat(birthdate.removeprefix("eq"))
        except ValueError:
            raise invalid(f"birthdate {birthdate!r} is not a date (YYYY-MM-DD).") from None
        patients = patients.filter(date_of_birth=day)
    total, rows = page_rows(patients, page)
    caller.log_list((p.pk for p in rows), record_label(Patient))
    entries = [(f"Patient/{p.pk}", patient_resource(p)) for p in rows]
    return searchset(caller, entries, total=total, page=page)
