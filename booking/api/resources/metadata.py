"""`GET /fhir/metadata`: the CapabilityStatement, listing exactly what this server does (the
resources, their interactions and search parameters, the operations, the security). Anyone may
read it; a test keeps it in step with the URLs."""

from __future__ import annotations

from django.utils import timezone

from booking.api.http import FHIR_JSON, FHIR_VERSION, ApiError, endpoint

TOKEN_URL_PATH = "/fhir/auth/token"

# type: (interactions, {search parameter: type})
RESOURCES: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "Location": (("read", "search-type"), {"_id": "token", "name": "string"}),
    "HealthcareService": (
        ("read", "search-type"),
        {"_id": "token", "service-type": "token", "active": "token"},
    ),
    "Practitioner": (("read", "search-type"), {"_id": "token", "name": "string"}),
    "PractitionerRole": (
        ("read", "search-type"),
        {"_id": "token", "practitioner": "reference", "location": "reference"},
    ),
    "Schedule": (("read", "search-type"), {"_id": "token", "actor": "reference"}),
    "Slot": (
        ("read", "search-type"),
        {
            "schedule": "reference",
            "schedule.actor": "reference",
            "actor": "reference",
            "location": "reference",
            "service-type": "token",
            "start": "date",
            "status": "token",
        },
    ),
    "Appointment": (
        ("read", "vread", "search-type", "update", "patch"),
        {
            "_id": "token",
            "patient": "reference",
            "practitioner": "reference",
            "location": "reference",
            "date": "date",
            "status": "token",
            "service-type": "token",
        },
    ),
    "Patient": (
        ("read", "search-type"),
        {
            "_id": "token",
            "name": "string",
            "family": "string",
            "given": "string",
            "birthdate": "date",
            "email": "token",
        },
    ),
    "Questionnaire": (
        ("read", "search-type"),
        {"_id": "token", "url": "uri", "version": "token"},
    ),
    "QuestionnaireResponse": (
        ("read", "search-type"),
        {
            "_id": "token",
            "patient": "reference",
            "subject": "reference",
            "authored": "date",
            "status": "token",
        },
    ),
}
OPERATIONS = ("find", "hold", "book")
OPERATION_DEFINITIONS = "http://hl7.org/fhir/uv/ihe-scheduling/OperationDefinition/appointment-"


def capability_statement(base: str) -> dict:
    resources = []
    for kind, (interactions, params) in RESOURCES.items():
        resource = {
            "type": kind,
            "interaction": [{"code": code} for code in interactions],
            "searchParam": [{"name": name, "type": kind_} for name, kind_ in params.items()]
            + [{"name": "_count", "type": "number"}],
        }
        if kind == "Appointment":
            resource["updateCreate"] = False
            resource["operation"] = [
                {"name": name, "definition": f"{OPERATION_DEFINITIONS}{name}"}
                for name in OPERATIONS
            ]
        resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.now().date().isoformat(),
        "kind": "instance",
        "implementation": {"description": "Clinic booking and intake FHIR API", "url": base},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "OAuth 2.0 client credentials; SMART-style system scopes",
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [
                                {"url": "token", "valueUri": f"{base}/auth/token"},
                            ],
                        }
                    ],
                },
                "resource": resources,
            }
        ],
    }


@endpoint("GET", public=True)
def metadata(caller, request):
    return capability_statement(request.build_absolute_uri("/fhir").rstrip("/"))


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE", public=True)
def unknown(caller, request, rest: str):
    raise ApiError(404, "not-found", f"/fhir/{rest} is not supported here; see /fhir/metadata.")
