"""A patient's side of the waitlist: joining it, leaving it, and answering an offer of a
freed time.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from booking import access as booking_access
from booking import services
from booking.forms import (
    WaitlistForm,
)
from booking.selectors import practitioners_patients_may_choose
from booking.views.requests import assessment_service, offering_locations
from clinic import access
from clinic.audit import log_access
from clinic.params import whole_number


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def join_waitlist_page(request, slug: str):
    location = get_object_or_404(offering_locations(), slug=slug)
    patient = access.own_patient_record(request.user)
    service = assessment_service()
    # An assessment already booked here is brought forward, never doubled: the form asks which
    # (from its page's link, `?appointment=`, that one is chosen).
    replaceable = services.replaceable_appointments(
        patient=patient, location=location, service=service
    )
    chosen = whole_number(request.GET.get("appointment"))
    # Only those the booking pages offer: a tampered choice is refused on its field.
    form = WaitlistForm(
        request.POST if request.method == "POST" else None,
        practitioners=practitioners_patients_may_choose(location),
        replaceable=replaceable,
        initial={"replaces": chosen} if chosen else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.join_waitlist(
                patient=patient,
                location=location,
                service=service,
                minutes=service.default_minutes,
                actor=request.user,
                **form.preferences(),
            )
        except services.BookingError as refused:
            form.show_refusal(refused)
        else:
            messages.success(
                request,
                f"You are on the waitlist at {location}. If an earlier time frees "
                "up, we will offer it to you here.",
            )
            return redirect("booking:my_appointments")
    return render(request, "booking/waitlist_join.html", {"form": form, "location": location})


@access.patient_required
@require_POST
def leave_waitlist_page(request, pk: int):
    entry = booking_access.get_own_waitlist_entry(request.user, pk)
    if services.leave_waitlist(entry):
        messages.success(request, "You have left the waitlist.")
    else:
        messages.info(request, "You were no longer on this waitlist: nothing was changed.")
    return redirect("booking:my_appointments")


@access.patient_required
@require_POST
def accept_offer_page(request, pk: int):
    offer = booking_access.get_own_offer(request.user, pk)
    try:
        appointment = services.accept_offer(offer, actor=request.user)
    except services.BookingError as refused:
        messages.error(request, str(refused))
        return redirect("booking:my_appointments")
    if offer.entry.replaces_id:
        log_access(request, appointment, "change")
        messages.success(request, "The earlier time is yours: your appointment is moved there.")
    else:
        log_access(request, appointment, "create")
        messages.success(request, "The earlier time is yours: your appointment is booked.")
    return redirect("booking:appointment_detail", pk=appointment.pk)


@access.patient_required
@require_POST
def decline_offer_page(request, pk: int):
    offer = booking_access.get_own_offer(request.user, pk)
    try:
        services.decline_offer(offer)
    except services.BookingError as refused:
        messages.error(request, str(refused))
        return redirect("booking:my_appointments")
    messages.info(request, "Offer declined. You keep your place on the waitlist.")
    return redirect("booking:my_appointments")


# --- Booking a course (practitioners and front desk) ----------------------------------------------
