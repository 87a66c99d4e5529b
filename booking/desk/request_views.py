"""The requests queue and the front desk's actions on one appointment: confirm, check in,
complete, no-show, cancel and decline, and taking back a no-show or a check-in set in error. Every change goes through `booking.services`, with
the version of the appointment the page was opened on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import services
from booking.billing import access as billing_access
from booking.billing import payments
from booking.desk import grid
from booking.desk.helpers import appointment_url, record_listed, record_viewed
from booking.forms import (
    DeclineForm,
    DeskCancelForm,
    UndoStatusForm,
)
from booking.models import (
    Appointment,
    CancelledBy,
    Status,
)
from clinic import access
from clinic.audit import log_access
from clinic.models import User
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


def _one_click(change: Callable[..., Appointment], done: Callable[[Appointment], str]):
    """A front-desk button that changes the appointment at once, with no questions:
    `change(appointment, actor=..., expected_version=...)`, then `done` says what happened."""

    @access.staff_required
    @require_POST
    def view(request, pk: int):
        return _act(
            request, pk, lambda a, v: change(a, actor=request.user, expected_version=v), done
        )

    return view


desk_confirm = _one_click(
    services.confirm_request,
    lambda a: f"Confirmed: {a.patient.full_name}, {grid.clock(a.local_starts_at)}.",
)
desk_check_in = _one_click(services.check_in, lambda a: f"{a.patient.full_name} is checked in.")
desk_complete = _one_click(
    partial(services.change_status, to=Status.COMPLETED, reason="Seen"),
    lambda a: f"{a.patient.full_name}'s visit is marked completed.",
)
desk_no_show = _one_click(
    partial(services.change_status, to=Status.NO_SHOW, reason="Did not come"),
    lambda a: f"{a.patient.full_name} is marked as a no-show.",
)


def _ask_then_act(
    request,
    pk: int,
    form_class,
    template: str,
    change: Callable[[Appointment, dict, int], Appointment],
    done: Callable[[Appointment], str],
    initial: dict | None = None,
    **shown: Callable[[Appointment], object],
):
    """An action that asks first (who cancels and why; why a request is declined): its page
    shows the form (filled in with `initial`, and each of `shown`, worked out from the
    appointment); a valid POST applies `change(appointment, cleaned_data, version)`."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        return _act(request, pk, lambda a, v: change(a, form.cleaned_data, v), done)
    record_viewed(request, appointment)
    context = {"appointment": appointment, "form": form, "next": safe_next_url(request, "")}
    return render(request, template, context | {k: f(appointment) for k, f in shown.items()})


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def desk_cancel(request, pk: int):
    """Cancel for the patient or the clinic, with the reason; late or not is computed from the
    location's cancellation notice and shown before confirming."""
    return _ask_then_act(
        request,
        pk,
        DeskCancelForm,
        "booking/desk/cancel.html",
        lambda a, data, v: services.cancel_appointment(
            a,
            by=CancelledBy(data["cancelled_by"]),
            actor=request.user,
            reason=data["reason"],
            expected_version=v,
        ),
        lambda a: (
            "Cancelled"
            + (" (a late cancellation)." if a.late_cancellation else ".")
            + " The time is free again."
        ),
        late_now=lambda a: a.cancelling_is_late(timezone.now()),
    )


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def desk_decline(request, pk: int):
    """Decline an online request with a reason the patient reads on their appointment page."""
    return _ask_then_act(
        request,
        pk,
        DeclineForm,
        "booking/desk/decline.html",
        lambda a, data, v: services.decline_request(
            a, actor=request.user, reason=data["reason"], expected_version=v
        ),
        lambda a: f"Request from {a.patient.full_name} declined; they will see your reason.",
    )


def _no_show_undone(appointment: Appointment, user) -> str:
    """What the desk is told once a no-show is undone: the patient is checked in, and (to those
    who take payments) any money they paid on its missed-visit fee, credited now, is theirs to
    move to the visit's invoice or be given back, not to be asked for twice."""
    said = f"{appointment.patient.full_name} is checked in: the no-show is undone."
    if user.role not in billing_access.TAKES_PAYMENTS:
        return said
    for fee, amount in payments.missed_visit_fees_in_favour(appointment):
        said += (
            f" {amount} {fee.currency} paid on its missed-visit fee {fee.display_number} is now "
            "the patient's: move it to the visit's invoice after check-out, or refund it."
        )
    return said


def _undo(
    undo: Callable[..., Appointment],
    undoes: str,
    done: Callable[[Appointment, User], str],
    suggested: str,
):
    """A status set in error (`undoes`) taken back on the visit's day: the page asks what
    happened (`suggested` filled in), then `undo` applies it and `done(appointment, user)`
    says what it did. The page offers its own undo only: opened on an appointment with another
    status (a colleague's undo since, an old link), it says so."""

    @access.staff_required
    @require_http_methods(["GET", "HEAD", "POST"])
    def view(request, pk: int):
        return _ask_then_act(
            request,
            pk,
            UndoStatusForm,
            "booking/desk/undo_status.html",
            lambda a, data, v: undo(
                a, actor=request.user, reason=data["reason"], expected_version=v
            ),
            lambda a: done(a, request.user),
            initial={"reason": suggested},
            undoes=lambda a: undoes,
        )

    return view


desk_undo_no_show = _undo(services.undo_no_show, Status.NO_SHOW, _no_show_undone, "Arrived late")
desk_undo_check_in = _undo(
    services.undo_check_in,
    Status.CHECKED_IN,
    lambda a, user: f"{a.patient.full_name} is booked again: the check-in is undone.",
    "Checked in by mistake",
)

# --- Choosing another time (move, propose) ---------------------------------------------------------
