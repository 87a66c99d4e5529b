"""A patient's appointments: the list, one appointment's page (with the staff panel for
staff), cancelling, moving, and accepting a time the clinic proposed.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import notifications, services
from booking.desk.panel import staff_panel
from booking.forms import (
    CancelForm,
    SlotChoiceForm,
)
from booking.models import (
    LONGEST_APPOINTMENT,
    Appointment,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.views.requests import slot_page_context
from clinic import access
from clinic.audit import log_access
from clinic.models import Practitioner, Role
from clinic.params import whole_number


def _appointment_list(queryset):
    return queryset.select_related("location", "practitioner__user", "service", "course", "room")


@access.patient_required
@require_safe
def my_appointments(request):
    patient = access.own_patient_record(request.user)
    now = timezone.now()
    mine = _appointment_list(Appointment.objects.filter(patient=patient))
    upcoming = list(
        mine.filter(ends_at__gte=now, starts_at__gt=now - LONGEST_APPOINTMENT)
        .exclude(status__in=[Status.CANCELLED, Status.NO_SHOW])
        .order_by("starts_at")
    )
    past = list(mine.exclude(pk__in=[a.pk for a in upcoming]).order_by("-starts_at")[:50])
    offers = WaitlistOffer.objects.filter(
        entry__patient=patient, state=WaitlistOffer.State.OPEN, expires_at__gt=now
    ).select_related("hold__location", "hold__practitioner__user", "hold__service")
    entries = WaitlistEntry.objects.filter(
        patient=patient, state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED]
    ).select_related("location", "practitioner__user", "service")
    return render(
        request,
        "booking/my_appointments.html",
        {
            "upcoming": upcoming,
            "past": past,
            "offers": offers,
            "entries": entries,
            "now": now,
        },
    )


@require_safe
def appointment_detail(request, pk: int):
    appointment = booking_access.get_visible_appointment(request.user, pk)
    log_access(request, appointment)
    is_patient = request.user.role == Role.PATIENT
    events = appointment.events.select_related("actor") if not is_patient else None
    sent = notifications.history(appointment) if not is_patient else None
    return render(
        request,
        "booking/appointment_detail.html",
        {
            "appointment": appointment,
            "events": events,
            "notifications": sent,
            "may_change_online": appointment.patient_may_change_online(),
            "is_patient": is_patient,
            "panel": None if is_patient else staff_panel(appointment, request.user),
            "proposal": _clinic_message(appointment, "proposal")
            if appointment.is_waiting_for_patient
            else None,
        },
    )


def _clinic_message(appointment: Appointment, key: str) -> str:
    """The message the clinic wrote with its latest proposal, for the patient to read."""
    event = appointment.events.filter(**{f"details__{key}": True}).order_by("-at", "-id").first()
    return event.details.get("message", "") if event else ""


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def cancel_appointment_page(request, pk: int):
    appointment = booking_access.get_visible_appointment(request.user, pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_cancel(
                appointment, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except services.BookingError as refused:
            messages.error(request, str(refused))
        else:
            log_access(request, appointment, "change")
            messages.success(request, "Your appointment is cancelled.")
            return redirect("booking:my_appointments")
        return redirect("booking:appointment_detail", pk=appointment.pk)
    return render(
        request,
        "booking/appointment_cancel.html",
        {
            "appointment": appointment,
            "form": form,
            "may_change_online": appointment.patient_may_change_online(),
        },
    )


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def reschedule_appointment_page(request, pk: int):
    """A patient moves their appointment to another free time at the same location."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    if not appointment.patient_may_change_online():
        messages.error(
            request,
            f"This appointment can no longer be changed online. Please phone "
            f"{appointment.location.name} at {appointment.location.phone}.",
        )
        return redirect("booking:appointment_detail", pk=appointment.pk)
    if request.method == "POST":
        form = SlotChoiceForm(request.POST)
        if form.is_valid():
            practitioner_id, starts_at = form.cleaned_data["slot"]
            practitioner = get_object_or_404(
                Practitioner.objects.at(appointment.location), pk=practitioner_id
            )
            try:
                services.reschedule_appointment(
                    appointment,
                    starts_at=starts_at,
                    practitioner=practitioner,
                    actor=request.user,
                    reason="Moved by the patient online",
                    for_patient=True,
                    expected_version=whole_number(request.POST.get("version")),
                )
            except services.BookingError as refused:
                messages.error(request, f"{refused} Here are the times free now.")
            else:
                log_access(request, appointment, "change")
                messages.success(request, "Your appointment is moved.")
                return redirect("booking:appointment_detail", pk=appointment.pk)
        else:
            messages.error(request, " ".join(form.errors["slot"]))
        return redirect("booking:appointment_reschedule", pk=appointment.pk)
    context = slot_page_context(
        request,
        location=appointment.location,
        service=appointment.service,
        minutes=appointment.minutes,
        patient=appointment.patient,
        practitioner_param=request.GET.get("practitioner", str(appointment.practitioner_id)),
        needs_certification=True,
        ignore_appointment_ids=(appointment.pk,),
    )
    context |= {
        "appointment": appointment,
        "form_action": reverse("booking:appointment_reschedule", args=[appointment.pk]),
        "page_url": reverse("booking:appointment_reschedule", args=[appointment.pk]),
    }
    return render(request, "booking/appointment_reschedule.html", context)


@access.patient_required
@require_POST
def proposal_accept(request, pk: int):
    appointment = booking_access.get_visible_appointment(request.user, pk)
    try:
        services.accept_proposed_time(
            appointment,
            actor=request.user,
            expected_version=whole_number(request.POST.get("version")),
        )
    except services.BookingError as refused:
        messages.error(request, str(refused))
    else:
        log_access(request, appointment, "change")
        messages.success(request, "Thank you: your appointment is confirmed at the new time.")
    return redirect(reverse("booking:appointment_detail", args=[appointment.pk]))


# --- The staff side of an appointment's page ------------------------------------------------------
