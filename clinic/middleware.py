"""Request-wide rules for health data: session lifetimes, the second factor, and no caching."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control

from clinic.models import STAFF_ROLES
from clinic.security import second_step_pending

# Pages reachable before the second factor is given (logging out, setting it up, proving it).
TWO_FACTOR_OPEN = {"logout", "clinic:two_factor_setup", "clinic:two_factor_verify"}


def _login_again(request: HttpRequest, reason: str) -> HttpResponseRedirect:
    # After logging in again the user comes back to the page (a form's draft is kept by the
    # page itself); for a POST, to the page the form was on.
    back = request.get_full_path() if request.method == "GET" else request.path
    logout(request)
    messages.info(request, reason)
    return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': back})}")


class SessionPolicyMiddleware:
    """Staff sessions end after 30 minutes idle and 12 hours in all; patients' after longer
    (settings.SESSION_IDLE_MINUTES / SESSION_MAX_HOURS). Checked on the server, so an old
    cookie is worthless once the time is up."""

    # Refresh the last-seen time at most this often, not on every request.
    TOUCH_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            kind = "staff" if user.role in STAFF_ROLES or user.is_superuser else "patient"
            idle = settings.SESSION_IDLE_MINUTES[kind] * 60
            longest = settings.SESSION_MAX_HOURS[kind] * 3600
            now = int(timezone.now().timestamp())
            session = request.session
            started = session.setdefault("auth_started", now)
            last_seen = session.setdefault("last_seen", now)
            if now - last_seen > idle:
                return _login_again(
                    request,
                    "You were away for a while, so we logged you out to protect "
                    "your information. Please log in again.",
                )
            if now - started > longest:
                return _login_again(
                    request, "Your session has reached its time limit. Please log in again."
                )
            if now - last_seen >= self.TOUCH_SECONDS:
                session["last_seen"] = now
                session.set_expiry(idle)
        return self.get_response(request)


class TwoFactorMiddleware:
    """Staff (and patients who turned it on) must give their second factor before any page
    but logging out and setting it up — the admin included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if second_step_pending(request) and not self._open(request):
            has_device = request.user.totpdevice_set.filter(confirmed=True).exists()
            target = "clinic:two_factor_verify" if has_device else "clinic:two_factor_setup"
            return HttpResponseRedirect(
                f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)

    @staticmethod
    def _open(request) -> bool:
        if request.path.startswith(
            settings.STATIC_URL
            if settings.STATIC_URL.startswith("/")
            else "/" + settings.STATIC_URL
        ):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return True  # an unknown page is a 404 for everyone
        return match.view_name in TWO_FACTOR_OPEN


class NoStoreMiddleware:
    """Pages seen by a logged-in user carry personal (often health) information: no browser
    or proxy may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response
