"""An attacker's attempts with sessions: planting a session key, replaying a cookie after
logout or after the owner walked away, keeping a session the owner's security changes should
end, and reading the cookie from a script or over plain HTTP."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import security
from tests.factories import PASSWORD, current_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
VERIFY = reverse("clinic:two_factor_verify")
SETUP = reverse("clinic:two_factor_setup")
MANAGE = reverse("clinic:two_factor_manage")
ROOT = Path(__file__).resolve().parents[2]


def _log_in(user, client: Client | None = None) -> Client:
    client = client or Client()
    assert client.post(LOGIN, {"username": user.email, "password": PASSWORD}).status_code == 302
    return client


def _stolen_copy(client: Client) -> Client:
    """Another browser holding the same session cookie (copied, sniffed, planted)."""
    thief = Client()
    thief.cookies[django_settings.SESSION_COOKIE_NAME] = client.cookies[
        django_settings.SESSION_COOKIE_NAME
    ].value
    return thief


@pytest.fixture
def staff_with_authenticator(front_desk):
    device = TOTPDevice.objects.create(user=front_desk, name="Authenticator app")
    security.confirm_totp_device(device)
    return front_desk


def _verified(user, *, with_recovery_code: bool = False) -> Client:
    client = _log_in(user)
    if with_recovery_code:
        token = StaticToken.objects.filter(device__user=user).first().token
    else:
        token = current_code(TOTPDevice.objects.get(user=user, confirmed=True))
    assert client.post(VERIFY, {"token": token}).status_code == 302
    return client


# --- Session fixation and logout ----------------------------------------------------------------


def test_a_session_key_planted_before_login_is_not_the_one_after(patient):
    victim = Client()
    planted = victim.session  # a session the attacker made and gave the victim's browser
    planted["something"] = "x"
    planted.save()
    victim.cookies[django_settings.SESSION_COOKIE_NAME] = planted.session_key
    _log_in(patient.user, victim)
    assert victim.session.session_key != planted.session_key
    attacker = Client()
    attacker.cookies[django_settings.SESSION_COOKIE_NAME] = planted.session_key
    assert attacker.get(reverse("clinic:patient_home")).status_code == 302


def test_the_key_changes_again_at_the_second_step(staff_with_authenticator):
    client = _log_in(staff_with_authenticator)
    before = client.session.session_key
    client.post(
        VERIFY, {"token": current_code(TOTPDevice.objects.get(user=staff_with_authenticator))}
    )
    assert client.session.session_key != before


def test_a_cookie_copied_before_logout_opens_nothing_after_it(patient):
    client = _log_in(patient.user)
    thief = _stolen_copy(client)
    assert thief.get(reverse("clinic:patient_home")).status_code == 200
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert thief.get(reverse("clinic:patient_home")).status_code == 302


def test_changing_the_password_ends_the_other_sessions(patient):
    mine, other = _log_in(patient.user), _log_in(patient.user)
    mine.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-heel-pass-7",
            "new_password2": "a-new-heel-pass-7",
        },
    )
    assert mine.get(reverse("clinic:patient_home")).status_code == 200
    assert other.get(reverse("clinic:patient_home")).status_code == 302


# --- Time limits (settings.SESSION_IDLE_MINUTES, SESSION_MAX_HOURS) ----------------------------------


@pytest.mark.parametrize(("persona", "idle"), [("front_desk", 30), ("patient", 120)])
def test_a_cookie_left_idle_past_the_limit_is_worthless(request, persona, idle):
    person = request.getfixturevalue(persona)
    user = getattr(person, "user", person)
    client = Client()
    client.force_login(user)
    home = reverse("clinic:home")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=idle - 1)):
        assert client.get(home).status_code == 302  # to the role's home or the second step
        assert "_auth_user_id" in client.session
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2 * idle + 1)):
        response = client.get(home)
        assert response.url.startswith(LOGIN)
        assert "_auth_user_id" not in client.session


def test_a_busy_staff_session_still_ends_after_12_hours(front_desk):
    client = Client()
    client.force_login(front_desk)
    start = timezone.now()
    for minutes in range(20, 12 * 60, 20):  # a request every 20 minutes, all day
        with time_machine.travel(start + dt.timedelta(minutes=minutes)):
            client.get(reverse("clinic:home"))
    with time_machine.travel(start + dt.timedelta(hours=12, minutes=1)):
        assert client.get(reverse("clinic:home")).url.startswith(LOGIN)


# --- The owner's security changes end other sessions' second step -----------------------------------


@pytest.mark.parametrize("with_recovery_code", [False, True])
def test_replacing_the_authenticator_unverifies_the_other_sessions(
    staff_with_authenticator, with_recovery_code
):
    other = _verified(staff_with_authenticator, with_recovery_code=with_recovery_code)
    desk = reverse("clinic:front_desk_home")
    assert other.get(desk).status_code == 200
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        owner = _verified(staff_with_authenticator)
        owner.post(MANAGE, {"action": "replace", "password": PASSWORD})
        owner.get(SETUP)
        new = TOTPDevice.objects.get(user=staff_with_authenticator, confirmed=False)
        owner.post(SETUP, {"token": current_code(new)})
        assert owner.get(desk).status_code == 200
        refused = other.get(desk)
        assert refused.status_code == 302 and refused.url.startswith(VERIFY)


def test_a_session_from_before_two_step_was_turned_on_must_give_the_code(patient):
    """An attacker logged in with a leaked password; the patient notices and turns two-step
    login on in their own browser. The attacker's session must not stay open."""
    stale = _log_in(patient.user)
    assert stale.get(reverse("clinic:patient_home")).status_code == 200
    owner = _log_in(patient.user)
    owner.get(SETUP)
    owner.post(SETUP, {"token": current_code(TOTPDevice.objects.get(user=patient.user))})
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        refused = stale.get(reverse("clinic:patient_home"))
        assert refused.status_code == 302 and refused.url.startswith(VERIFY)


# --- The cookie itself ------------------------------------------------------------------------------------


def test_the_session_cookie_is_out_of_reach_of_scripts_and_other_sites(patient):
    client = _log_in(patient.user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_production_sends_cookies_over_https_only():
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environ.update(
        DEBUG="false", SECRET_KEY="x" * 64 + "-production-like", ALLOWED_HOSTS="booking.example.org"
    )
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "SECURE_SSL_REDIRECT",
        "SESSION_EXPIRE_AT_BROWSER_CLOSE",
    ]
    script = f"from django.conf import settings; print(*[getattr(settings, n) for n in {names!r}])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", script],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "Lax", "True", "True", "True", "True"]
