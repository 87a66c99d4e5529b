"""Pages around the emails: the manage-this-appointment links they carry (public, opened by
a signed token instead of a login), calendar downloads and practitioners' feeds, a patient's
reminder choice, and the messages staff need to follow up.

Views that need no login are marked `@login_not_required` one by one; everything they open is
checked by the token (see booking.notifications.links) or the feed's secret."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import notifications
from booking.billing.notices import late_cancel_notice
from booking.forms import ReminderPreferenceForm
from booking.models import ACTIVE_STATUSES, Appointment
from booking.notifications import calendars, links
from booking.views.changes import WayIn, cancel_page, reschedule_page
from clinic import access
from clinic.audit import log_access, record_access, record_accesses, record_label, record_listing
from clinic.models import Location, Role

# --- Manage-this-appointment links (no login) -----------------------------------------------------


def _link_refused(request, refused: links.LinkRefused):
    """A clear page instead of an error: why the link does not open, and whom to phone."""
    appointment = (
        Appointment.objects.select_related("location").filter(pk=refused.appointment_id).first()
        if refused.appointment_id
        else None
    )
    locations = (
        [appointment.location] if appointment else list(Location.objects.filter(is_active=True))
    )
    return render(
        request,
        "booking/notifications/link_refused.html",
        {
            "reason": str(refused),
            "expired": isinstance(refused, links.LinkExpired),
            "locations": locations,
        },
        status=410 if isinstance(refused, links.LinkExpired) else 400,
    )


def _closed_account(appointment: Appointment) -> links.LinkRefused | None:
    """Links in emails about an appointment made before its patient closed their account no
    longer open anything (one the desk books afterwards, by phone, gets links that work)."""
    closed = appointment.patient.account_closed_at
    if closed is None or appointment.created_at > closed:
        return None
    return links.LinkRefused(
        "This link no longer works: the account it was sent to has been closed.",
        appointment_id=appointment.pk,
    )


def appointment_link(view):
    """Open the appointment named by a signed link, or say why the link does not work."""

    @wraps(view)
    def wrapped(request, pk: int, token: str):
        try:
            links.read_token(token, appointment_id=pk)
        except links.LinkRefused as refused:
            return _link_refused(request, refused)
        appointment = (
            Appointment.objects.select_related(
                "location", "practitioner__user", "room", "patient__user", "service", "course"
            )
            .filter(pk=pk)
            .first()
        )
        if appointment is None:
            return _link_refused(request, links.LinkRefused("This appointment no longer exists."))
        if refused := _closed_account(appointment):
            return _link_refused(request, refused)
        if request.method in ("GET", "HEAD"):
            # Every page a link opens shows the appointment (its calendar file names the
            # patient too), to whoever holds the link: each opening is in the access log.
            record_access(
                actor=appointment.patient.user,
                patient=appointment.patient,
                record=appointment,
                request=request,
            )
        response = view(request, appointment, token)
        # The page shows a patient's appointment to whoever holds the link: no browser or
        # proxy may keep a copy (pages behind a login get the same from clinic.middleware).
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
        return response

    return wrapped


def _link_urls(appointment: Appointment, token: str) -> dict:
    args = [appointment.pk, token]
    return {
        "manage_url": reverse("booking:link_manage", args=args),
        "cancel_url": reverse("booking:link_cancel", args=args),
        "reschedule_url": reverse("booking:link_reschedule", args=args),
        "ics_url": reverse("booking:link_ics", args=args),
    }


@login_not_required
@require_safe
@appointment_link
def link_manage(request, appointment: Appointment, token: str):
    return render(
        request,
        "booking/notifications/link_manage.html",
        {
            "appointment": appointment,
            "may_change_online": appointment.patient_may_change_online(),
            "late_fee": late_cancel_notice(appointment, timezone.now()),
            "is_past": appointment.ends_at <= timezone.now(),
            **_link_urls(appointment, token),
        },
    )


def _by_link(appointment: Appointment, token: str) -> WayIn:
    urls = _link_urls(appointment, token)
    return WayIn(
        # The signed link stands for the patient: the change is theirs.
        actor=appointment.patient.user,
        appointment_url=urls["manage_url"],
        cancel_url=urls["cancel_url"],
        reschedule_url=urls["reschedule_url"],
        after_cancel_url=urls["manage_url"],
        moved_reason="Moved by the patient from an email link",
        moved_message="Your appointment is moved. We have emailed you the new time.",
        cancelled_message="Your appointment is cancelled. We have emailed you.",
        by_link=True,
    )


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
@appointment_link
def link_cancel(request, appointment: Appointment, token: str):
    return cancel_page(request, appointment, _by_link(appointment, token))


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
@appointment_link
def link_reschedule(request, appointment: Appointment, token: str):
    return reschedule_page(request, appointment, _by_link(appointment, token))


# --- Calendar files -----------------------------------------------------------------------------


def _calendar_response(content: bytes, filename: str, *, download: bool = True) -> HttpResponse:
    response = HttpResponse(content, content_type=calendars.CONTENT_TYPE)
    if download:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Private schedules: never kept by shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _appointment_calendar(appointment: Appointment) -> HttpResponse:
    """One appointment's calendar file, the same from the email's link and from a login."""
    return _calendar_response(
        calendars.published([appointment], name=f"{appointment.location.name} appointment"),
        f"appointment-{appointment.local_starts_at:%Y-%m-%d}.ics",
    )


@login_not_required
@require_safe
@appointment_link
def link_ics(request, appointment: Appointment, token: str):
    return _appointment_calendar(appointment)


@require_safe
def appointment_ics(request, pk: int):
    """One appointment as a calendar file (the patient's own, or staff's at their locations)."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    log_access(request, appointment)
    return _appointment_calendar(appointment)


@require_safe
def course_ics(request, pk: int):
    """Every session of a course as one calendar file."""
    course = booking_access.get_visible_course(request.user, pk)
    sessions = (
        course.appointments.filter(status__in=ACTIVE_STATUSES)
        .select_related("location", "practitioner__user", "room", "patient__user", "service")
        .order_by("session_number")
    )
    record_access(actor=request.user, patient=course.patient, record=course, request=request)
    return _calendar_response(
        calendars.published(sessions, name="Dry-needling course"),
        f"dry-needling-course-{course.pk}.ics",
    )


@login_not_required
@require_safe
def practitioner_feed_page(request, token: str):
    """A practitioner's schedule for their calendar app, opened by the secret in its address."""
    feed = calendars.feed_for(token)
    if feed is None:
        raise Http404("No calendar feed at this address (it may have been turned off).")
    now = timezone.now()
    practitioner = feed.practitioner
    appointments = calendars.feed_appointments(practitioner, now=now)
    # One row for each patient in the feed, in one statement however full the schedule.
    record_accesses(
        actor=practitioner.user,
        patient_ids=dict.fromkeys(a.patient_id for a in appointments),
        record_type=record_label(feed),
        record_id=feed.pk,
        request=request,
    )
    if feed.last_used_at is None or now - feed.last_used_at > calendars.FEED_USE_RECORDED_EVERY:
        feed.last_used_at = now
        feed.save(update_fields=["last_used_at"])
    return _calendar_response(
        calendars.practitioner_feed(appointments, name=f"{practitioner.name} — clinic schedule"),
        "schedule.ics",
        download=False,
    )


@access.role_required(Role.PRACTITIONER)
@require_safe
def calendar_feed(request):
    practitioner = access.own_practitioner_record(request.user)
    feed = getattr(practitioner, "calendar_feed", None)
    return render(
        request, "booking/notifications/calendar_feed.html", {"feed": feed, "feed_url": ""}
    )


@access.role_required(Role.PRACTITIONER)
@require_POST
def calendar_feed_new(request):
    """Make a new feed address and show it once (only a hash of it is kept)."""
    practitioner = access.own_practitioner_record(request.user)
    token = calendars.new_feed(practitioner)
    practitioner.refresh_from_db()
    return render(
        request,
        "booking/notifications/calendar_feed.html",
        {
            "feed": practitioner.calendar_feed,
            "feed_url": links.absolute(reverse("booking:practitioner_feed", args=[token])),
        },
    )


@access.role_required(Role.PRACTITIONER)
@require_POST
def calendar_feed_revoke(request):
    practitioner = access.own_practitioner_record(request.user)
    if calendars.revoke_feed(practitioner):
        messages.success(request, "Your calendar feed is turned off; its address no longer works.")
    return redirect("booking:calendar_feed")


# --- A patient's choice about reminders -------------------------------------------------------------


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def reminder_settings(request):
    patient = access.own_patient_record(request.user)
    choice = notifications.preference(patient)
    form = ReminderPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={"reminders": choice.reminders},
    )
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["reminders"]
        notifications.set_reminders(patient, wanted=wanted)
        messages.success(
            request,
            "We will email you reminders before your appointments."
            if wanted
            else "We will not send you reminders. Confirmations and changes still come by email.",
        )
        return redirect("booking:reminder_settings")
    address = notifications.recipient(patient)
    return render(
        request,
        "booking/notifications/reminder_settings.html",
        {
            "form": form,
            "address": address,
            "address_problem": notifications.address_problem(patient, address),
        },
    )


# --- Messages staff follow up --------------------------------------------------------------------------


@access.staff_required
@require_safe
def email_problems(request):
    locations = (
        None if request.user.role == Role.MANAGER else access.visible_locations(request.user)
    )
    failed = list(notifications.failures(locations)[:200])
    record_listing(
        request=request,
        patient_ids=(n.patient_id for n in failed),
        record_type="booking.notification",
    )
    return render(request, "booking/notifications/email_problems.html", {"failed": failed})


@access.staff_required
@require_POST
def notification_send_again(request, pk: int):
    notification = booking_access.get_visible_notification(request.user, pk)
    try:
        notifications.send_again(notification)
    except notifications.NotificationError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, f"The {notification.get_kind_display().lower()} will be sent again shortly."
        )
    if request.POST.get("back") == "appointment" and notification.appointment_id:
        return redirect("booking:appointment_detail", pk=notification.appointment_id)
    return redirect("booking:email_problems")


# --- Survey links (no login): the outcome surveys of intake --------------------------------


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def link_outcome_survey(request, pk: int, token: str, kind: str):
    """A survey opened from an email (before a session, after care, end of course,
    follow-ups): the token names the appointment and the kind of survey. Intake's page does
    the rest, as from the patient's own page; answered twice, it shows what was sent."""
    from booking.selectors import visits_for_intake
    from intake.clinical.models import SurveyChannel, SurveyKind
    from intake.clinical.selectors import survey_subject
    from intake.clinical.views.outcome_surveys import outcome_survey_page

    if kind not in SurveyKind.values:
        raise Http404("No such survey.")
    try:
        links.read_token(token, appointment_id=pk, purpose=links.survey_purpose(kind))
    except links.LinkRefused as refused:
        return _link_refused(request, refused)
    appointment = Appointment.objects.select_related("patient__user").filter(pk=pk).first()
    if appointment is None:
        return _link_refused(request, links.LinkRefused("This appointment no longer exists."))
    if refused := _closed_account(appointment):
        return _link_refused(request, refused)
    patient_visits = visits_for_intake(patient_ids=[appointment.patient_id])
    visit = next(v for v in patient_visits if v.appointment_id == pk)
    subject = survey_subject(kind, visit, patient_visits)
    if subject is None:
        return _link_refused(
            request,
            links.LinkRefused(
                "This survey no longer applies (the session or course changed).",
                appointment_id=pk,
            ),
        )
    response = outcome_survey_page(
        request,
        subject=subject,
        patient=appointment.patient,
        channel=SurveyChannel.LINK,
        by=appointment.patient.user,
    )
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response
