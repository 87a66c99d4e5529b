"""Authentication hardening shared by the whole app: the client's address behind the proxy,
login throttling keys, two-factor devices (django-otp), and where `?next=` may send a user."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import STAFF_ROLES, User

RECOVERY_CODES = 10
SECOND_FACTOR_SESSION_KEY = "second_factor_enabled"
SECOND_FACTOR_CHECKED_SESSION_KEY = "second_factor_checked_at"


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: read from X-Forwarded-For when the app runs behind proxies
    (settings.PROXY_COUNT of them, each appending one entry), else REMOTE_ADDR."""
    if request is None:
        return None
    count = getattr(settings, "PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or None


def safe_next_url(request: HttpRequest, default: str) -> str:
    """The `next` a form or address carries, if it is a path of this site; else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site only: redirect() would take a bare word for a URL name to reverse
    # (a 500 on ?next=anything).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def login_username(request: HttpRequest | None, credentials: dict | None) -> str:
    """The account a login attempt is for, as django-axes counts it: emails in any case are
    one account, so changing the case does not earn more guesses.

    django-axes asks both when it records a failure (with the login form's credentials) and
    when it checks a lock (with its own, keyed by AXES_USERNAME_FORM_FIELD); both must name the
    same account, or the account's count is never checked."""
    credentials = credentials or {}
    username = credentials.get("username") or credentials.get(User.USERNAME_FIELD)
    if not username and request is not None and request.method == "POST":
        username = request.POST.get("username")
    return normalised_login(username)


def normalised_login(username) -> str:
    """The email as the login compares it (UserManager.get_by_natural_key), without NUL
    characters: PostgreSQL cannot compare text holding one (a forged form's email), and no
    account's email has one, so inserting one does not name another account to throttle."""
    return str(username or "").replace("\x00", "").strip().lower()


@receiver(user_logged_in)
def clear_own_failures(sender, request, user, **kwargs) -> None:
    """After a successful login, forget this account's failures from this address (the
    owner's typos). Other accounts' failures from the address, and this account's failures
    from other addresses, still count: a login to one's own account must not buy more guesses
    at someone else's, and the owner's success must not reset a distributed guesser's tally."""
    from axes.models import AccessAttempt

    if request is None:
        return
    AccessAttempt.objects.filter(
        username=normalised_login(user.get_username()), ip_address=client_ip(request)
    ).delete()


def forget_account_failures(user: User) -> None:
    """The owner read the reset email sent to the account and chose a new password: the
    guesses at the old one no longer matter, from whichever address, so the account's lock is
    lifted (an address that guessed at other accounts stays locked)."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=normalised_login(user.get_username())).delete()


def second_factor_required(user: User) -> bool:
    """Staff (and superusers) always; patients once they have turned it on."""
    return user.role in STAFF_ROLES or user.is_superuser or has_confirmed_device(user)


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# A session that did not need the second factor asks again at most this often (one query).
SECOND_FACTOR_RECHECK_SECONDS = 60


def second_step_pending(request: HttpRequest) -> bool:
    """The password is given but the second factor this account needs is not yet: such a
    session may only log out, set up its authenticator or give its code (the middleware)
    and sees no role's navigation (the layout).

    Two-step login turned on in another browser applies to this session too: a session that
    did not need it is asked again at most once a minute."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.is_verified():
        return False
    session = request.session
    required = session.get(SECOND_FACTOR_SESSION_KEY)
    now = int(timezone.now().timestamp())
    if required is None or (
        not required
        and now - session.get(SECOND_FACTOR_CHECKED_SESSION_KEY, 0) >= SECOND_FACTOR_RECHECK_SECONDS
    ):
        required = session[SECOND_FACTOR_SESSION_KEY] = second_factor_required(user)
        session[SECOND_FACTOR_CHECKED_SESSION_KEY] = now
    return bool(required)


@receiver(user_logged_in)
def remember_login(sender, request, user, **kwargs) -> None:
    """Start the session clocks and note whether this account uses a second factor."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(timezone.now().timestamp())
    request.session["auth_started"] = now
    request.session["last_seen"] = now
    request.session[SECOND_FACTOR_SESSION_KEY] = second_factor_required(user)
    request.session[SECOND_FACTOR_CHECKED_SESSION_KEY] = now


# The set-up page shows this session's own new secret; its device's id is kept here.
PENDING_DEVICE_SESSION_KEY = "pending_authenticator"
# Replacing or removing an authenticator, or new recovery codes, need the password typed
# again this recently (besides the second step passed in this session).
PASSWORD_CONFIRMED_SESSION_KEY = "password_confirmed_at"
PASSWORD_CONFIRMATION_SECONDS = 5 * 60


def note_password_confirmed(request: HttpRequest) -> None:
    request.session[PASSWORD_CONFIRMED_SESSION_KEY] = int(timezone.now().timestamp())


def password_recently_confirmed(request: HttpRequest) -> bool:
    confirmed_at = request.session.get(PASSWORD_CONFIRMED_SESSION_KEY)
    if not isinstance(confirmed_at, int):
        return False
    age = int(timezone.now().timestamp()) - confirmed_at
    return 0 <= age <= PASSWORD_CONFIRMATION_SECONDS


def may_set_up_authenticator(request: HttpRequest) -> bool:
    """Setting up is for an account with no authenticator yet. Replacing one takes what only
    its owner has: the second step passed in this session, and the password typed again a
    few minutes ago (a stolen password, or an unattended verified session, is not enough)."""
    if not has_confirmed_device(request.user):
        return True
    return request.user.is_verified() and password_recently_confirmed(request)


def second_step_passed(request: HttpRequest, device) -> None:
    """Mark the session verified, under a new session key: a key seen before the second
    step (as after the password, by Django) is not the one that opens the records."""
    from django_otp import login as otp_login

    request.session.cycle_key()
    otp_login(request, device)


def pending_totp_device(request: HttpRequest) -> TOTPDevice:
    """The authenticator this session is setting up (unconfirmed). Each browser that starts
    gets a new secret, and any other pending one is dropped: a secret once shown elsewhere
    (to whoever opened the page with the password alone, before the owner) is never the one
    the owner confirms."""
    user = request.user
    pending = TOTPDevice.objects.filter(user=user, confirmed=False)
    device = pending.filter(pk=request.session.get(PENDING_DEVICE_SESSION_KEY)).first()
    if device is None:
        pending.delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        request.session[PENDING_DEVICE_SESSION_KEY] = device.pk
    return device


@transaction.atomic
def confirm_totp_device(device: TOTPDevice) -> tuple[list[str], bool]:
    """Confirm the authenticator just verified; only now drop the older one and its recovery
    codes, and issue new codes. Sessions that passed the second step with the old device or
    an old code lose it (django-otp finds their device gone). Returns the codes, and whether
    an authenticator was replaced."""
    user = device.user
    older = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk)
    replaced = older.filter(confirmed=True).exists()
    older.delete()
    StaticDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user), replaced


@transaction.atomic
def new_recovery_codes(user: User) -> list[str]:
    """Ten single-use codes for when the phone is lost; any older codes stop working."""
    static, _ = StaticDevice.objects.get_or_create(
        user=user, name="Recovery codes", defaults={"confirmed": True}
    )
    static.token_set.all().delete()
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@transaction.atomic
def turn_off_second_factor(user: User) -> None:
    """For patients who opted in; staff cannot turn it off."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def password_check(request: HttpRequest, password: str) -> str:
    """Check the logged-in user's password again (before signing, say): "ok", "wrong", or
    "locked". A wrong one counts as a failed login, so repeated guesses lock the account
    as at the login page (and a locked account cannot sign)."""
    from axes.handlers.proxy import AxesProxyHandler
    from django.contrib.auth.signals import user_login_failed

    user = request.user
    credentials = {"username": user.email}
    if not AxesProxyHandler.is_allowed(request, credentials):
        # As at the login page: the attempt counts (and prolongs the lock), whether the
        # password is right or not, and the page becomes the lockout page (429).
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        request.axes_locked_out = True
        return "locked"
    if user.check_password(password):
        return "ok"
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    return "wrong"


def sign_up_allowed(request: HttpRequest, email: str, *, count: bool) -> bool:
    """Sign-up goes through the login's throttle: each one sent counts as an attempt from
    the address (and for the address asked about, so nobody's mailbox can be flooded), and
    a locked address or email gets the lockout page (429) whatever the email is. `count`
    False only looks (a form with mistakes, which sends nothing)."""
    from axes.handlers.proxy import AxesProxyHandler
    from django.contrib.auth.signals import user_login_failed

    credentials = {"username": f"sign-up:{normalised_login(email)}"}
    if count:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        return not getattr(request, "axes_locked_out", False)
    if AxesProxyHandler.is_allowed(request, credentials):
        return True
    request.axes_locked_out = True
    return False
