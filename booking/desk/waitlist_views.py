"""A location's waitlist board: who is waiting for what, offering a freed time by hand,
adding a patient and taking them off.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import services
from booking.availability import SlotQuery
from booking.desk import grid
from booking.desk.badges import screening_flags
from booking.desk.helpers import (
    NEXT_DAYS_SEARCHED,
    form_problems,
    record_listed,
    render_location_page,
    toolbar,
)
from booking.desk.move_views import bookable_services, slot_practitioner
from booking.forms import (
    DeskBookingForm,
    DeskWaitlistForm,
    slot_choice_value,
)
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.selectors import load_availability
from clinic import access
from clinic.audit import record_access
from clinic.models import AccessLog, Practitioner


@access.staff_required
@require_safe
def waitlist_board(request, slug: str):
    """Who is waiting for an earlier time at the location, first come first served, and the
    times freed lately."""
    location = access.get_visible_location(request.user, slug)
    now = timezone.now()
    today = now.astimezone(location.zone).date()
    entries = list(
        WaitlistEntry.objects.filter(
            location=location,
            state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED],
        )
        # A place that can never be offered a time says why, in the same query.
        .with_practitioner_standing(today, now=now)
        .select_related("patient", "location", "service", "practitioner__user", "replaces")
        .order_by("created_at", "pk")
    )
    open_offers = {
        offer.entry_id: offer
        for offer in WaitlistOffer.objects.filter(
            entry__in=entries, state=WaitlistOffer.State.OPEN
        ).select_related("hold__practitioner__user")
    }
    # A time freed and booked again since (the same practitioner then busy) is not offered.
    booked_again = Appointment.objects.filter(
        practitioner=OuterRef("practitioner"),
        status__in=ACTIVE_STATUSES,
        starts_at__lt=OuterRef("ends_at"),
        ends_at__gt=OuterRef("starts_at"),
    )
    freed = list(
        Appointment.objects.filter(
            ~Exists(booked_again),
            location=location,
            status=Status.CANCELLED,
            starts_at__gt=now,
            events__to_status=Status.CANCELLED,
            events__at__gte=now - dt.timedelta(days=7),
        )
        .select_related("service", "practitioner__user")
        .order_by("starts_at")
        .distinct()[:20]
    )
    flags = screening_flags(request, (entry.patient_id for entry in entries))
    record_listed(request, (entry.patient_id for entry in entries), "booking.waitlistentry")
    context = toolbar(request, location, "waitlist") | {
        "rows": [
            (entry, open_offers.get(entry.pk), flags.get(entry.patient_id, [])) for entry in entries
        ],
        "freed": freed,
        "now": now,
    }
    return render_location_page(request, location, "booking/desk/waitlist_board.html", context)


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_offer(request, pk: int):
    """Offer a waiting patient a free time that suits them, by hand."""
    entry = booking_access.get_visible_waitlist_entry(request.user, pk)
    board = reverse("booking:waitlist_board", args=[entry.location.slug])
    if request.method == "POST":
        form = DeskBookingForm(request.POST)
        if form.is_valid():
            practitioner_id, starts_at = form.cleaned_data["slot"]
            try:
                practitioner = slot_practitioner(entry.location, practitioner_id)
                offer = services.offer_slot_by_hand(
                    entry=entry, practitioner=practitioner, starts_at=starts_at, actor=request.user
                )
            except services.BookingError as refused:
                messages.error(request, f"{refused} Nothing was offered.")
            else:
                local = offer.hold.starts_at.astimezone(entry.location.zone)
                messages.success(
                    request,
                    f"Offered {local:%a %-d %b} {grid.clock(local)} to "
                    f"{entry.patient.full_name}; it is kept for them until the offer ends.",
                )
                return redirect(board)
        else:
            messages.error(request, form_problems(form))
        entry.refresh_from_db()
    now = timezone.now()
    location = entry.location
    window_end = now + dt.timedelta(days=NEXT_DAYS_SEARCHED)
    availability = load_availability(
        location=location,
        window_start=now,
        window_end=window_end,
        patient=entry.patient,
        practitioner_ids=[entry.practitioner_id] if entry.practitioner_id else None,
        # The appointment the place would move does not stand in the way of its earlier time.
        ignore_appointment_ids=(entry.replaces_id,) if entry.replaces_id else (),
        now=now,
    )
    query = SlotQuery.for_service(
        entry.service, entry.minutes, now, window_end, now=now, for_patient=False
    )
    if entry.chosen_online:
        # The patient's own place: only practitioners they could have booked online.
        query = replace(query, needs_certification=True)
    slots = availability.slots(query)
    names = {p.pk: p.name for p in availability.practitioners.values()}
    days: dict[dt.date, list] = {}
    seen = set()
    for slot in slots:
        local_start = slot.starts_at.astimezone(location.zone)
        local_end = slot.ends_at.astimezone(location.zone)
        suits = entry.matches(
            local_start=local_start,
            local_end=local_end,
            practitioner_id=slot.practitioner_id,
            service_id=entry.service_id,
        )
        if not suits or slot.start in seen or slot.starts_at < now + dt.timedelta(hours=1):
            continue
        seen.add(slot.start)
        days.setdefault(local_start.date(), []).append(
            {
                "value": slot_choice_value(slot.practitioner_id, slot.starts_at),
                "time": grid.clock(local_start),
                "practitioner": names.get(slot.practitioner_id, ""),
            }
        )
    return render(
        request,
        "booking/desk/waitlist_offer.html",
        {"entry": entry, "days": days, "board": board, "searched_days": NEXT_DAYS_SEARCHED},
    )


@access.staff_required
@require_POST
def waitlist_remove(request, pk: int):
    entry = booking_access.get_visible_waitlist_entry(request.user, pk)
    if services.leave_waitlist(entry):
        messages.success(request, f"{entry.patient.full_name} is off the waitlist.")
    else:
        messages.info(
            request, f"{entry.patient.full_name} is no longer waiting: nothing was changed."
        )
    return redirect("booking:waitlist_board", slug=entry.location.slug)


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_add(request, slug: str, patient_pk: int):
    """Put a patient on the waitlist for them (they asked by phone or at the counter)."""
    location = access.get_visible_location(request.user, slug)
    patient = access.get_visible_patient(request.user, patient_pk)
    offered = bookable_services()
    form = DeskWaitlistForm(
        request.POST if request.method == "POST" else None,
        practitioners=Practitioner.objects.at(location).select_related("user"),
        services=offered,
        replaceable=services.replaceable_appointments(patient=patient, location=location),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.join_waitlist(
                patient=patient,
                location=location,
                service=form.cleaned_data["service"],
                minutes=form.cleaned_data["minutes"],
                actor=request.user,
                **form.preferences(),
            )
        except services.BookingError as refused:
            form.show_refusal(refused)
        else:
            record_access(
                actor=request.user,
                patient=patient,
                record_type="booking.waitlistentry",
                action=AccessLog.Action.CREATE,
                request=request,
            )
            messages.success(request, f"{patient.full_name} is on the waitlist at {location}.")
            return redirect("booking:waitlist_board", slug=location.slug)
    record_access(
        actor=request.user, patient=patient, record_type="booking.waitlistentry", request=request
    )
    return render(
        request,
        "booking/desk/waitlist_add.html",
        {"location": location, "patient": patient, "form": form},
    )


# --- The patient's answer to a proposed time ----------------------------------------------------
