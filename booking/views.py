"""Booking pages: a patient's online request, appointments, cancelling and moving them,
the waitlist, and booking a course. One view per action, access checked through
`clinic.access` and `booking.access`."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import desk_views, gates, notifications, services
from booking.availability import Slot, SlotQuery
from booking.forms import (
    CancelForm,
    FirstSessionForm,
    NearestForm,
    RequestConfirmForm,
    SessionFormSet,
    SlotChoiceForm,
    WaitlistForm,
    slot_choice_value,
)
from booking.models import (
    LONGEST_APPOINTMENT,
    Appointment,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.places import nearest_first, position_of
from booking.selectors import load_availability
from clinic import access, dates
from clinic.audit import log_access, record_access
from clinic.models import Location, Practitioner, Role, Service, ServiceKind

# --- Choosing where and when (patients) ----------------------------------------------------------


def _offering_locations():
    return Location.objects.filter(is_active=True).offering_dry_needling()


@access.patient_required
@require_safe
def request_start(request):
    """Step 1: choose a location that offers dry needling, nearest first if the patient says where."""
    form = NearestForm(request.GET or None)
    locations = list(_offering_locations())
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


def _assessment() -> Service:
    return get_object_or_404(Service, kind=ServiceKind.ASSESSMENT, is_active=True)


def _slot_days(
    slots: list[Slot], location: Location, names: dict[int, str], one_per_time: bool
) -> dict:
    """Slots grouped by local date, each as a radio choice; with "anyone", one choice per time
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


def _week_start(request, location: Location) -> dt.date:
    return dates.date_in_query(request.GET, "from", location.today())


def _slot_page_context(
    request,
    *,
    location: Location,
    service: Service,
    minutes: int,
    patient,
    practitioner_param: str,
    needs_certification: bool,
    ignore_appointment_ids=(),
) -> dict:
    """The free times of one week for the slot list, with the next available one after it."""
    now = timezone.now()
    horizon_end = now + dt.timedelta(days=location.booking_horizon_days)
    availability = load_availability(
        location=location,
        window_start=now,
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
        window_start=now,
        window_end=horizon_end,
        length=dt.timedelta(minutes=minutes),
        now=now,
        needs_certification=needs_certification,
        for_patient=True,
    )
    slots = availability.slots(query, chosen_ids)
    week_start = max(_week_start(request, location), location.today())
    week_end = week_start + dt.timedelta(days=7)
    in_week = [
        s for s in slots if week_start <= s.starts_at.astimezone(location.zone).date() < week_end
    ]
    after = next(
        (s for s in slots if s.starts_at.astimezone(location.zone).date() >= week_end), None
    )
    first = slots[0] if slots else None
    names = {p.pk: p.name for p in availability.practitioners.values()}
    return {
        "location": location,
        "service": service,
        "minutes": minutes,
        "practitioners": sorted(choices, key=lambda p: p.name),
        "practitioner_param": practitioner_param or "anyone",
        "days": _slot_days(in_week, location, names, one_per_time=chosen_ids is None),
        "week_start": week_start,
        "week_end": week_end - dt.timedelta(days=1),
        "previous_week": week_start - dt.timedelta(days=7)
        if week_start > location.today()
        else None,
        "next_week": week_end if week_end <= horizon_end.astimezone(location.zone).date() else None,
        "next_available": after.starts_at.astimezone(location.zone).date()
        if after and not in_week
        else None,
        "first_available": first,
        "zone_name": location.now().tzname(),
    }


@access.patient_required
@require_safe
def request_slots(request, slug: str):
    """Step 2: the free assessment times of a week at the location, earliest first."""
    location = get_object_or_404(_offering_locations(), slug=slug)
    service = _assessment()
    patient = access.own_patient_record(request.user)
    context = _slot_page_context(
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
    location = get_object_or_404(_offering_locations(), slug=slug)
    patient = access.own_patient_record(request.user)
    form = SlotChoiceForm(request.POST)
    back = reverse("booking:request_slots", args=[location.slug])
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["slot"]))
        return redirect(back)
    practitioner_id, starts_at = form.cleaned_data["slot"]
    practitioner = get_object_or_404(Practitioner.objects.at(location), pk=practitioner_id)
    service = _assessment()
    try:
        hold = services.place_hold(
            patient=patient,
            location=location,
            practitioner=practitioner,
            service=service,
            starts_at=starts_at,
            minutes=service.default_minutes,
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
def request_confirm(request, hold_pk: int):
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
        {"hold": hold, "form": form, "expired": not hold.is_live()},
    )


# --- A patient's appointments -----------------------------------------------------------------------


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
            "panel": None if is_patient else desk_views.staff_panel(appointment, request.user),
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
def appointment_cancel(request, pk: int):
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
def appointment_reschedule(request, pk: int):
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
                    expected_version=_int(request.POST.get("version")),
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
    context = _slot_page_context(
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


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- The waitlist (patients) --------------------------------------------------------------------


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_join(request, slug: str):
    location = get_object_or_404(_offering_locations(), slug=slug)
    patient = access.own_patient_record(request.user)
    practitioners = Practitioner.objects.at(location).select_related("user")
    form = WaitlistForm(
        request.POST if request.method == "POST" else None, practitioners=practitioners
    )
    service = _assessment()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.join_waitlist(
                patient=patient,
                location=location,
                service=service,
                minutes=service.default_minutes,
                weekdays=data["weekdays"],
                earliest_time=data["earliest_time"],
                latest_time=data["latest_time"],
                practitioner=data["practitioner"],
                actor=request.user,
            )
        except services.BookingError as refused:
            form.add_error(None, str(refused))
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
def waitlist_leave(request, pk: int):
    entry = booking_access.get_own_waitlist_entry(request.user, pk)
    services.leave_waitlist(entry)
    messages.success(request, "You have left the waitlist.")
    return redirect("booking:my_appointments")


@access.patient_required
@require_POST
def offer_accept(request, pk: int):
    offer = booking_access.get_own_offer(request.user, pk)
    try:
        appointment = services.accept_offer(offer, actor=request.user)
    except services.BookingError as refused:
        messages.error(request, str(refused))
        return redirect("booking:my_appointments")
    log_access(request, appointment, "create")
    messages.success(request, "The earlier time is yours: your appointment is booked.")
    return redirect("booking:appointment_detail", pk=appointment.pk)


@access.patient_required
@require_POST
def offer_decline(request, pk: int):
    offer = booking_access.get_own_offer(request.user, pk)
    services.decline_offer(offer)
    messages.info(request, "Offer declined. You keep your place on the waitlist.")
    return redirect("booking:my_appointments")


# --- Booking a course (practitioners and front desk) ----------------------------------------------


def _session_formset(*, locations, practitioners, data=None, initial=None):
    return SessionFormSet(
        data,
        initial=initial,
        prefix="session",
        form_kwargs={"locations": locations, "practitioners": practitioners},
    )


@access.role_required(Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER)
@require_http_methods(["GET", "HEAD", "POST"])
def course_book(request, patient_pk: int):
    """Propose the sessions of a prescribed course, show conflicts with alternatives, let any
    session move, then book all of them or none."""
    patient = access.get_visible_patient(request.user, patient_pk)
    gate = gates.course_gate(patient)
    # The page shows the patient's prescription (or why there is none): a view of their record.
    record_access(
        actor=request.user, patient=patient, record_type="booking.course", request=request
    )
    context = {"patient": patient, "gate": gate}
    if not gate.allowed:
        return render(request, "booking/course_book.html", context, status=200)
    prescription = gate.prescription
    service = get_object_or_404(Service, kind=ServiceKind.DRY_NEEDLING)
    locations = access.visible_locations(request.user).offering_dry_needling()
    practitioners = (
        Practitioner.objects.filter(user__is_active=True, user__locations__in=locations)
        .select_related("user")
        .distinct()
    )
    action = request.POST.get("action", "")
    first_form = FirstSessionForm(
        request.POST if action == "propose" else None,
        prefix="first",
        locations=locations,
        practitioners=practitioners,
        initial=_first_session_initial(patient, prescription, locations),
    )
    sessions = None
    proposals = None
    if request.method == "POST" and action == "propose" and first_form.is_valid():
        data = first_form.cleaned_data
        times = services.proposed_dates(
            first=data["starts_at"],
            zone=data["location"].zone,
            sessions=prescription.sessions,
            interval_days=prescription.interval_days,
        )
        initial = [_session_initial(data["location"], data["practitioner"], t) for t in times]
        sessions = _session_formset(
            locations=locations, practitioners=practitioners, initial=initial
        )
        proposals = _check(
            patient,
            service,
            prescription,
            [
                services.SessionChoice(n + 1, data["location"], data["practitioner"], t)
                for n, t in enumerate(times)
            ],
        )
    elif request.method == "POST" and (action in {"check", "book"} or action.startswith("use:")):
        post = request.POST.copy()
        if action.startswith("use:"):
            _apply_alternative(post, action)
        sessions = _session_formset(locations=locations, practitioners=practitioners, data=post)
        if sessions.is_valid() and len(sessions.forms) != prescription.sessions:
            sessions._non_form_errors = sessions.error_class(
                [f"The plan prescribes {prescription.sessions} sessions."]
            )
        elif sessions.is_valid():
            choices = [
                services.SessionChoice(
                    n + 1,
                    f.cleaned_data["location"],
                    f.cleaned_data["practitioner"],
                    f.cleaned_data["starts_at"],
                )
                for n, f in enumerate(sessions.forms)
            ]
            if action == "book":
                try:
                    course = services.book_course(
                        patient=patient, choices=choices, actor=request.user
                    )
                except services.BookingError as refused:
                    messages.error(request, f"Nothing was booked: {refused}")
                else:
                    log_access(request, course, "create")
                    messages.success(request, f"All {course.sessions_planned} sessions are booked.")
                    return redirect("booking:course_detail", pk=course.pk)
            proposals = _check(patient, service, prescription, choices)
    # The menus offer, for each session, only practitioners certified on its date.
    with_certifications = list(practitioners.prefetch_related("certifications"))
    _offer_certified_practitioners(first_form, with_certifications, keep_choice=first_form.is_bound)
    for form in sessions.forms if sessions is not None else ():
        _offer_certified_practitioners(form, with_certifications, keep_choice=True)
    if sessions is not None and proposals is not None:
        by_id = {loc.pk: loc for loc in locations}
        names = {p.pk: p.name for p in with_certifications}
        context["rows"] = [
            (
                form,
                proposal,
                [_alternative_button(row, slot, by_id, names) for slot in proposal.alternatives],
            )
            for row, (form, proposal) in enumerate(zip(sessions.forms, proposals, strict=False))
        ]
    context |= {
        "first_form": first_form,
        "sessions": sessions,
        "prescription": prescription,
        "all_ok": proposals is not None and all(p.ok for p in proposals),
    }
    return render(request, "booking/course_book.html", context)


def _offer_certified_practitioners(
    form, practitioners: list[Practitioner], *, keep_choice: bool
) -> None:
    """Limit a session form's practitioner menu to those with a certification current on its
    date. With `keep_choice`, the practitioner chosen so far stays in the menu, so that the
    row shows what was chosen and the check says why it cannot be booked, rather than
    silently showing someone else.

    Only the menu changes: a posted practitioner is still judged by the booking service."""
    cleaned = getattr(form, "cleaned_data", {})
    day = cleaned.get("date") or form.initial.get("date") or timezone.localdate()
    chosen = form["practitioner"].value()
    chosen = str(getattr(chosen, "pk", chosen))
    allowed = [
        p.pk
        for p in practitioners
        if p.is_certified_on(day) or (keep_choice and str(p.pk) == chosen)
    ]
    field = form.fields["practitioner"]
    field.queryset = field.queryset.filter(pk__in=allowed)


def _alternative_button(row: int, slot: Slot, locations: dict, names: dict) -> dict:
    location = locations.get(slot.location_id)
    when = slot.starts_at.astimezone(location.zone) if location else slot.starts_at
    return {
        "value": f"use:{row}:{slot.location_id}:{slot.practitioner_id}:{slot.starts_at.isoformat()}",
        "label": f"{dateformat.format(when, 'D j M g:i A')} · {names.get(slot.practitioner_id, '')}"
        + (f" · {location.name}" if location else ""),
    }


def _first_session_initial(patient, prescription, locations) -> dict:
    location = (
        patient.preferred_location if patient.preferred_location in locations else locations.first()
    )
    start = timezone.now() + dt.timedelta(days=7)
    if location:
        start = start.astimezone(location.zone)
    return {
        "date": start.date(),
        "time": dt.time(10, 0),
        "location": location,
        "practitioner": prescription.practitioner_id,
    }


def _session_initial(location, practitioner, starts_at) -> dict:
    local = starts_at.astimezone(location.zone)
    return {
        "date": local.date(),
        "time": local.time().replace(tzinfo=None),
        "location": location.pk,
        "practitioner": practitioner.pk,
    }


def _apply_alternative(post, action: str) -> None:
    """`use:<row>:<location id>:<practitioner id>:<ISO start>` puts an alternative in a row."""
    try:
        _, row, location_id, practitioner_id, start = action.split(":", 4)
        location = Location.objects.get(pk=int(location_id))
        local = dates.parse_instant(start).astimezone(location.zone)
    except (ValueError, Location.DoesNotExist):
        return
    post[f"session-{row}-date"] = local.date().isoformat()
    post[f"session-{row}-time"] = local.strftime("%H:%M")
    post[f"session-{row}-location"] = location_id
    post[f"session-{row}-practitioner"] = practitioner_id


def _check(patient, service, prescription, choices):
    return services.check_course(
        patient=patient, service=service, minutes=prescription.minutes, choices=choices
    )


@access.role_required(Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER)
@require_safe
def course_detail(request, pk: int):
    course = booking_access.get_visible_course(request.user, pk)
    appointments = list(
        course.appointments.select_related("location", "practitioner__user", "room").order_by(
            "session_number", "starts_at"
        )
    )
    log_access(request, course)
    return render(
        request,
        "booking/course_detail.html",
        {"course": course, "rows": _course_rows(course, appointments)},
    )


def _course_rows(course, appointments: list[Appointment]) -> list[dict]:
    """One row per appointment, in session order; a session left with no active appointment
    (cancelled or missed) offers "Book session N again" on its latest row, or on a row of
    its own if it never had one."""
    active = {a.session_number for a in appointments if a.is_active}
    latest = {a.session_number: a.pk for a in appointments}  # ordered: the last one wins
    rows = []
    for number in range(1, course.sessions_planned + 1):
        again = (
            reverse("booking:course_session_rebook", args=[course.pk, number])
            if number not in active
            else None
        )
        mine = [a for a in appointments if a.session_number == number]
        rows += [
            {"number": number, "appointment": a, "again": again if a.pk == latest[number] else None}
            for a in mine
        ] or [{"number": number, "appointment": None, "again": again}]
    return rows
