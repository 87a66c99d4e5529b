"""Creating and revoking API clients: used by `manage.py api_client` and by the admin."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_access_token_model, get_application_model

from booking.api import scopes as api_scopes
from booking.api.models import ApiClient
from clinic.models import Location, Role, User

ACCOUNT_DOMAIN = "api-clients.invalid"


class ClientProblem(ValueError):
    """A client that cannot be made as asked; `str()` says why."""


def account_email(name: str) -> str:
    return f"{name}@{ACCOUNT_DOMAIN}"


@transaction.atomic
def create_client(
    *,
    name: str,
    scopes: Iterable[str],
    locations: Iterable[Location],
    requests_per_minute: int | None = None,
) -> tuple[ApiClient, str]:
    """A new client and its secret. The secret is stored hashed: this is the only time anyone
    sees it."""
    scopes = list(scopes)
    locations = list(locations)
    if not re.fullmatch(r"[-a-zA-Z0-9_]{1,60}", name or ""):
        raise ClientProblem(
            "A client's name is letters, digits, dashes or underscores (60 at most)."
        )
    unknown = [scope for scope in scopes if scope not in api_scopes.DESCRIPTIONS]
    if unknown or not scopes:
        raise ClientProblem(f"Unknown or missing scopes: {', '.join(unknown) or 'none given'}.")
    if not locations:
        raise ClientProblem("A client sees at least one location.")
    if ApiClient.objects.filter(name=name).exists():
        raise ClientProblem(f"There is already a client named {name}.")
    secret = generate_client_secret()
    application_model = get_application_model()
    application = application_model.objects.create(
        name=f"FHIR API: {name}",
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        hash_client_secret=True,
        redirect_uris="",
    )
    # The access log names a person or account for every access; this one cannot log in.
    account = User.objects.create_user(
        account_email(name),
        password=None,
        first_name="API client",
        last_name=name,
        role=Role.API_CLIENT,
        is_active=False,
    )
    fields = {"requests_per_minute": requests_per_minute} if requests_per_minute else {}
    client = ApiClient.objects.create(
        name=name, application=application, account=account, scopes=scopes, **fields
    )
    client.locations.set(locations)
    return client, secret


@transaction.atomic
def revoke_client(client: ApiClient, *, now: dt.datetime | None = None) -> ApiClient:
    """Revoke at once: its tokens are deleted (a request with one is refused from now on) and
    its secret is replaced, so no new token can be had. The client's row stays, for the
    access log that names it."""
    client = ApiClient.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is None:
        client.revoked_at = now or timezone.now()
        client.save(update_fields=["revoked_at"])
    get_access_token_model().objects.filter(application_id=client.application_id).delete()
    application = client.application
    application.client_secret = generate_client_secret()
    application.save(update_fields=["client_secret"])
    return client
