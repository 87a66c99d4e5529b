"""The requests queue and the front desk's actions on one appointment: confirm, check in,
complete, no-show, cancel and decline. Every change goes through `booking.services`, with
the version of the appointment the page was opened on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import services
from booking.desk import grid
from booking.desk.helpers import appointment_url, record_listed, record_viewed
from booking.forms import (
    DeclineForm,
    DeskCancelForm,
)
from booking.models import (
    Appointment,
    CancelledBy,
    Status,
)
from clinic import access
from clinic.audit import log_access
from clinic.params import whole_number
from clinic.security import safe_next_url


@access.staff_required
@require_safe
def requests_queue(request):
    """Online requests waiting for the clinic, oldest first, at the staff member's locations."""
    locations = list(access.visible_locations(request.user))
    chosen = next((loc for loc in locations if loc.slug == request.GET.get("location")), None)
    waiting = list(
        Appointment.objects.filter(
            status=Status.REQUESTED, location__in=[chosen] if chosen else locations
        )
        .select_related("location", "patient", "service", "course", "room", "practitioner__user")
        .order_by("created_at", "pk")
    )
    described = grid.describe(waiting)
    entries = [described.entries[a.pk] for a in waiting]
    record_listed(request, (a.patient_id for a in waiting), "booking.requests")
    return render(
        request,
        "booking/desk/requests_queue.html",
        {
            "locations": locations,
            "chosen": chosen,
            "to_confirm": [e for e in entries if not e.appointment.proposed_by_clinic],
            "waiting_for_patient": [e for e in entries if e.appointment.proposed_by_clinic],
            "now": timezone.now(),
        },
    )


# --- Actions on an appointment ------------------------------------------------------------------


def _act(
    request,
    pk: int,
    action: Callable[[Appointment, int], Appointment],
    done: Callable[[Appointment], str],
):
    """Apply one change with the version the form was opened on; tell the person what
    happened, and on a clash show the appointment's current state."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    version = whole_number(request.POST.get("version"))
    if version is None:
        messages.error(request, "The form was out of date; here is the appointment as it is now.")
        return redirect(appointment_url(appointment))
    try:
        changed = action(appointment, version)
    except services.StaleAppointment as stale:
        messages.error(request, str(stale))
        return redirect(appointment_url(appointment))
    except services.ConsentNeeded as refused:
        messages.error(request, str(refused))
        return redirect(appointment_url(appointment))
    except services.BookingError as refused:
        messages.error(request, str(refused))
        return redirect(safe_next_url(request, appointment_url(appointment)))
    log_access(request, changed, "change")
    messages.success(request, done(changed))
    return redirect(safe_next_url(request, appointment_url(changed)))


@access.staff_required
@require_POST
def desk_confirm(request, pk: int):
    return _act(
        request,
        pk,
        lambda a, v: services.confirm_request(a, actor=request.user, expected_version=v),
        lambda a: f"Confirmed: {a.patient.full_name}, {grid.clock(a.local_starts_at)}.",
    )


@access.staff_required
@require_POST
def desk_check_in(request, pk: int):
    return _act(
        request,
        pk,
        lambda a, v: services.check_in(a, actor=request.user, expected_version=v),
        lambda a: f"{a.patient.full_name} is checked in.",
    )


@access.staff_required
@require_POST
def desk_complete(request, pk: int):
    return _act(
        request,
        pk,
        lambda a, v: services.change_status(
            a, to=Status.COMPLETED, actor=request.user, reason="Seen", expected_version=v
        ),
        lambda a: f"{a.patient.full_name}'s visit is marked completed.",
    )


@access.staff_required
@require_POST
def desk_no_show(request, pk: int):
    return _act(
        request,
        pk,
        lambda a, v: services.change_status(
            a,
            to=Status.NO_SHOW,
            actor=request.user,
            reason="Did not come",
            expected_version=v,
        ),
        lambda a: f"{a.patient.full_name} is marked as a no-show.",
    )


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def desk_cancel(request, pk: int):
    """Cancel for the patient or the clinic, with the reason; late or not is computed from the
    location's cancellation notice and shown before confirming."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    form = DeskCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return _act(
            request,
            pk,
            lambda a, v: services.cancel_appointment(
                a,
                by=CancelledBy(form.cleaned_data["cancelled_by"]),
                actor=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=v,
            ),
            lambda a: (
                "Cancelled"
                + (" (a late cancellation)." if a.late_cancellation else ".")
                + " The time is free again."
            ),
        )
    record_viewed(request, appointment)
    return render(
        request,
        "booking/desk/cancel.html",
        {
            "appointment": appointment,
            "form": form,
            "late_now": appointment.is_late_cancellation(timezone.now()),
            "next": safe_next_url(request, ""),
        },
    )


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def desk_decline(request, pk: int):
    """Decline an online request with a reason the patient reads on their appointment page."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    form = DeclineForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return _act(
            request,
            pk,
            lambda a, v: services.decline_request(
                a, actor=request.user, reason=form.cleaned_data["reason"], expected_version=v
            ),
            lambda a: f"Request from {a.patient.full_name} declined; they will see your reason.",
        )
    record_viewed(request, appointment)
    return render(
        request,
        "booking/desk/decline.html",
        {"appointment": appointment, "form": form, "next": safe_next_url(request, "")},
    )


# --- Choosing another time (move, propose) ---------------------------------------------------------
