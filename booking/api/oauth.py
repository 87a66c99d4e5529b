"""How django-oauth-toolkit issues the API's tokens: client credentials only, to clients that
are not revoked, with no scope beyond the client's own (settings.OAUTH2_PROVIDER names these)."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

from booking.api import scopes as api_scopes
from booking.api.models import ApiClient

CLIENT_CREDENTIALS = "client_credentials"


def live_client(application) -> ApiClient | None:
    """The API client of an OAuth application, unless it is revoked (or was never one)."""
    try:
        client = application.api_client
    except ApiClient.DoesNotExist:
        return None
    return None if client.is_revoked else client


class ClientCredentialsValidator(OAuth2Validator):
    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        return live_client(request.client) is not None

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        # The API is for systems: no user ever signs in through it.
        return grant_type == CLIENT_CREDENTIALS and live_client(client) is not None


class ApiScopes(BaseScopes):
    def get_all_scopes(self):
        return dict(api_scopes.DESCRIPTIONS)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        client = live_client(application) if application is not None else None
        return list(client.scopes) if client else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        # Asking for no scope gets every scope the client was given.
        return self.get_available_scopes(application, request)
