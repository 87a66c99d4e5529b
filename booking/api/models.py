"""The API's clients (an OAuth application with its scopes and locations, and the account the
access log names) and the per-minute request counts that rate-limit them across processes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from oauth2_provider.settings import oauth2_settings

from booking.api import scopes as api_scopes
from clinic.models import Location, User


def default_requests_per_minute() -> int:
    return settings.FHIR_REQUESTS_PER_MINUTE


class ApiClient(models.Model):
    """A system that calls the API: a referral portal, an insurer, the website's widget.

    It signs in with the OAuth application's client id and secret (client credentials), sees
    only `locations`, may do only what `scopes` allow, and acts in the access log as `account`
    (a login that cannot log in: no password, inactive)."""

    name = models.SlugField(max_length=60, unique=True)
    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    account = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_client")
    scopes = ArrayField(models.CharField(max_length=60, choices=api_scopes.CHOICES))
    locations = models.ManyToManyField(Location, related_name="api_clients")
    requests_per_minute = models.PositiveIntegerField(default=default_requests_per_minute)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when revoked: its tokens stop working at once."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(scopes__len__gt=0), name="apiclient_has_a_scope"),
            models.CheckConstraint(
                condition=Q(scopes__contained_by=list(api_scopes.ALL)),
                name="apiclient_scopes_are_known",
            ),
            models.CheckConstraint(
                condition=Q(requests_per_minute__gt=0), name="apiclient_rate_above_zero"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class RequestCount(models.Model):
    """How many requests a client made in one minute. Counted with one upsert per request in
    PostgreSQL, so the limit holds however many server processes answer (a per-process cache
    would let each process grant the whole allowance)."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    minute = models.DateTimeField()
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "minute"], name="requestcount_one_a_minute")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} at {self.minute:%Y-%m-%d %H:%M}: {self.count}"
