"""An attacker's attempts at logging in as someone else, and the refusals they meet.

Guessing passwords (from one address or many), skipping or replacing the second step with a
password alone, guessing through the password-change form, and learning from sign-up which
emails have an account.

The app runs behind one TLS proxy in production (PROXY_COUNT = 1), which appends the address
it sees to X-Forwarded-For; the tests that care about addresses set the proxy's REMOTE_ADDR
and that header exactly so, and an attacker may put anything before it."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def behind_the_proxy(settings):
    settings.PROXY_COUNT = 1


def browser_at(address: str, *, forged: str = "") -> Client:
    """A browser whose requests reach the app through the proxy from `address`; `forged` is
    what the attacker wrote in X-Forwarded-For themselves (the proxy appends the real one)."""
    forwarded = f"{forged}, {address}" if forged else address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def attempt(client: Client, email: str, password: str):
    return client.post(LOGIN, {"username": email, "password": password})


def _page_text(response) -> str:
    """The page without its per-request parts (CSRF tokens, CSP nonces)."""
    html = response.content.decode()
    return re.sub(r'(csrfmiddlewaretoken" value|nonce)="[^"]*"', "", html)


# --- Guessing passwords --------------------------------------------------------------------------


@pytest.fixture
def victim():
    return PatientFactory(user__email="victim@example.org").user


def test_five_wrong_passwords_from_five_addresses_lock_the_account(victim):
    statuses = [
        attempt(browser_at(f"198.51.100.{n}"), victim.email, f"guess-{n}").status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    # A sixth address, with the right password: still locked, and not logged in.
    sixth = browser_at("203.0.113.77")
    response = attempt(sixth, victim.email, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in sixth.session


def test_a_locked_account_answers_right_and_wrong_passwords_alike(victim):
    for n in range(5):
        attempt(browser_at(f"198.51.100.{n}"), victim.email, f"guess-{n}")
    right = attempt(browser_at("203.0.113.7"), victim.email, PASSWORD)
    wrong = attempt(browser_at("203.0.113.8"), victim.email, "guess-again")
    assert right.status_code == wrong.status_code == 429
    assert _page_text(right) == _page_text(wrong)
    assert right.cookies.keys() == wrong.cookies.keys()


def test_the_lock_holds_whatever_the_case_or_spaces_of_the_email(victim):
    for n, email in enumerate(
        ["VICTIM@example.org", " victim@example.org", "Victim@Example.Org ", "victim@EXAMPLE.org"]
    ):
        attempt(browser_at(f"198.51.100.{n}"), email, "nope")
    attempt(browser_at("198.51.100.9"), victim.email, "nope")
    assert attempt(browser_at("203.0.113.7"), victim.email, PASSWORD).status_code == 429


def test_the_admin_login_is_locked_with_the_account(victim):
    manager = UserFactory(role="manager", email="boss@example.org")
    for n in range(5):
        attempt(browser_at(f"198.51.100.{n}"), manager.email, "nope")
    response = browser_at("203.0.113.7").post(
        reverse("admin:login"), {"username": manager.email, "password": PASSWORD}
    )
    assert response.status_code == 429


def test_an_address_guessing_across_many_accounts_is_locked(victim):
    guesser = browser_at("198.51.100.50")
    for n in range(5):
        attempt(guesser, f"someone{n}@example.org", "password-1")
    assert attempt(guesser, victim.email, PASSWORD).status_code == 429
    # The account itself is not locked by one address's spraying.
    assert attempt(browser_at("203.0.113.7"), victim.email, PASSWORD).status_code == 302


def test_a_forged_forwarded_header_does_not_make_new_addresses(victim):
    for n in range(5):
        forged = browser_at("198.51.100.50", forged=f"192.0.2.{n}")
        attempt(forged, f"someone{n}@example.org", "password-1")
    forged = browser_at("198.51.100.50", forged="192.0.2.99")
    assert attempt(forged, victim.email, PASSWORD).status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.50"}


def test_logging_into_ones_own_account_does_not_wipe_guesses_at_another(victim):
    attacker = PatientFactory(user__email="attacker@example.org").user
    here = "198.51.100.60"
    for n in range(4):
        attempt(browser_at(here), victim.email, f"guess-{n}")
    assert attempt(browser_at(here), attacker.email, PASSWORD).status_code == 302
    attempt(browser_at(here), victim.email, "guess-4")
    # Five guesses at the victim in all: the account is locked, from anywhere.
    assert attempt(browser_at("203.0.113.7"), victim.email, PASSWORD).status_code == 429


def test_the_owners_own_success_clears_only_their_own_mistakes(victim):
    home = "203.0.113.7"
    for n in range(3):
        attempt(browser_at("198.51.100.1"), victim.email, f"guess-{n}")  # the attacker
    attempt(browser_at(home), victim.email, "typo")
    assert attempt(browser_at(home), victim.email, PASSWORD).status_code == 302
    # The attacker's three guesses still count: two more lock the account.
    attempt(browser_at("198.51.100.2"), victim.email, "guess-3")
    attempt(browser_at("198.51.100.3"), victim.email, "guess-4")
    assert attempt(browser_at(home), victim.email, PASSWORD).status_code == 429
