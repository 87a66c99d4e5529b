"""Pages of the organisation: the public welcome and locations, sign-up, and each role's home."""

from __future__ import annotations

import base64
import datetime as dt
import re

import segno
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import PasswordChangeView, PasswordResetConfirmView
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Prefetch, Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import match_token

from clinic import access, account_emails, security, selectors, services
from clinic.audit import record_export
from clinic.demo import demo_code_for
from clinic.exports import csv_response
from clinic.forms import (
    AccessLogFilterForm,
    PasswordCheckForm,
    PatientDetailsForm,
    PatientSignUpForm,
    SecondFactorForm,
    SignUpConfirmForm,
    ThrottledPasswordChangeForm,
)
from clinic.models import (
    STAFF_ROLES,
    AccessLog,
    Certification,
    Location,
    OpeningHours,
    Patient,
    Practitioner,
    Role,
    SignUpRequest,
    User,
)
from clinic.pages import home_sections
from clinic.services import EmailAlreadyUsed

ROLE_HOMES = {
    Role.PATIENT: "clinic:patient_home",
    Role.FRONT_DESK: "clinic:front_desk_home",
    Role.PRACTITIONER: "clinic:practitioner_home",
    Role.MANAGER: "clinic:manager_home",
}


@login_not_required
@require_safe
def welcome(request):
    if request.user.is_authenticated:
        return redirect("clinic:home")
    offering = Location.objects.filter(is_active=True).offering_dry_needling()
    return render(request, "clinic/welcome.html", {"offering": offering})


@require_safe
def home(request):
    """Send each user to the home page of their role."""
    return redirect(ROLE_HOMES[request.user.role])


@login_not_required
@require_safe
def location_list(request):
    locations = (
        Location.objects.filter(is_active=True)
        .with_dry_needling_flag()
        .prefetch_related(
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday"))
        )
    )
    only_dry_needling = request.GET.get("dry_needling") == "1"
    if only_dry_needling:
        locations = locations.filter(offers_dry_needling=True)
    return render(
        request,
        "clinic/location_list.html",
        {"locations": locations, "only_dry_needling": only_dry_needling},
    )


@login_not_required
@require_safe
def location_detail(request, slug: str):
    location = get_object_or_404(
        Location.objects.filter(is_active=True).with_dry_needling_flag(), slug=slug
    )
    today = location.today()
    practitioners = (
        Practitioner.objects.at(location).select_related("user").prefetch_related("certifications")
    )
    return render(
        request,
        "clinic/location_detail.html",
        {
            "location": location,
            "opening_hours": location.opening_hours.order_by("weekday"),
            "practitioners": [(p, p.is_certified_on(today)) for p in practitioners],
            "holidays": location.holidays.filter(date__gte=today)[:5],
        },
    )


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request):
    """A patient signs up; the account exists once the emailed link is used. The page says
    the same whether the address has an account or not (its owner is emailed either way)."""
    if request.user.is_authenticated:
        return redirect("clinic:home")
    form = PatientSignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        valid = form.is_valid()
        email = form.cleaned_data["email"] if valid else request.POST.get("email", "")
        # A locked page is replaced by the lockout page (AxesMiddleware).
        if not security.sign_up_allowed(request, email, count=valid) or not valid:
            return render(request, "registration/signup.html", {"form": form})
        data = form.cleaned_data
        sign_up = services.request_sign_up(
            email=email,
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            **form.patient_details(),
        )
        if sign_up is None:
            account_emails.send_account_email(
                "signup_existing",
                to=email,
                request=request,
                login_url=request.build_absolute_uri(reverse("login")),
                reset_url=request.build_absolute_uri(reverse("password_reset")),
            )
        else:
            link = reverse("clinic:signup_confirm_link", args=[services.sign_up_token(sign_up)])
            account_emails.send_account_email(
                "signup_confirm",
                to=email,
                request=request,
                sign_up=sign_up,
                confirm_url=request.build_absolute_uri(link),
                days=services.SIGN_UP_LINK_MAX_AGE.days,
            )
        return render(
            request,
            "registration/signup_sent.html",
            {"email": email, "days": services.SIGN_UP_LINK_MAX_AGE.days},
        )
    return render(request, "registration/signup.html", {"form": form})


SIGN_UP_TOKEN_SESSION_KEY = "sign_up_token"


@login_not_required
@require_safe
def signup_confirm_link(request, token: str):
    """The emailed link: keep its token in the session and move to an address without it,
    so it is not left in the browser's history or sent on as a Referer (as Django's password
    reset does). Opening the link confirms nothing (mail scanners open links)."""
    request.session[SIGN_UP_TOKEN_SESSION_KEY] = token
    return redirect("clinic:signup_confirm")


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def signup_confirm(request):
    sign_up = services.sign_up_for_token(request.session.get(SIGN_UP_TOKEN_SESSION_KEY, ""))
    if sign_up is None:
        return render(request, "registration/signup_confirm.html", {"sign_up": None})
    form = SignUpConfirmForm(request.POST if request.method == "POST" else None, sign_up=sign_up)
    if request.method == "POST" and form.is_valid():
        request.session.pop(SIGN_UP_TOKEN_SESSION_KEY, None)
        try:
            patient = services.confirm_sign_up(sign_up)
        except EmailAlreadyUsed:
            SignUpRequest.objects.filter(pk=sign_up.pk).delete()
            messages.info(request, "This address has an account already: log in with it.")
            return redirect("login")
        login(request, patient.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {patient.first_name}. Your account is ready.")
        return redirect("clinic:patient_home")
    return render(request, "registration/signup_confirm.html", {"sign_up": sign_up, "form": form})


# --- Role homes --------------------------------------------------------------------------------


@access.patient_required
@require_safe
def patient_home(request):
    patient = access.own_patient_record(request.user)
    offering = Location.objects.filter(is_active=True).offering_dry_needling()
    return render(
        request,
        "clinic/home_patient.html",
        {
            "patient": patient,
            "offering": offering,
            "home_sections": home_sections(Role.PATIENT, request),
        },
    )


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def patient_details(request):
    patient = access.own_patient_record(request.user)
    form = PatientDetailsForm(request.POST if request.method == "POST" else None, instance=patient)
    form.fields["preferred_location"].queryset = Location.objects.filter(is_active=True)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your details are saved.")
        return redirect("clinic:patient_home")
    return render(request, "clinic/patient_details.html", {"form": form, "patient": patient})


@access.role_required(Role.FRONT_DESK)
@require_safe
def front_desk_home(request):
    locations = access.visible_locations(request.user)
    days = selectors.location_days(locations, date_for=lambda loc: loc.today())
    return render(
        request,
        "clinic/home_front_desk.html",
        {"days": days, "home_sections": home_sections(Role.FRONT_DESK, request)},
    )


@access.role_required(Role.PRACTITIONER)
@require_safe
def practitioner_home(request):
    practitioner = access.own_practitioner_record(request.user)
    locations = access.visible_locations(request.user)
    days = selectors.location_days(locations, date_for=lambda loc: loc.today())
    my_days = [
        (day, [s for s in day.shifts if s.practitioner.pk == practitioner.pk]) for day in days
    ]
    today = timezone.localdate()
    certification = practitioner.certification_on(today)
    latest = practitioner.certifications.first()
    return render(
        request,
        "clinic/home_practitioner.html",
        {
            "practitioner": practitioner,
            "my_days": [(day, shifts) for day, shifts in my_days if shifts],
            "certification": certification,
            "expired_certification": None if certification else latest,
            "expires_soon": certification
            and certification.valid_until - today <= dt.timedelta(days=60),
            "home_sections": home_sections(Role.PRACTITIONER, request),
        },
    )


@access.manager_required
@require_safe
def manager_home(request):
    today = timezone.localdate()
    locations = (
        Location.objects.filter(is_active=True)
        .with_dry_needling_flag()
        .annotate(
            staff_count=Count("staff", filter=Q(staff__is_active=True), distinct=True),
            patient_count=Count("patients", distinct=True),
        )
    )
    soon = today + dt.timedelta(days=60)
    certifications = (
        Certification.objects.filter(
            valid_until__lte=soon, valid_until__gte=today - dt.timedelta(days=365)
        )
        .select_related("practitioner__user")
        .order_by("valid_until")
    )
    return render(
        request,
        "clinic/home_manager.html",
        {
            "locations": locations,
            "certifications": certifications,
            "today": today,
            "counts": {
                "patients": Patient.objects.count(),
                "staff": User.objects.filter(is_active=True).exclude(role=Role.PATIENT).count(),
                "practitioners": Practitioner.objects.filter(user__is_active=True).count(),
                "certified": Practitioner.objects.certified_on(today)
                .filter(user__is_active=True)
                .count(),
            },
            "home_sections": home_sections(Role.MANAGER, request),
        },
    )


# --- Two-factor authentication ------------------------------------------------------------------


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site only: redirect() would take a bare word for a URL name to reverse
    # (a 500 on ?next=anything).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


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
                {"codes": codes, "next": _safe_next(request, reverse("clinic:home"))},
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
        return redirect(_safe_next(request, reverse("clinic:home")))
    form = SecondFactorForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            security.second_step_passed(request, device)
            return redirect(_safe_next(request, reverse("clinic:home")))
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


# --- The access log (managers) --------------------------------------------------------------------


def _patients_named(text: str):
    """The patients record numbers (one, or several with commas), or every word of a name
    (case forgiven), point to."""
    numbers = [part.strip() for part in text.split(",")]
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if all(re.fullmatch(r"[0-9]{1,12}", number) for number in numbers):
        return Patient.objects.filter(pk__in=[int(number) for number in numbers])
    named = Patient.objects.all()
    for word in text.split():
        named = named.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return named


def _filtered_access_log(form: AccessLogFilterForm):
    rows = AccessLog.objects.select_related("actor", "patient").order_by("-at", "-id")
    if not form.is_valid():
        return rows, None
    data = form.cleaned_data
    patient = None
    if data["patient"]:
        named = _patients_named(data["patient"])
        # One patient: their access report (its export is then recorded against them);
        # several: every row of any of them.
        matches = list(named[:2])
        if len(matches) == 1:
            patient = matches[0]
        # Their own rows, and the exports that covered them among others.
        rows = rows.filter(
            Q(patient__in=named) | Q(patient_ids__overlap=ArraySubquery(named.values("pk")))
        )
    if data["actor"]:
        rows = rows.filter(actor=data["actor"])
    if data["action"]:
        rows = rows.filter(action=data["action"])
    if data["date_from"]:
        rows = rows.filter(at__date__gte=data["date_from"])
    if data["date_to"]:
        rows = rows.filter(at__date__lte=data["date_to"])
    return rows, patient


@access.manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def access_log(request):
    """Who opened or changed whose health record, when and from where — filterable, and
    exportable as CSV (a patient's access report on request).

    The filters are posted, then come back as an address that holds record numbers and
    dates only: a patient's name typed here never goes into a URL (logs, browser history)."""
    if request.method == "POST":
        posted = AccessLogFilterForm(request.POST)
        if posted.is_valid():
            return redirect(_access_log_address(request, posted.cleaned_data))
        return _access_log_page(request, posted, AccessLog.objects.none(), None)
    form = AccessLogFilterForm(request.GET or None)
    rows, patient = _filtered_access_log(form)
    if request.GET.get("format") == "csv":
        # One entry for the export, naming every patient whose accesses it holds.
        record_export(
            request=request,
            patient_ids=[patient.pk] if patient is not None else _patients_in(rows),
            record_type="clinic.accesslog",
        )
        return _access_log_csv(rows)
    return _access_log_page(request, form, rows, patient)


def _patients_in(rows) -> set[int]:
    """Every patient some of `rows` name, exports' lists included."""
    rows = rows.order_by()
    named = set(rows.exclude(patient=None).values_list("patient_id", flat=True).distinct())
    exported = rows.filter(patient=None).values_list("patient_ids", flat=True)
    return named | {pk for ids in exported.iterator() for pk in ids}


def _listed_groups(rows) -> list[dict]:
    """A patient's list rows (schedules, queues, searches) grouped by who and which list,
    with how many times and when first and last, so that a schedule reloaded all day does
    not bury the views of the patient's clinical record."""
    groups = list(
        rows.filter(action=AccessLog.Action.LIST)
        .order_by()
        .values("actor", "actor_role", "record_type")
        .annotate(times=Count("id"), first=Min("at"), last=Max("at"))
        .order_by("-last")
    )
    people = User.objects.in_bulk({group["actor"] for group in groups if group["actor"]})
    for group in groups:
        group["actor"] = people.get(group["actor"])
    return groups


# How many patients a posted name may stand for in the log's address.
NAMED_PATIENTS_AT_MOST = 100


def _access_log_address(request, data: dict) -> str:
    """The log's address for posted filters: a name becomes the record numbers it finds."""
    query = []
    if data["patient"]:
        found = _patients_named(data["patient"]).order_by("pk").values_list("pk", flat=True)
        ids = list(found[: NAMED_PATIENTS_AT_MOST + 1])
        if len(ids) > NAMED_PATIENTS_AT_MOST:
            ids = ids[:NAMED_PATIENTS_AT_MOST]
            messages.warning(
                request,
                f"More than {NAMED_PATIENTS_AT_MOST} patients match that name: the log shows "
                f"the first {NAMED_PATIENTS_AT_MOST}. Type more of the name to narrow it.",
            )
        query += [("patient", ",".join(map(str, ids)) or "0")]
    if data["actor"]:
        query.append(("actor", data["actor"].pk))
    if data["action"]:
        query.append(("action", data["action"]))
    for name in ("date_from", "date_to"):
        if data[name]:
            query.append((name, data[name].isoformat()))
    if request.POST.get("format") == "csv":
        query.append(("format", "csv"))
    return f"{reverse('clinic:access_log')}?{urlencode(query)}"


def _access_log_page(request, form, rows, patient):
    listed = None
    if patient is not None:
        listed = _listed_groups(rows)
        rows = rows.exclude(action=AccessLog.Action.LIST)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/access_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "patient": patient,
            "listed": listed,
        },
    )


def _access_log_csv(rows) -> StreamingHttpResponse:
    def lines():
        yield [
            "time (UTC)",
            "staff or user",
            "role",
            "patient record",
            "patient",
            "record type",
            "record id",
            "action",
            "IP address",
        ]
        for row in rows.iterator(chunk_size=2000):
            yield [
                row.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                row.actor.email if row.actor else "system",
                row.actor_role,
                row.patient_id or " ".join(map(str, row.patient_ids)),
                row.patient.full_name if row.patient else f"{len(row.patient_ids)} patients",
                row.record_type,
                row.record_id,
                row.action,
                row.ip_address or "",
            ]

    return csv_response(lines(), "access-log.csv")
