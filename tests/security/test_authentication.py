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
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import security
from clinic.models import User
from tests.conftest import VerifiedClient
from tests.factories import (
    PASSWORD,
    PatientFactory,
    UserFactory,
    confirm_sign_up,
    current_code,
)

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


def _reset_password_by_email(client: Client, email: str, new_password: str) -> None:
    client.post(reverse("password_reset"), {"email": email})
    link = re.search(r"http://testserver(/accounts/reset/\S+)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.context["validlink"]
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )


def test_the_owner_who_resets_the_password_by_email_is_let_back_in(victim):
    for n in range(5):
        attempt(browser_at(f"198.51.100.{n}"), victim.email, f"guess-{n}")
    home = browser_at("203.0.113.7")
    assert attempt(home, victim.email, PASSWORD).status_code == 429
    _reset_password_by_email(home, victim.email, "a-new-heel-pass-7")
    assert attempt(home, victim.email, "a-new-heel-pass-7").status_code == 302
    # The attacker's guesses at the old password bought them nothing towards the new one.
    assert AccessAttempt.objects.filter(username=victim.email).count() == 0


def test_an_address_that_guessed_at_many_accounts_stays_locked_after_one_resets(victim):
    attacker = browser_at("198.51.100.70")
    for n in range(5):
        attempt(attacker, f"someone-{n}@example.org", "guess")
    _reset_password_by_email(browser_at("203.0.113.7"), victim.email, "a-new-heel-pass-7")
    assert attempt(attacker, victim.email, "a-new-heel-pass-7").status_code == 429


def test_asking_for_a_reset_link_alone_lifts_no_lock(victim):
    for n in range(5):
        attempt(browser_at(f"198.51.100.{n}"), victim.email, f"guess-{n}")
    browser_at("198.51.100.9").post(reverse("password_reset"), {"email": victim.email})
    assert attempt(browser_at("203.0.113.7"), victim.email, PASSWORD).status_code == 429


# --- The second step: skipping it, or replacing it, with a password alone ---------------------

SETUP = reverse("clinic:two_factor_setup")
VERIFY = reverse("clinic:two_factor_verify")
MANAGE = reverse("clinic:two_factor_manage")


@pytest.fixture
def staff_with_authenticator(front_desk):
    device = TOTPDevice.objects.create(user=front_desk, name="Authenticator app", confirmed=False)
    security.confirm_totp_device(device)
    return front_desk


def _password_only(user, address="198.51.100.20") -> Client:
    client = browser_at(address)
    assert attempt(client, user.email, PASSWORD).status_code == 302
    return client


def _verified(user) -> Client:
    """A browser that logged in with the password and then the authenticator's code."""

    client = _password_only(user, address="203.0.113.30")
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert client.post(VERIFY, {"token": current_code(device)}).status_code == 302
    return client


def _devices(user) -> list[tuple[int, bool]]:
    return list(TOTPDevice.objects.filter(user=user).order_by("pk").values_list("pk", "confirmed"))


def test_a_password_alone_cannot_open_the_set_up_page_of_an_account_with_an_authenticator(
    staff_with_authenticator,
):
    before = _devices(staff_with_authenticator)
    client = _password_only(staff_with_authenticator)
    page = client.get(SETUP)
    assert page.status_code == 302 and page.url.startswith(VERIFY)
    confirm = client.post(SETUP, {"token": "123456"})
    assert confirm.status_code == 302 and confirm.url.startswith(VERIFY)
    assert _devices(staff_with_authenticator) == before  # nothing made, nothing deleted
    assert client.get(reverse("clinic:front_desk_home")).url.startswith(VERIFY)
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_verified_session_must_type_the_password_again_to_replace_the_authenticator(
    staff_with_authenticator,
):
    before = _devices(staff_with_authenticator)
    client = _verified(staff_with_authenticator)
    page = client.get(SETUP)
    assert page.status_code == 302 and page.url.startswith(MANAGE)
    assert _devices(staff_with_authenticator) == before


def test_replacing_the_authenticator_keeps_the_old_one_until_the_new_one_is_confirmed(
    staff_with_authenticator,
):

    old = TOTPDevice.objects.get(user=staff_with_authenticator, confirmed=True)
    client = _verified(staff_with_authenticator)
    wrong = client.post(MANAGE, {"action": "replace", "password": "not-it"})
    assert "That is not your password" in wrong.content.decode()
    assert client.get(SETUP).url.startswith(MANAGE)
    go = client.post(MANAGE, {"action": "replace", "password": PASSWORD})
    assert go.status_code == 302 and go.url == SETUP
    assert client.get(SETUP).status_code == 200
    new = TOTPDevice.objects.get(user=staff_with_authenticator, confirmed=False)
    # Abandoned halfway, the old authenticator and the old recovery codes still log in.
    old_code = StaticToken.objects.filter(device__user=staff_with_authenticator).first().token
    elsewhere = _password_only(staff_with_authenticator, address="203.0.113.40")
    assert elsewhere.post(VERIFY, {"token": old_code}).status_code == 302
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=31)):
        later = _password_only(staff_with_authenticator, address="203.0.113.41")
        assert later.post(VERIFY, {"token": current_code(old)}).status_code == 302
    assert mail.outbox == []

    done = client.post(SETUP, {"token": current_code(new)})
    assert len(done.context["codes"]) == 10
    assert _devices(staff_with_authenticator) == [(new.pk, True)]
    [email] = mail.outbox
    assert email.to == [staff_with_authenticator.email]
    assert "replaced" in email.subject.lower()
    # The password given for this replacement does not open another one.
    assert client.get(SETUP).url.startswith(MANAGE)


def test_the_password_typed_again_is_good_for_a_few_minutes_only(staff_with_authenticator):
    client = _verified(staff_with_authenticator)
    client.post(MANAGE, {"action": "replace", "password": PASSWORD})
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=6)):
        # (the session's own idle limit is longer than this)
        assert client.get(SETUP).url.startswith(MANAGE)


def test_wrong_passwords_when_replacing_count_towards_the_lockout(staff_with_authenticator):
    client = _verified(staff_with_authenticator)
    for n in range(5):
        client.post(MANAGE, {"action": "replace", "password": f"guess-{n}"})
    locked = client.post(MANAGE, {"action": "replace", "password": PASSWORD})
    assert locked.status_code == 429
    assert client.get(SETUP).url.startswith(MANAGE)
    other = browser_at("203.0.113.99")
    assert attempt(other, staff_with_authenticator.email, PASSWORD).status_code == 429


def _patient_with_a_session_from_before_two_step(patient):
    """A patient session opened with the password alone; then the owner turns two-step login
    on from another browser. The old session (an attacker who knew the password, say) must
    not manage the second step."""

    stale = _password_only(patient.user)
    device = TOTPDevice.objects.create(user=patient.user, name="Authenticator app")
    security.confirm_totp_device(device)
    return stale


def test_a_session_without_the_second_step_cannot_turn_it_off(patient):
    stale = _patient_with_a_session_from_before_two_step(patient)
    response = stale.post(MANAGE, {"action": "off", "password": PASSWORD})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=patient.user, confirmed=True).exists()


def test_a_session_without_the_second_step_cannot_get_new_recovery_codes(patient):
    stale = _patient_with_a_session_from_before_two_step(patient)
    codes = set(StaticToken.objects.values_list("token", flat=True))
    response = stale.post(MANAGE, {"action": "codes", "password": PASSWORD})
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert set(StaticToken.objects.values_list("token", flat=True)) == codes


def test_the_owner_is_told_when_two_step_login_is_turned_on_off_or_codes_are_reissued(patient):
    client = _password_only(patient.user)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=patient.user)
    client.post(SETUP, {"token": current_code(device)})
    client.post(MANAGE, {"action": "codes", "password": PASSWORD})
    client.post(MANAGE, {"action": "off", "password": PASSWORD})
    subjects = [email.subject.lower() for email in mail.outbox]
    assert {tuple(email.to) for email in mail.outbox} == {(patient.user.email,)}
    assert len(subjects) == 3
    assert "is on" in subjects[0]
    assert "recovery codes" in subjects[1]
    assert "is off" in subjects[2]


def test_a_secret_shown_to_one_browser_is_never_the_one_another_confirms(front_desk):
    """Before the owner's first set-up, someone with the password alone may open the page;
    the secret they saw must not be the one the owner then links."""

    intruder = _password_only(front_desk, address="198.51.100.66")
    intruder.get(SETUP)
    seen = TOTPDevice.objects.get(user=front_desk)
    owner = _password_only(front_desk, address="203.0.113.30")
    owner.get(SETUP)
    owners = TOTPDevice.objects.get(user=front_desk)
    assert owners.key != seen.key
    assert owner.post(SETUP, {"token": current_code(owners)}).status_code == 200
    assert TOTPDevice.objects.get(user=front_desk, confirmed=True).key == owners.key
    # The intruder's code, from the secret they saw, now opens nothing.
    assert intruder.post(SETUP, {"token": current_code(seen)}).url.startswith(VERIFY)


# --- Guessing through the password-change form ---------------------------------------------------

PASSWORD_CHANGE = reverse("password_change")


def _change(client: Client, old: str):
    return client.post(
        PASSWORD_CHANGE,
        {
            "old_password": old,
            "new_password1": "a-new-heel-pass-7",
            "new_password2": "a-new-heel-pass-7",
        },
    )


def test_guessing_the_old_password_locks_the_account_as_at_the_login(victim):
    """Someone at an unattended, logged-in browser tries to learn the password."""
    client = _password_only(victim)
    statuses = [_change(client, f"guess-{n}").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    right = _change(client, PASSWORD)
    assert right.status_code == 429
    assert "Too many failed attempts" in right.content.decode()
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)  # unchanged
    assert attempt(browser_at("203.0.113.7"), victim.email, PASSWORD).status_code == 429


def test_the_admins_password_change_leads_to_the_throttled_one(manager):
    client = VerifiedClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.5")
    client.force_login(manager)
    page = client.get(reverse("admin:password_change"))
    assert page.status_code == 302 and page.url == PASSWORD_CHANGE
    # Posted there directly, nothing is checked or changed.
    posted = client.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "x-new-pass-77",
            "new_password2": "x-new-pass-77",
        },
    )
    assert posted.status_code == 302 and posted.url == PASSWORD_CHANGE
    manager.refresh_from_db()
    assert manager.check_password(PASSWORD)


# --- Sign-up: which emails have an account? --------------------------------------------------------

SIGNUP = reverse("clinic:signup")


def _sign_up(client: Client, email: str, **changes):
    data = {
        "first_name": "Sam",
        "last_name": "Prober",
        "email": email,
        "date_of_birth": "1980-01-01",
        "phone": "416-555-0100",
        "password1": "plantar-heel-2026",
        "password2": "plantar-heel-2026",
    }
    return client.post(SIGNUP, data | changes)


def test_sign_up_answers_the_same_for_a_known_and_an_unknown_email(victim):
    first, second = browser_at("198.51.100.1"), browser_at("198.51.100.2")
    known = _sign_up(first, victim.email.upper())
    unknown = _sign_up(second, "nobody-yet@example.org")
    assert known.status_code == unknown.status_code == 200
    # The same page, but for the address typed (shown back to whoever typed it).
    assert _page_text(known).replace(victim.email, "@") == _page_text(unknown).replace(
        "nobody-yet@example.org", "@"
    )
    assert "_auth_user_id" not in first.session and "_auth_user_id" not in second.session
    # Nobody is logged in, and no account exists before the address is confirmed.
    assert not User.objects.filter(email="nobody-yet@example.org").exists()
    # Each address's owner hears about it, by email.
    assert sorted(email.to[0] for email in mail.outbox) == [
        "nobody-yet@example.org",
        victim.email,
    ]
    [to_owner] = [email for email in mail.outbox if email.to == [victim.email]]
    assert "already" in to_owner.body and "reset" in to_owner.body
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)  # nothing about the account changed


def test_sign_up_is_throttled_per_address(victim):
    prober = browser_at("198.51.100.70")
    statuses = [_sign_up(prober, f"guess{n}@example.org").status_code for n in range(6)]
    assert statuses[:4] == [200] * 4
    assert statuses[-1] == 429
    # Known or not, a locked address gets the same lockout page.
    assert _sign_up(prober, victim.email).status_code == 429


def test_nobody_can_hold_an_address_they_do_not_read(victim):
    """An attacker signs up with someone else's email and a password of their own: the
    account does not exist until the address's owner confirms it, with that password."""

    _sign_up(
        browser_at("198.51.100.1"),
        "someone@example.org",
        password1="attackers-pass-1",
        password2="attackers-pass-1",
    )
    assert not User.objects.filter(email="someone@example.org").exists()
    assert (
        attempt(browser_at("198.51.100.1"), "someone@example.org", "attackers-pass-1").status_code
        == 200
    )
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[0].body).group(1)
    owner = browser_at("203.0.113.7")
    page = owner.get(link, follow=True)
    assert page.status_code == 200
    # A mail scanner that opens the link confirms nothing; the owner, not knowing the
    # attacker's password, cannot confirm either.
    assert not User.objects.filter(email="someone@example.org").exists()
    refused = owner.post(page.redirect_chain[-1][0], {"password": "owners-guess"})
    assert refused.status_code == 200
    assert not User.objects.filter(email="someone@example.org").exists()


def test_the_owner_confirms_with_their_password_and_the_link_then_dies():
    browser = browser_at("203.0.113.7")
    _sign_up(browser, "new.patient@example.org")
    link = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    done = confirm_sign_up(browser, "plantar-heel-2026")
    assert done.redirect_chain[-1][0] == reverse("clinic:patient_home")
    assert User.objects.get(email="new.patient@example.org").check_password("plantar-heel-2026")
    # The same link, again, in another browser: nothing to confirm.
    again = browser_at("198.51.100.9").get(link, follow=True)
    assert "no longer works" in again.content.decode()


def test_a_newer_sign_up_for_the_address_retires_the_older_link():
    _sign_up(
        browser_at("198.51.100.1"),
        "someone@example.org",
        password1="attackers-pass-1",
        password2="attackers-pass-1",
    )
    older = re.search(r"https?://[^/\s]+(/\S+)", mail.outbox[-1].body).group(1)
    _sign_up(browser_at("203.0.113.7"), "someone@example.org")
    page = browser_at("203.0.113.7").get(older, follow=True)
    assert "no longer works" in page.content.decode()
    assert not User.objects.filter(email="someone@example.org").exists()


@pytest.mark.parametrize(
    "token", ["x", "a" * 300, "WzEsImFiYyJd:1tXyZ:forged", "<script>alert(1)<%2Fscript>"]
)
def test_a_forged_confirmation_link_confirms_nothing(token):
    browser = browser_at("198.51.100.1")
    page = browser.get(reverse("clinic:signup_confirm_link", args=[token]), follow=True)
    assert page.status_code == 200 and "no longer works" in page.content.decode()
    assert browser.post(reverse("clinic:signup_confirm"), {"password": "x"}).status_code == 200
