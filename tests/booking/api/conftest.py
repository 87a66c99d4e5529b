"""FHIR API fixtures: a client with chosen scopes and locations, signed in through the token
endpoint, and every resource checked against the FHIR R4B models of `fhir.resources`."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from booking.api import scopes as api_scopes
from booking.api.clients import create_client

EVERYTHING_BUT_CLINICAL = " ".join(s for s in api_scopes.ALL if s not in api_scopes.CLINICAL)


# The R4 value sets of the status codes we send (the models check types, not value sets).
STATUS_CODES = {
    "Appointment": {
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    },
    "Slot": {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"},
    "QuestionnaireResponse": {"in-progress", "completed", "amended", "entered-in-error", "stopped"},
    "Questionnaire": {"draft", "active", "retired", "unknown"},
    "CapabilityStatement": {"draft", "active", "retired", "unknown"},
}
PARTICIPANT_CODES = {"accepted", "declined", "tentative", "needs-action"}

# The JSON Patch of a cancellation: the one change to an appointment the API takes.
CANCELLING = [{"op": "replace", "path": "/status", "value": "cancelled"}]


def valid_fhir(resource: dict) -> dict:
    """The resource, once the R4B models accept it (and every resource inside a Bundle), with
    its status codes from their value sets."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    codes = STATUS_CODES.get(resource["resourceType"])
    assert codes is None or resource["status"] in codes, resource["status"]
    for participant in resource.get("participant", []):
        assert participant["status"] in PARTICIPANT_CODES, participant
    for entry in resource.get("entry", []) if resource["resourceType"] == "Bundle" else []:
        valid_fhir(entry["resource"])
    return resource


class Api:
    """Requests to /fhir/ with a client's bearer token, answers parsed and validated."""

    def __init__(self, client, secret: str):
        self.client = client
        self.secret = secret
        self.http = Client()
        self.token = self.fetch_token()

    def fetch_token(self, scope: str | None = None):
        credentials = f"{self.client.application.client_id}:{self.secret}".encode()
        data = {"grant_type": "client_credentials"}
        if scope is not None:
            data["scope"] = scope
        response = self.http.post(
            "/fhir/auth/token",
            data,
            HTTP_AUTHORIZATION=f"Basic {base64.b64encode(credentials).decode()}",
        )
        if response.status_code != 200:
            return None
        return response.json()["access_token"]

    def call(self, method: str, path: str, body=None, *, token: str | None = None, **headers):
        token = token if token is not None else self.token
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        kwargs = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/fhir+json"}
        response = getattr(self.http, method.lower())(path, **kwargs, **headers)
        response.fhir = json.loads(response.content) if response.content else None
        if response.fhir is not None and "resourceType" in response.fhir:
            valid_fhir(response.fhir)
        return response

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body, **kwargs):
        return self.call("POST", path, body, **kwargs)


@pytest.fixture
def api_client_for(db):
    """`api_client_for(scopes="...", locations=[...])`: a new client, signed in."""
    made = []

    def make(*, scopes: str = EVERYTHING_BUT_CLINICAL, locations, name=None, **fields):
        client, secret = create_client(
            name=name or f"portal-{len(made) + 1}",
            scopes=api_scopes.parse(scopes),
            locations=locations,
            **fields,
        )
        made.append(client)
        return Api(client, secret)

    return make


@pytest.fixture
def api(api_client_for, clinic):
    """A client of `clinic`'s location with every scope but the clinical one."""
    return api_client_for(locations=[clinic.location])


def booking_of_a_slot(clinic, service, minutes: int, starts_at, patient) -> dict:
    """What `$book` is sent for one slot of the clinic's practitioner named by its id
    (location, practitioner, service, length, start) rather than one `$find` proposed."""
    start = int(starts_at.timestamp())
    slot = f"{clinic.location.pk}-{clinic.practitioner.pk}-{service.pk}-{minutes}-{start}"
    return {
        "resourceType": "Appointment",
        "status": "proposed",
        "slot": [{"reference": f"Slot/{slot}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{patient.pk}"}, "status": "needs-action"}
        ],
    }
