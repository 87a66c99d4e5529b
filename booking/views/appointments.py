"""A patient's appointments: the list, one appointment's page (with the staff panel for
staff, and for the patient the next step before an assessment), cancelling, moving, and
accepting a time the clinic proposed.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import gates, intake_links, notifications, services
from booking.billing.notices import late_cancel_notice
from booking.desk.panel import staff_panel
from booking.models import (
    LONGEST_APPOINTMENT,
    Appointment,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.views.changes import WayIn, cancel_page, reschedule_page
from clinic import access
from clinic.audit import log_access
from clinic.models import Role, ServiceKind
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
    ).select_related(
        "hold__location",
        "hold__practitioner__user",
        "hold__service",
        "entry__replaces__location",
    )
    entries = WaitlistEntry.objects.filter(
        patient=patient, state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED]
    ).select_related("location", "practitioner__user", "service", "replaces__location")
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
    sent = notifications.emails(appointment) if not is_patient else None
    return render(
        request,
        "booking/appointment_detail.html",
        {
            "appointment": appointment,
            "events": events,
            "notifications": sent,
            "may_change_online": appointment.patient_may_change_online(),
            "is_patient": is_patient,
            "late_fee": late_cancel_notice(appointment, timezone.now())
            if is_patient and appointment.is_movable
            else "",
            "panel": None if is_patient else staff_panel(appointment, request.user),
            "proposal": _clinic_message(appointment, "proposal")
            if appointment.is_waiting_for_patient
            else None,
            "next_steps": _next_steps(appointment) if is_patient else None,
            "earlier": _earlier_time(appointment) if is_patient else None,
        },
    )


def _earlier_time(appointment: Appointment) -> dict | None:
    """For an assessment ahead: the waitlist place bringing it forward, or where to ask for
    one (the join page then links the place to this appointment)."""
    if (
        appointment.service.kind != ServiceKind.ASSESSMENT
        or appointment.course_id
        or not appointment.is_movable
        or appointment.starts_at <= timezone.now()
    ):
        return None
    waiting = appointment.waitlist_places.filter(
        state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED]
    ).exists()
    join = reverse("booking:waitlist_join", args=[appointment.location.slug])
    return {"waiting": waiting, "join_url": f"{join}?appointment={appointment.pk}"}


def _hours_text(hours: list[int]) -> str:
    """[48, 24] as '48 and 24 hours'."""
    numbers = [str(h) for h in sorted(hours, reverse=True)]
    if len(numbers) == 1:
        return f"{numbers[0]} hour{'s' if hours[0] != 1 else ''}"
    return f"{', '.join(numbers[:-1])} and {numbers[-1]} hours"


def _next_steps(appointment: Appointment) -> dict | None:
    """What the patient does and what happens before an upcoming assessment: the
    questionnaire first, then the clinic's confirmation and the reminders."""
    if (
        appointment.service.kind != ServiceKind.ASSESSMENT
        or not appointment.is_movable
        or appointment.starts_at <= timezone.now()
    ):
        return None
    patient = appointment.patient
    overview = gates.intake_overview([patient.pk])[patient.pk]
    wants_reminders = notifications.wants_reminders(patient)
    hours = notifications.reminder_policy(appointment.location).hours
    return {
        "intake_done": overview.submitted,
        "intake_in_progress": overview.draft_in_progress,
        "intake_url": intake_links.intake_form_path(patient),
        "address": notifications.recipient(patient),
        "reminders_off": not wants_reminders,
        "reminder_hours": _hours_text(hours) if wants_reminders and hours else "",
    }


def _clinic_message(appointment: Appointment, key: str) -> str:
    """The message the clinic wrote with its latest proposal, for the patient to read."""
    event = appointment.events.filter(**{f"details__{key}": True}).order_by("-at", "-id").first()
    return event.details.get("message", "") if event else ""


def _logged_in(request, appointment: Appointment) -> WayIn:
    return WayIn(
        actor=request.user,
        appointment_url=reverse("booking:appointment_detail", args=[appointment.pk]),
        cancel_url=reverse("booking:appointment_cancel", args=[appointment.pk]),
        reschedule_url=reverse("booking:appointment_reschedule", args=[appointment.pk]),
        after_cancel_url=reverse("booking:my_appointments"),
        moved_reason="Moved by the patient online",
        moved_message="Your appointment is moved.",
        cancelled_message="Your appointment is cancelled.",
    )


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def cancel_appointment_page(request, pk: int):
    appointment = booking_access.get_visible_appointment(request.user, pk)
    return cancel_page(request, appointment, _logged_in(request, appointment))


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def reschedule_appointment_page(request, pk: int):
    """A patient moves their appointment to another free time at the same location."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    return reschedule_page(request, appointment, _logged_in(request, appointment))


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
