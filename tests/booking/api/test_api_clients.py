"""API clients: made with `manage.py api_client` or in the admin, their secret shown once,
tokens by client credentials only and never beyond the client's scopes, and revoking that
works at once."""

from __future__ import annotations

import base64

import pytest
from django.core.management import CommandError
from django.test import Client
from oauth2_provider.models import AccessToken

from booking.api.models import ApiClient
from clinic.models import User
from tests.booking.api.conftest import Api
from tests.conftest import command_output


def _create(*args) -> dict[str, str]:
    output = command_output("api_client", "create", *args)
    return dict(line.split(": ", 1) for line in output.splitlines() if line.startswith("client_"))


def _token(client_id: str, secret: str, **data):
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return Client().post(
        "/fhir/auth/token",
        {"grant_type": "client_credentials", **data},
        HTTP_AUTHORIZATION=f"Basic {credentials}",
    )


def test_the_command_prints_the_client_id_and_secret_once(location, other_location):
    printed = _create(
        "referral-portal",
        "--scopes",
        "system/Slot.read system/Appointment.write",
        "--locations",
        location.slug,
    )
    client = ApiClient.objects.get(name="referral-portal")
    assert printed["client_id"] == client.application.client_id
    # Stored hashed: the secret printed is nowhere in the database.
    assert client.application.client_secret != printed["client_secret"]
    assert list(client.locations.all()) == [location]
    assert client.scopes == ["system/Slot.read", "system/Appointment.write"]
    assert client.account.is_active is False and not client.account.has_usable_password()
    response = _token(printed["client_id"], printed["client_secret"])
    assert response.status_code == 200
    assert set(response.json()["scope"].split()) == {"system/Slot.read", "system/Appointment.write"}


def test_the_command_refuses_unknown_scopes_and_locations(location):
    with pytest.raises(CommandError, match="Unknown scope"):
        _create("x", "--scopes", "system/*.read", "--locations", location.slug)
    with pytest.raises(CommandError, match="No location"):
        _create("x", "--scopes", "system/Slot.read", "--locations", "atlantis")
    with pytest.raises(CommandError, match="letters, digits"):
        _create("no spaces", "--scopes", "system/Slot.read", "--locations", location.slug)
    assert not ApiClient.objects.exists()


def test_a_token_carries_no_scope_beyond_the_clients(api_client_for, location):
    api = api_client_for(scopes="system/Slot.read", locations=[location])
    assert api.fetch_token(scope="system/Slot.read") is not None
    assert api.fetch_token(scope="system/Slot.read system/Patient.read") is None
    assert api.fetch_token(scope="system/QuestionnaireResponse.read") is None


def test_only_the_client_credentials_grant_is_accepted(api_client_for, location):
    api = api_client_for(scopes="system/Slot.read", locations=[location])
    app = api.client.application
    response = Client().post(
        "/fhir/auth/token",
        {"grant_type": "password", "username": "x", "password": "y"},
        HTTP_AUTHORIZATION="Basic "
        + base64.b64encode(f"{app.client_id}:{api.secret}".encode()).decode(),
    )
    assert response.status_code in (400, 401)
    assert "access_token" not in response.json()


def test_a_wrong_secret_gets_no_token(api_client_for, location):
    api = api_client_for(scopes="system/Slot.read", locations=[location])
    assert _token(api.client.application.client_id, "wrong").status_code == 401


def test_revoking_refuses_its_tokens_at_once(api_client_for, location):
    api = api_client_for(scopes="system/Location.read", locations=[location])
    assert api.get("/fhir/Location").status_code == 200
    assert "Revoked" in command_output("api_client", "revoke", api.client.name)
    response = api.get("/fhir/Location")
    assert response.status_code == 401
    assert not AccessToken.objects.filter(application=api.client.application).exists()
    # No new token either, with the old secret.
    assert _token(api.client.application.client_id, api.secret).status_code == 401
    assert ApiClient.objects.get(pk=api.client.pk).revoked_at is not None


def test_a_scope_taken_away_stops_working_at_once(api_client_for, location):
    api = api_client_for(scopes="system/Location.read system/Patient.read", locations=[location])
    assert api.get("/fhir/Patient").status_code == 200
    ApiClient.objects.filter(pk=api.client.pk).update(scopes=["system/Location.read"])
    assert api.get("/fhir/Patient").status_code == 403


def test_the_database_refuses_unknown_scopes(api_client_for, location):
    from django.db import IntegrityError, transaction

    api = api_client_for(scopes="system/Location.read", locations=[location])
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiClient.objects.filter(pk=api.client.pk).update(scopes=["system/*.*"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiClient.objects.filter(pk=api.client.pk).update(scopes=[])


def test_a_manager_creates_a_client_in_the_admin_and_sees_the_secret_once(login, manager, location):
    browser = login(manager)
    response = browser.post(
        "/admin/api/apiclient/add/",
        {
            "name": "website-widget",
            "scopes": ["system/Slot.read", "system/Appointment.write"],
            "locations": [location.pk],
            "requests_per_minute": 60,
        },
        follow=True,
    )
    assert response.status_code == 200
    client = ApiClient.objects.get(name="website-widget")
    shown = [str(m) for m in response.context["messages"]]
    secret = (
        next(m for m in shown if "client secret" in m).split("client secret: ")[1].split(" ")[0]
    )
    assert _token(client.application.client_id, secret).status_code == 200
    assert User.objects.filter(api_client=client, is_active=False).exists()
    # The change page never shows it again.
    page = browser.get(f"/admin/api/apiclient/{client.pk}/change/")
    assert secret not in page.content.decode()


def test_a_manager_revokes_a_client_in_the_admin(login, manager, api_client_for, location):
    api = api_client_for(scopes="system/Location.read", locations=[location])
    login(manager).post(
        "/admin/api/apiclient/",
        {"action": "revoke", "_selected_action": [api.client.pk]},
    )
    assert api.get("/fhir/Location").status_code == 401


def test_a_new_api_object_signs_in_with_the_same_secret(api_client_for, location):
    api = api_client_for(scopes="system/Location.read", locations=[location])
    again = Api(api.client, api.secret)
    assert again.token and again.token != api.token


def test_the_command_lists_the_clients_and_their_state(api_client_for, location):
    kept = api_client_for(scopes="system/Slot.read", locations=[location], name="widget")
    gone = api_client_for(scopes="system/Slot.read", locations=[location], name="old-portal")
    command_output("api_client", "revoke", gone.client.name)
    lines = {line.split()[0]: line for line in command_output("api_client", "list").splitlines()}
    assert "active" in lines[kept.client.name] and location.slug in lines[kept.client.name]
    assert "revoked" in lines["old-portal"]
