"""The FHIR API as a Django app: it owns its clients and its rate-limit counters."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "booking.api"
    label = "api"
    verbose_name = "FHIR API"
    default_auto_field = "django.db.models.BigAutoField"
