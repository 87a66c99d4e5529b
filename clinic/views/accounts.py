"""Signing in safely: the authenticator (set up, second step, manage), changing a password, a
password reset that lifts the lockout, and the 400 page that says what was refused.
"""

from __future__ import annotations

import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import PasswordChangeView, PasswordResetConfirmView
from django.core.exceptions import BadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods
from django_otp import match_token

from clinic import account_emails, security
from clinic.demo import demo_code_for
from clinic.forms import (
    PasswordCheckForm,
    SecondFactorForm,
    ThrottledPasswordChangeForm,
)
from clinic.models import (
    STAFF_ROLES,
    Role,
)

# --- Two-factor authentication ------------------------------------------------------------------


def _to_second_step(request):
    """Pages that change the second step first ask for it, when the account has one."""
    return redirect(f"{reverse('clinic:two_factor_verify')}?{urlencode({'next': request.path})}")


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_setup(request):
    """Link an authenticator app: scan the code, type one code to prove it works, keep the
    recovery codes. For an account that has one already, this replaces it, and only a session
    that passed the second step and has just typed the password again may (security)."""
    replacing = security.has_confirmed_device(request.user)
    if replacing and not request.user.is_verified():
        return _to_second_step(request)
    if not security.may_set_up_authenticator(request):
        messages.info(request, "To replace your authenticator app, type your password again.")
        return redirect("clinic:two_factor_manage")
    device = security.pending_totp_device(request)
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            codes, replaced = security.confirm_totp_device(device)
            request.session.pop(security.PENDING_DEVICE_SESSION_KEY, None)
            request.session.pop(security.PASSWORD_CONFIRMED_SESSION_KEY, None)
            security.second_step_passed(request, device)
            request.session[security.SECOND_FACTOR_SESSION_KEY] = True
            account_emails.second_factor_turned_on(request, request.user, replaced=replaced)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": security.safe_next_url(request, reverse("clinic:home"))},
            )
        form.add_error(
            "token",
            "That code did not match. Check the time on your phone and try the newest code.",
        )
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": segno.make(device.config_url, error="m").svg_inline(
                scale=5, dark="#000", light="#fff"
            ),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "next": request.GET.get("next", ""),
            "replacing": replacing,
            "required": security.second_factor_required(request.user)
            or request.user.role in STAFF_ROLES,
        },
    )


def _code_refused_message(user) -> str:
    """Wrong codes slow down the next tries (django-otp throttling); say how long to wait."""
    from django_otp import devices_for_user

    waits = []
    for device in devices_for_user(user):
        allowed, details = device.verify_is_allowed()
        if not allowed and details and details.get("locked_until"):
            waits.append(details["locked_until"])
    if waits:
        seconds = max(1, int((max(waits) - timezone.now()).total_seconds()) + 1)
        return f"That code did not work. After several wrong codes, wait {seconds} seconds before the next try."
    return "That code did not work. Codes change every 30 seconds; try the newest one."


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request):
    """The second step of logging in: a code from the authenticator app or a recovery code."""
    if request.user.is_verified():
        return redirect(security.safe_next_url(request, reverse("clinic:home")))
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            security.second_step_passed(request, device)
            return redirect(security.safe_next_url(request, reverse("clinic:home")))
        form.add_error("token", _code_refused_message(request.user))
    return render(
        request,
        "registration/two_factor_verify.html",
        {
            "form": form,
            "next": request.GET.get("next", ""),
            "demo_code": demo_code_for(request.user),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_manage(request):
    """See whether two-step login is on; replace the authenticator, get new recovery codes,
    and — patients only — turn it off. Each change needs the password typed again (throttled
    as logins are) and, once two-step login is on, the second step passed in this session."""
    enabled = security.has_confirmed_device(request.user)
    if enabled and not request.user.is_verified():
        return _to_second_step(request)
    may_turn_off = request.user.role == Role.PATIENT
    form = PasswordCheckForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        if action == "replace" and enabled:
            security.note_password_confirmed(request)
            return redirect("clinic:two_factor_setup")
        if action == "codes" and enabled:
            codes = security.new_recovery_codes(request.user)
            account_emails.recovery_codes_reissued(request, request.user)
            return render(
                request,
                "registration/two_factor_codes.html",
                {"codes": codes, "next": reverse("clinic:two_factor_manage")},
            )
        if action == "off" and enabled and may_turn_off:
            security.turn_off_second_factor(request.user)
            request.session[security.SECOND_FACTOR_SESSION_KEY] = False
            account_emails.second_factor_turned_off(request, request.user)
            messages.success(request, "Two-step login is off.")
            return redirect("clinic:two_factor_manage")
        messages.error(request, "That change is not available for your account.")
    return render(
        request,
        "registration/two_factor_manage.html",
        {"enabled": enabled, "may_turn_off": may_turn_off, "form": form},
    )


class PasswordChange(PasswordChangeView):
    """Django's password change page; the old password is throttled as logins are (forms)."""

    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return super().get_form_kwargs() | {"request": self.request}


@login_not_required
def bad_request(request, exception):
    """The 400 page. For the app's own refusals (`BadRequest("...")`: a date no calendar holds,
    an export's damaged filters) it says what was wrong; other 400s (a forged Host header…)
    say nothing about themselves."""
    reason = str(exception) if type(exception) is BadRequest else ""
    return render(request, "400.html", {"reason": reason}, status=400)


class PasswordResetConfirm(PasswordResetConfirmView):
    """Django's page behind the emailed reset link. The locked-out page offers it as the way
    back in, so a new password set through it lifts the account's lockout."""

    def form_valid(self, form):
        response = super().form_valid(form)
        security.forget_account_failures(form.user)
        return response
