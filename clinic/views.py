"""Pages of the organisation: the public welcome and locations, sign-up, and each role's home."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from clinic import access, selectors
from clinic.forms import PatientDetailsForm, PatientSignUpForm
from clinic.models import (
    Certification,
    Location,
    OpeningHours,
    Patient,
    Practitioner,
    Role,
    User,
)
from clinic.pages import home_sections
from clinic.services import EmailAlreadyUsed, register_patient

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
    today = timezone.localdate()
    locations = (
        Location.objects.filter(is_active=True)
        .with_dry_needling_flag(today)
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
    if request.user.is_authenticated:
        return redirect("clinic:home")
    form = PatientSignUpForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            patient = register_patient(
                email=data["email"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                **form.patient_details(),
            )
        except EmailAlreadyUsed:
            form.add_error("email", "An account with this email already exists.")
        else:
            login(request, patient.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {patient.first_name}. Your account is ready.")
            return redirect("clinic:patient_home")
    return render(request, "registration/signup.html", {"form": form})


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
        .with_dry_needling_flag(today)
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
