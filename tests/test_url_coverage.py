"""Every page of the product is in one app's access table (who may open it, tested for each
role, an outsider and an anonymous visitor): a new URL pattern without an entry fails here."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from tests.booking.api.test_api_access import ENDPOINTS as FHIR_API
from tests.booking.billing.test_billing_page_access import PAGES as BILLING
from tests.booking.billing.test_document_downloads import MATRIX as DOCUMENTS
from tests.booking.test_booking_page_access import PAGES as BOOKING
from tests.booking.webhooks.test_webhook_pages import PAGES as WEBHOOKS
from tests.clinic.test_page_access import PAGES as CLINIC
from tests.intake.test_intake_access import PAGES as INTAKE

# Pages other libraries provide, each with its own protection: Django's admin (managers, with
# two-step login) and authentication pages (login, logout, password reset).
NOT_OURS = {"admin", None}


def _named_patterns() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace not in NOT_OURS:
                assert pattern.name, f"An unnamed page in {namespace}: {pattern.pattern}"
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_page_of_the_product_is_in_an_access_table():
    covered = (
        set(CLINIC) | set(BOOKING) | set(INTAKE) | set(WEBHOOKS) | set(FHIR_API) | set(BILLING)
    )
    covered |= set(DOCUMENTS.pages)
    assert _named_patterns() - covered == set()


def test_the_pages_outside_the_tables_are_only_djangos_own():
    names = set()
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace is None:
            names |= {p.name for p in pattern.url_patterns if isinstance(p, URLPattern)}
    assert names == {
        "login",
        "logout",
        "password_change",
        "password_change_done",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
    }
