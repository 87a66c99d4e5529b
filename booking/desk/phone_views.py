"""Patients who phone or walk in: finding them (or registering a new patient) and booking them
into the time picked on the schedule.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from booking import gates, services
from booking.desk import grid, patient_search
from booking.desk.badges import screening_flags
from booking.desk.helpers import (
    day_url,
    done,
    record_listed,
    render_location_page,
    toolbar,
)
from booking.desk.move_views import (
    book_chosen_time,
    bookable_services,
    carried_from_schedule,
    picked_summary,
    slot_page,
)
from booking.forms import (
    NewPatientForm,
    PatientSearchForm,
    parse_slot_choice,
)
from booking.models import (
    ACTIVE_STATUSES,
    LONGEST_APPOINTMENT,
    Appointment,
)
from clinic import access
from clinic.audit import record_access
from clinic.params import positive_whole_number, whole_number


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def find_patient(request, slug: str):
    """Find the patient on the phone or at the counter, or go on to add them.

    What is typed travels in the body of a POST, never in the address: a name, phone number
    or birth date in a URL would stay in server and proxy logs and the browser's history."""
    location = access.get_visible_location(request.user, slug)
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    results, close = [], False
    searched = False
    if form.is_valid():
        terms = patient_search.parse_terms(form.cleaned_data["q"], form.cleaned_data["born"])
        if terms:
            searched = True
            results, close = patient_search.find_patients(
                access.visible_patients(request.user), terms
            )
    flags = screening_flags(request, (patient.pk for patient in results))
    record_listed(request, (patient.pk for patient in results), "booking.patient_search")
    carried = carried_from_schedule(request)
    context = toolbar(request, location, "book") | {
        "form": form,
        "results": [(patient, flags.get(patient.pk, [])) for patient in results],
        "close": close,
        "searched": searched,
        "carried": carried,
        "carried_query": urlencode(carried),
        "picked": picked_summary(location, carried),
    }
    return render_location_page(request, location, "booking/desk/find_patient.html", context)


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_patient(request, slug: str):
    """Add a patient with the minimum details; warn first if they seem to exist already."""
    location = access.get_visible_location(request.user, slug)
    # From the search page's "New patient" button: start with the names that were searched.
    from_search = request.method == "POST" and "from_search" in request.POST
    adding = request.method == "POST" and not from_search
    form = NewPatientForm(request.POST if adding else None)
    duplicates = []
    if adding and form.is_valid():
        data = form.cleaned_data
        # "It is someone else" is said of the patients the page showed: one added since (the
        # button clicked twice, a colleague at the same moment) is shown before adding again.
        seen = {positive_whole_number(pk) for pk in request.POST.getlist("seen")}
        try:
            patient = services.register_patient_at_desk(
                location=location,
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                email=data["email"],
                duplicates=partial(
                    patient_search.possible_duplicates,
                    access.visible_patients(request.user),
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    date_of_birth=data["date_of_birth"],
                ),
                seen=seen if request.POST.get("confirm_new") == "1" else (),
            )
        except services.PossibleDuplicates as possible:
            duplicates = possible.patients
        else:
            record_access(
                actor=request.user,
                patient=patient,
                record=patient,
                action="create",
                request=request,
            )
            messages.success(request, f"{patient.full_name} is added at {location.name}.")
            url = reverse("booking:book_for_patient", args=[location.slug, patient.pk])
            carried = carried_from_schedule(request)
            return redirect(f"{url}?{urlencode(carried)}" if carried else url)
    elif from_search:
        form.initial = _names_from(request.POST.get("q", ""))
    return render(
        request,
        "booking/desk/new_patient.html",
        {
            "location": location,
            "form": form,
            "duplicates": duplicates,
            "carried": carried_from_schedule(request),
        },
    )


def _names_from(typed: str) -> dict:
    words = [w for w in typed.split() if not any(c.isdigit() for c in w) and "@" not in w]
    if len(words) >= 2:
        return {"first_name": words[0].title(), "last_name": " ".join(words[1:]).title()}
    return {"last_name": words[0].title()} if words else {}


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def book_for_patient(request, slug: str, patient_pk: int):
    """Book an assessment (or re-assessment) for a patient on the phone or at the counter; for
    an assessed patient, go on to book their course."""
    location = access.get_visible_location(request.user, slug)
    patient = access.get_visible_patient(request.user, patient_pk)
    offered = bookable_services()
    data = request.POST if request.method == "POST" else request.GET
    service = next((s for s in offered if s.kind == data.get("service")), None) or (
        offered[0] if offered else None
    )
    if service is None:
        messages.error(request, "No service can be booked yet: ask a manager to set them up.")
        return redirect("booking:location_day", slug=location.slug)
    minutes = whole_number(data.get("minutes"))
    if minutes not in service.allowed_minutes:
        minutes = service.default_minutes
    if request.method == "POST":
        how = "walk-in" if request.POST.get("channel") == "walk_in" else "phone"
        appointment, refused = book_chosen_time(
            request,
            location,
            partial(
                services.book_appointment,
                patient=patient,
                service=service,
                minutes=minutes,
                reason="Booked at the counter (walk-in)" if how == "walk-in" else "Booked by phone",
            ),
        )
        already = _booked_already(request, location, patient, service, minutes) if refused else None
        if already is not None:
            # "Book" clicked twice, or sent again from the back button: the first click booked it.
            appointment, refused, said = already, None, "Already booked"
        else:
            said = "Booked"
        if refused is not None:
            messages.error(request, f"{refused} Nothing was booked; here are the times free now.")
        elif appointment:
            local = appointment.local_starts_at
            return done(
                request,
                f"{said}: {patient.full_name}, {service.name}, {local:%a %-d %b} "
                f"{grid.clock(local)} with {appointment.practitioner.name}.",
                day_url(location, local.date()),
            )
    record_access(actor=request.user, patient=patient, record=patient, request=request)
    upcoming = list(
        Appointment.objects.filter(
            patient=patient,
            status__in=ACTIVE_STATUSES,
            ends_at__gte=timezone.now(),
            starts_at__gt=timezone.now() - LONGEST_APPOINTMENT,
        )
        .select_related("location", "service", "course", "practitioner__user")
        .order_by("starts_at")[:5]
    )
    overview = gates.intake_overview([patient.pk])[patient.pk]
    context = slot_page(
        request,
        location=location,
        locations=[location],
        service=service,
        minutes=minutes,
        patient=patient,
        keep={"service": service.kind, "minutes": minutes},
    )
    context |= {
        "location": location,
        "patient": patient,
        "services": offered,
        "service": service,
        "minutes": minutes,
        "upcoming": upcoming,
        "overview": overview,
        "gate": gates.course_gate(patient),
        "page_url": reverse("booking:book_for_patient", args=[location.slug, patient.pk]),
        "channel": request.POST.get("channel", "phone"),
    }
    return render(request, "booking/desk/book_for_patient.html", context)


def _booked_already(request, location, patient, service, minutes: int) -> Appointment | None:
    """The patient's appointment at exactly the time, with the practitioner, for the service
    and the length chosen, when they already have it (a refused booking's form, sent twice)."""
    parsed = parse_slot_choice(request.POST.get("slot", ""))
    if parsed is None:
        return None
    practitioner_id, starts_at = parsed
    return (
        Appointment.objects.filter(
            patient=patient,
            location=location,
            practitioner_id=practitioner_id,
            service=service,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=minutes),
            status__in=ACTIVE_STATUSES,
        )
        .select_related("location", "practitioner__user")
        .first()
    )


# --- Booking a session of a course again ---------------------------------------------------------
