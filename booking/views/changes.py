"""A patient cancelling or moving their own appointment: one flow for the two ways in, logged
in (booking.views.appointments) or by the signed link in an email (booking.notifications.views).
The ways in differ only in who they say the patient is, where the pages around the appointment
are, and what the patient is told afterwards; `WayIn` carries those differences.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from booking import services
from booking.billing.notices import late_cancel_notice
from booking.forms import CancelForm, SlotChoiceForm
from booking.models import Appointment
from booking.views.requests import slot_page_context
from clinic.audit import record_access
from clinic.models import Practitioner, User
from clinic.params import whole_number


@dataclass(frozen=True)
class WayIn:
    """How the patient reached the page, and the pages around it."""

    # Who the patient is: the logged-in user, or the appointment's patient for a signed link.
    actor: User
    appointment_url: str
    cancel_url: str
    reschedule_url: str
    # Where the patient lands after cancelling (their list, or the link's page).
    after_cancel_url: str
    moved_reason: str
    moved_message: str
    cancelled_message: str
    # A page opened from an email shows the appointment in full, as the link's own page does,
    # with a way back to it; the logged-in page names it in one line.
    by_link: bool = False


def _record_change(request, appointment: Appointment, way_in: WayIn) -> None:
    record_access(
        actor=way_in.actor,
        patient=appointment.patient,
        record=appointment,
        action="change",
        request=request,
    )


def cancel_page(request, appointment: Appointment, way_in: WayIn):
    """The patient cancels, giving a reason, within the location's notice."""
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_cancel(
                appointment, actor=way_in.actor, reason=form.cleaned_data["reason"]
            )
        except services.BookingError as refused:
            messages.error(request, str(refused))
        else:
            _record_change(request, appointment, way_in)
            messages.success(request, way_in.cancelled_message)
            return redirect(way_in.after_cancel_url)
        return redirect(way_in.appointment_url)
    return render(
        request,
        "booking/appointment_cancel.html",
        {
            "appointment": appointment,
            "form": form,
            "may_cancel_online": appointment.patient_may_cancel_online(),
            "way_in": way_in,
            "late_fee": late_cancel_notice(appointment, timezone.now()),
        },
    )


def reschedule_page(request, appointment: Appointment, way_in: WayIn):
    """The patient moves the appointment to another free time at the same location."""
    if not appointment.patient_may_change_online():
        messages.error(
            request,
            f"This appointment can no longer be changed online. Please phone "
            f"{appointment.location.name} at {appointment.location.phone}.",
        )
        return redirect(way_in.appointment_url)
    if request.method == "POST":
        form = SlotChoiceForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["slot"]))
            return redirect(way_in.reschedule_url)
        practitioner_id, starts_at = form.cleaned_data["slot"]
        practitioner = get_object_or_404(
            Practitioner.objects.at(appointment.location), pk=practitioner_id
        )
        if request.POST.get("confirm") != "1":
            # A tapped time is asked once more before anything changes: the old time may be
            # taken by someone else the moment it is let go.
            return render(
                request,
                "booking/appointment_reschedule_confirm.html",
                {
                    "appointment": appointment,
                    "way_in": way_in,
                    "slot": request.POST["slot"],
                    # The version the picker was opened on: a change meanwhile is still caught.
                    "version": request.POST.get("version", ""),
                    "starts_at": starts_at,
                    "practitioner": practitioner,
                },
            )
        try:
            services.reschedule_appointment(
                appointment,
                starts_at=starts_at,
                practitioner=practitioner,
                actor=way_in.actor,
                reason=way_in.moved_reason,
                for_patient=True,
                expected_version=whole_number(request.POST.get("version")),
                # As the picker offers: only dry-needling practitioners.
                certified_only=True,
            )
        except services.BookingError as refused:
            messages.error(request, f"{refused} Here are the times free now.")
            return redirect(way_in.reschedule_url)
        _record_change(request, appointment, way_in)
        messages.success(request, way_in.moved_message)
        return redirect(way_in.appointment_url)
    context = slot_page_context(
        request,
        location=appointment.location,
        service=appointment.service,
        minutes=appointment.minutes,
        patient=appointment.patient,
        practitioner_param=request.GET.get("practitioner", str(appointment.practitioner_id)),
        needs_certification=True,
        ignore_appointment_ids=(appointment.pk,),
        # A course session keeps between its neighbours (the move refuses other days).
        within=appointment.patients_move_window(),
    )
    context |= {
        "appointment": appointment,
        "form_action": way_in.reschedule_url,
        "page_url": way_in.reschedule_url,
        "way_in": way_in,
    }
    return render(request, "booking/appointment_reschedule.html", context)
