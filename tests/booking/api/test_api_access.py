"""Every FHIR endpoint in one table, with the scope it needs: without a token it is a 401,
with a token lacking the scope a 403, with the scope it answers; all as OperationOutcomes.
`tests/test_url_coverage.py` checks that every API address is in the table."""

from __future__ import annotations

import pytest

from booking.api import scopes as api_scopes
from tests.booking.api.conftest import valid_fhir
from tests.booking.conftest import next_weekday
from tests.booking.factories import an_appointment

FIND = {"resourceType": "Parameters", "parameter": [{"name": "_count", "valueInteger": 1}]}
PROPOSED = {"resourceType": "Appointment", "status": "proposed"}


def _read(path: str, scope: str | None, status: int = 200) -> tuple:
    """A GET, without a body, answered `status` with the scope."""
    return ("GET", path, scope, None, status)


# url name: (method, path, scope needed, body, status with the scope)
ENDPOINTS = {
    "fhir:token": None,  # the OAuth token endpoint: tests/booking/api/test_api_clients.py
    "fhir:unknown": None,  # any other address under /fhir/: a 404 OperationOutcome (below)
    "fhir:metadata": _read("/fhir/metadata", None),
    "fhir:location_search": _read("/fhir/Location", "system/Location.read"),
    "fhir:location_read": _read("/fhir/Location/{location}", "system/Location.read"),
    "fhir:healthcareservice_search": _read(
        "/fhir/HealthcareService", "system/HealthcareService.read"
    ),
    "fhir:healthcareservice_read": _read(
        "/fhir/HealthcareService/{service}", "system/HealthcareService.read"
    ),
    "fhir:practitioner_search": _read("/fhir/Practitioner", "system/Practitioner.read"),
    "fhir:practitioner_read": _read(
        "/fhir/Practitioner/{practitioner}", "system/Practitioner.read"
    ),
    "fhir:practitionerrole_search": _read("/fhir/PractitionerRole", "system/PractitionerRole.read"),
    "fhir:practitionerrole_read": _read(
        "/fhir/PractitionerRole/{role}", "system/PractitionerRole.read"
    ),
    "fhir:schedule_search": _read("/fhir/Schedule", "system/Schedule.read"),
    "fhir:schedule_read": _read("/fhir/Schedule/{role}", "system/Schedule.read"),
    "fhir:slot_search": _read("/fhir/Slot?_count=2", "system/Slot.read"),
    "fhir:slot_read": _read("/fhir/Slot/{slot}", "system/Slot.read"),
    "fhir:appointment_search": _read("/fhir/Appointment", "system/Appointment.read"),
    "fhir:appointment_read": _read("/fhir/Appointment/{appointment}", "system/Appointment.read"),
    "fhir:appointment_vread": _read(
        "/fhir/Appointment/{appointment}/_history/1", "system/Appointment.read"
    ),
    "fhir:appointment_find": ("POST", "/fhir/Appointment/$find", "system/Slot.read", FIND, 200),
    "fhir:appointment_hold": (
        "POST",
        "/fhir/Appointment/$hold",
        "system/Appointment.write",
        PROPOSED,
        400,
    ),
    "fhir:appointment_book": (
        "POST",
        "/fhir/Appointment/$book",
        "system/Appointment.write",
        PROPOSED,
        400,
    ),
    "fhir:patient_search": _read("/fhir/Patient", "system/Patient.read"),
    "fhir:patient_read": _read("/fhir/Patient/{patient}", "system/Patient.read"),
    "fhir:questionnaire_search": _read("/fhir/Questionnaire", "system/Questionnaire.read"),
    "fhir:questionnaire_read": _read("/fhir/Questionnaire/intake", "system/Questionnaire.read"),
    "fhir:questionnaireresponse_search": _read(
        "/fhir/QuestionnaireResponse", "system/QuestionnaireResponse.read"
    ),
    "fhir:questionnaireresponse_read": _read(
        "/fhir/QuestionnaireResponse/999999", "system/QuestionnaireResponse.read", 404
    ),
}


@pytest.fixture
def ids(clinic, patient):
    start = next_weekday(clinic.location, 1, 10)
    appointment = an_appointment(clinic, patient, start)
    slot_start = int(next_weekday(clinic.location, 3, 10).timestamp())
    p, loc = clinic.practitioner.pk, clinic.location.pk
    return {
        "location": loc,
        "service": clinic.assessment.pk,
        "practitioner": p,
        "role": f"{p}-{loc}",
        "slot": f"{loc}-{p}-{clinic.assessment.pk}-60-{slot_start}",
        "appointment": appointment.pk,
        "patient": patient.pk,
    }


TESTED = [name for name, row in ENDPOINTS.items() if row is not None]


@pytest.mark.parametrize("name", TESTED)
def test_each_endpoint_answers_with_its_scope(name, api_client_for, clinic, ids):
    method, path, scope, body, status = ENDPOINTS[name]
    api = api_client_for(scopes=scope or "system/Location.read", locations=[clinic.location])
    response = api.call(method, path.format(**ids), body)
    assert response.status_code == status, response.content[:400]


@pytest.mark.parametrize("name", [n for n in TESTED if ENDPOINTS[n][2]])
def test_each_endpoint_refuses_a_token_without_its_scope(name, api_client_for, clinic, ids):
    method, path, scope, body, _ = ENDPOINTS[name]
    others = " ".join(s for s in api_scopes.ALL if s != scope)
    api = api_client_for(scopes=others, locations=[clinic.location])
    response = api.call(method, path.format(**ids), body)
    assert response.status_code == 403
    assert response.fhir["issue"][0]["code"] == "forbidden"
    assert scope in response.fhir["issue"][0]["diagnostics"]


@pytest.mark.parametrize("name", [n for n in TESTED if ENDPOINTS[n][2]])
def test_each_endpoint_refuses_a_request_without_a_token(name, client, clinic, ids):
    method, path, _, body, _ = ENDPOINTS[name]
    kwargs = {"data": body, "content_type": "application/fhir+json"} if body else {}
    response = getattr(client, method.lower())(path.format(**ids), **kwargs)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert valid_fhir(response.json())["resourceType"] == "OperationOutcome"


def test_a_bad_token_is_refused(api, clinic):
    response = api.get("/fhir/Location", token="not-a-token")
    assert response.status_code == 401
    assert response.fhir["issue"][0]["code"] == "login"


def test_a_method_an_endpoint_does_not_take_is_a_405(api, clinic):
    response = api.call("DELETE", "/fhir/Patient")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_an_address_the_api_does_not_have_is_a_fhir_404(api, clinic):
    for path in ("/fhir/Observation", "/fhir/Patient/not-a-number"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.fhir["resourceType"] == "OperationOutcome"


def test_a_page_session_is_no_way_into_the_api(login, manager, clinic):
    """A manager logged in to the pages still needs a token: the API knows only clients."""
    response = login(manager).get("/fhir/Patient")
    assert response.status_code == 401


def test_ids_past_what_the_database_holds_are_404s_not_errors(api, clinic):
    for path in (
        "/fhir/Patient/99999999999999999999999",
        "/fhir/Appointment/9223372036854775808",
        "/fhir/Schedule/99999999999999999999-1",
        "/fhir/PractitionerRole/1-99999999999999999999",
        "/fhir/Slot/1-1-1-60-99999999999999999",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
    assert api.get("/fhir/Appointment?date=ge9999-12-31").status_code == 400
    assert api.get("/fhir/Appointment?date=0001-01-01").status_code == 400


def test_a_token_of_an_oauth_application_that_is_no_api_client_opens_nothing(api, clinic):
    import datetime as dt

    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    stray = Application.objects.create(
        name="made by hand",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    AccessToken.objects.create(
        application=stray,
        token="stray-token-0123456789",
        scope="system/Location.read",
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    assert api.get("/fhir/Location", token="stray-token-0123456789").status_code == 401


def test_ids_written_in_digits_other_than_0_to_9_are_refused_not_errors(api, clinic, patient):
    # "²" is a digit to str.isdigit() but not to int(): such an id names nothing.
    for path in ("/fhir/Slot/1-1-1-60-²", "/fhir/Schedule/²-1", "/fhir/PractitionerRole/1-²"):
        assert api.get(path).status_code == 404, path
    for path, words in (
        ("/fhir/Appointment?patient=²", "Patient"),
        ("/fhir/Appointment?_id=Appointment/²", "Appointment"),
        ("/fhir/PractitionerRole?practitioner=²", "Practitioner"),
        ("/fhir/Appointment/$find?location=Location/²", "Location"),
        ("/fhir/Appointment/$find?_count=²", "_count"),
    ):
        response = api.get(path)
        assert response.status_code == 400, path
        assert words in response.fhir["issue"][0]["diagnostics"], path
    held = {
        "resourceType": "Appointment",
        "identifier": [{"system": "urn:heelclinic:slot-hold", "value": "²"}],
    }
    response = api.post("/fhir/Appointment/$book", held)
    assert response.status_code == 400
    assert "hold" in response.fhir["issue"][0]["diagnostics"]
