"""Booking a course from a signed plan (all sessions checked, then written at once, with the
nearest alternatives for a session that does not fit) and the course's page.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods, require_safe

from booking import access as booking_access
from booking import gates, services
from booking.availability import Slot
from booking.billing.panel import course_money_panel
from booking.forms import (
    FirstSessionForm,
    SessionFormSet,
)
from booking.models import (
    Appointment,
)
from clinic import access, dates
from clinic.audit import log_access, record_access
from clinic.models import AccessLog, Location, Practitioner, Role, Service, ServiceKind
from clinic.params import positive_whole_number


def _session_formset(*, locations, practitioners, data=None, initial=None):
    return SessionFormSet(
        data,
        initial=initial,
        prefix="session",
        form_kwargs={"locations": locations, "practitioners": practitioners},
    )


@access.role_required(Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER)
@require_http_methods(["GET", "HEAD", "POST"])
def book_course_page(request, patient_pk: int):
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
    _describe_date_by_its_day(first_form)
    for form in sessions.forms if sessions is not None else ():
        _describe_date_by_its_day(form)
    context |= {
        "first_form": first_form,
        "first_day": getattr(first_form, "cleaned_data", {}).get("date")
        if first_form.is_bound
        else first_form.initial.get("date"),
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


def _describe_date_by_its_day(form) -> None:
    """The browser writes a date field in its own format, without the weekday: the page
    shows the day in words next to it ("Tue 15 Dec 2026"), and the field points to it."""
    form.fields["date"].widget.attrs["aria-describedby"] = f"{form['date'].id_for_label}-day"


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
    plan = course.plan_as_it_stands()
    return render(
        request,
        "booking/course_detail.html",
        {
            "course": course,
            "rows": _course_rows(course, appointments, plan),
            "money": course_money_panel(course, request.user),
            "plan": plan,
            "amended": plan.differs_from(course),
            "extension_refusal": services.extension_refusal(course, plan)
            if plan.sessions and plan.sessions > course.sessions_planned
            else "",
        },
    )


@access.role_required(Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER)
@require_http_methods(["POST"])
def course_extend(request, pk: int):
    """The course follows its assessment's plan, amended to more sessions: the sessions added
    can then be booked from the course's page."""
    course = booking_access.get_visible_course(request.user, pk)
    before = course.sessions_planned
    # The number the page offered: a second click (or tab) finds the course already there.
    offered = positive_whole_number(request.POST.get("sessions"))
    try:
        course = services.extend_course_to_its_plan(course)
    except services.CourseNotAllowed as refused:
        if offered is not None and before == offered:
            messages.info(request, f"The course already plans {before} sessions.")
        else:
            messages.error(request, f"The course was not extended. {refused}")
    else:
        log_access(request, course, action=AccessLog.Action.CHANGE)
        messages.success(
            request,
            f"The course now plans {course.sessions_planned} sessions, as its assessment does: "
            f"book sessions {before + 1}–{course.sessions_planned} below.",
        )
    return redirect("booking:course_detail", pk=course.pk)


def _course_rows(course, appointments: list[Appointment], plan) -> list[dict]:
    """One row per appointment, in session order; a session left with no active appointment
    (cancelled or missed) offers "Book session N again" on its latest row, or on a row of
    its own if it never had one; not beyond the plan as amended since (`plan`), nor once it
    no longer says needling."""
    active = {a.session_number for a in appointments if a.is_active}
    latest = {a.session_number: a.pk for a in appointments}  # ordered: the last one wins
    bookable = plan.sessions if plan.needling and plan.sessions else 0
    rows = []
    for number in range(1, course.sessions_planned + 1):
        again = (
            reverse("booking:course_session_rebook", args=[course.pk, number])
            if number not in active and number <= bookable
            else None
        )
        mine = [a for a in appointments if a.session_number == number]
        rows += [
            {"number": number, "appointment": a, "again": again if a.pk == latest[number] else None}
            for a in mine
        ] or [{"number": number, "appointment": None, "again": again}]
    return rows
