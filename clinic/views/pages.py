"""Pages of the organisation: the public welcome and locations, sign-up, and each role's home."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from clinic import access, account_emails, security, selectors, services
from clinic.dates import clinic_today
from clinic.forms import (
    PatientDetailsForm,
    PatientSignUpForm,
    SignUpConfirmForm,
)
from clinic.models import (
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
@never_cache  # a re-shown form carries the passwords typed (PatientSignUpForm)
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
    # On the clock of where they work: the server's UTC date is tomorrow every evening.
    home = locations.first()
    today = home.today() if home else clinic_today()
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
    today = clinic_today()
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
