"""A patient's online request: the locations offering dry needling, the free times of one
(a day at a time), holding the chosen time and confirming the request.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import services
from booking.availability import Slot, SlotQuery
from booking.billing.notices import policy_notice
from booking.forms import (
    NearestForm,
    RequestConfirmForm,
    SlotChoiceForm,
    slot_choice_value,
)
from booking.models import (
    Status,
)
from booking.places import nearest_first, position_of
from booking.selectors import load_availability
from clinic import access, dates
from clinic.audit import log_access
from clinic.models import Location, Practitioner, Service, ServiceKind


def offering_locations():
    return Location.objects.filter(is_active=True).offering_dry_needling()


@access.patient_required
@require_safe
def request_start(request):
    """Step 1: choose a location that offers dry needling, nearest first if the patient says where."""
    form = NearestForm(request.GET or None)
    locations = list(offering_locations())
    ranked = [(location, None) for location in locations]
    unknown_place = False
    if form.is_valid() and form.cleaned_data["near"]:
        origin = position_of(form.cleaned_data["near"], locations)
        if origin is None:
            unknown_place = True
        else:
            ranked = nearest_first(locations, origin)
    return render(
        request,
        "booking/request_start.html",
        {"form": form, "ranked": ranked, "unknown_place": unknown_place},
    )


def assessment_service() -> Service:
    return get_object_or_404(Service, kind=ServiceKind.ASSESSMENT, is_active=True)


def _slot_days(
    slots: list[Slot], location: Location, names: dict[int, str], one_per_time: bool
) -> dict[dt.date, list[dict]]:
    """Slots grouped by local date, each as a choice; with "anyone", one choice per time
    (the first practitioner free then)."""
    days: dict[dt.date, dict] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(location.zone)
        times = days.setdefault(local.date(), {})
        key = local.time() if one_per_time else (local.time(), slot.practitioner_id)
        if key not in times:
            times[key] = {
                "value": slot_choice_value(slot.practitioner_id, slot.starts_at),
                "starts_at": slot.starts_at,
                "practitioner": names.get(slot.practitioner_id, ""),
            }
    return {day: list(times.values()) for day, times in days.items()}


def _local_days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _chosen_day(request, free_days: list[dt.date]) -> dt.date | None:
    """The day whose times the page shows: `?day=` when it has free times, else the first free
    day after it (`?from=`, the week an older address asked for, counts the same), else the
    first free day."""
    asked = dates.date_in_query(request.GET, "day") or dates.date_in_query(request.GET, "from")
    if asked is not None:
        later = [day for day in free_days if day >= asked]
        if later:
            return later[0]
    return free_days[0] if free_days else None


def slot_page_context(
    request,
    *,
    location: Location,
    service: Service,
    minutes: int,
    patient,
    practitioner_param: str,
    needs_certification: bool,
    ignore_appointment_ids=(),
    within: tuple[dt.datetime | None, dt.datetime | None] = (None, None),
) -> dict:
    """The free times of one day for the slot picker, the days with free times to choose
    from, and the first free time of all; only `within` (from, until) when given."""
    now = timezone.now()
    horizon_end = now + dt.timedelta(days=location.booking_horizon_days)
    window_start = max(now, within[0]) if within[0] else now
    horizon_end = min(horizon_end, within[1]) if within[1] else horizon_end
    horizon_end = max(horizon_end, window_start)
    availability = load_availability(
        location=location,
        window_start=window_start,
        window_end=horizon_end,
        patient=patient,
        ignore_appointment_ids=ignore_appointment_ids,
        now=now,
    )
    # The practitioners a patient may pick: with needling in view, those whose certification
    # is current on some day they could book (an expired one does not count).
    days = _local_days(location.today(), horizon_end.astimezone(location.zone).date())
    choices = [
        p
        for p in availability.practitioners.values()
        if not needs_certification
        or any(availability.calendars[p.pk].is_certified_on(day) for day in days)
    ]
    chosen_ids = None
    if practitioner_param and practitioner_param != "anyone":
        try:
            chosen_ids = [int(practitioner_param)]
        except ValueError:
            chosen_ids = None
    query = SlotQuery(
        window_start=window_start,
        window_end=horizon_end,
        length=dt.timedelta(minutes=minutes),
        now=now,
        needs_certification=needs_certification,
        for_patient=True,
    )
    slots = availability.slots(query, chosen_ids)
    names = {p.pk: p.name for p in availability.practitioners.values()}
    free_days = _slot_days(slots, location, names, one_per_time=chosen_ids is None)
    day = _chosen_day(request, list(free_days))
    return {
        "location": location,
        "service": service,
        "minutes": minutes,
        "practitioners": sorted(choices, key=lambda p: p.name),
        "practitioner_param": practitioner_param or "anyone",
        "free_days": [(free_day, len(times)) for free_day, times in free_days.items()],
        "day": day,
        "times": free_days.get(day, []),
        "first_available": next(iter(free_days.values()))[0] if free_days else None,
        "zone_name": location.now().tzname(),
    }


@access.patient_required
@require_safe
def request_slots(request, slug: str):
    """Step 2: the free assessment times of a day at the location, earliest first."""
    location = get_object_or_404(offering_locations(), slug=slug)
    service = assessment_service()
    patient = access.own_patient_record(request.user)
    context = slot_page_context(
        request,
        location=location,
        service=service,
        minutes=service.default_minutes,
        patient=patient,
        practitioner_param=request.GET.get("practitioner", "anyone"),
        needs_certification=True,
    )
    context["form_action"] = reverse("booking:request_hold", args=[location.slug])
    context["page_url"] = reverse("booking:request_slots", args=[location.slug])
    return render(request, "booking/request_slots.html", context)


@access.patient_required
@require_POST
def request_hold(request, slug: str):
    """Step 3: hold the chosen time for the patient while they confirm."""
    location = get_object_or_404(offering_locations(), slug=slug)
    patient = access.own_patient_record(request.user)
    form = SlotChoiceForm(request.POST)
    back = reverse("booking:request_slots", args=[location.slug])
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["slot"]))
        return redirect(back)
    practitioner_id, starts_at = form.cleaned_data["slot"]
    practitioner = get_object_or_404(Practitioner.objects.at(location), pk=practitioner_id)
    service = assessment_service()
    try:
        hold = services.place_hold(
            patient=patient,
            location=location,
            practitioner=practitioner,
            service=service,
            starts_at=starts_at,
            minutes=service.default_minutes,
            placed_by=request.user,
            # The page offers only dry-needling practitioners; a tampered form gets no other.
            certified_only=True,
        )
    except services.BookingError as refused:
        messages.error(
            request,
            f"This time was just taken or is no longer available: {refused} "
            "Here are the times free now.",
        )
        return redirect(back)
    return redirect("booking:request_confirm", hold_pk=hold.pk)


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_appointment_page(request, hold_pk: int):
    """Step 4: confirm the request. Submitting twice finds the appointment made the first time."""
    hold = booking_access.get_own_hold(request.user, hold_pk)
    if hold.appointment_id:
        messages.info(request, "You have already requested this appointment.")
        return redirect("booking:appointment_detail", pk=hold.appointment_id)
    form = RequestConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            appointment = services.request_appointment(
                hold=hold, actor=request.user, note=form.cleaned_data["note"]
            )
        except services.HoldReplaced as replaced:
            messages.error(request, str(replaced))
            return redirect("booking:request_slots", slug=hold.location.slug)
        except services.BookingError as refused:
            messages.error(request, f"This time was just taken: {refused} Please choose another.")
            return redirect("booking:request_slots", slug=hold.location.slug)
        log_access(request, appointment, "create")
        if appointment.status == Status.CONFIRMED:
            messages.success(request, "Your assessment is booked and confirmed.")
        else:
            messages.success(
                request,
                "Your request is sent. The clinic will confirm it shortly; "
                "the time is kept for you meanwhile.",
            )
        return redirect("booking:appointment_detail", pk=appointment.pk)
    return render(
        request,
        "booking/request_confirm.html",
        {
            "hold": hold,
            "form": form,
            "expired": not hold.is_live(),
            "fee_policy": policy_notice(hold.location),
        },
    )


# --- A patient's appointments -----------------------------------------------------------------------
