"""The front desk's pages: a location's day (by practitioner or room), week and printable list,
a practitioner's day and week, the requests queue, the actions on an appointment, phone and
walk-in bookings, booking a cancelled session of a course again, and the waitlist board.

One view per action. Locations, appointments, patients, practitioners and waitlist entries
are fetched through the access helpers (`clinic.access`, `booking.access`), so staff only
reach their own locations: anything else is a 404. Every change goes through
`booking.services`, which records it in the appointment's history; forms carry the version
of the appointment they were opened on, so two people changing it at once cannot overwrite
each other silently.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from booking import access as booking_access
from booking import gates, patient_search, schedule, services
from booking.availability import SlotQuery
from booking.forms import (
    DeclineForm,
    DeskBookingForm,
    DeskCancelForm,
    DeskWaitlistForm,
    NewPatientForm,
    PatientSearchForm,
    ProposeMessageForm,
    parse_slot_choice,
    slot_choice_value,
)
from booking.models import (
    ACTIVE_STATUSES,
    LONGEST_APPOINTMENT,
    Appointment,
    CancelledBy,
    Room,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.selectors import load_availability
from clinic import access, dates
from clinic.audit import log_access, record_access, record_accesses, record_listing
from clinic.models import AccessLog, Location, Patient, Practitioner, Role, Service, ServiceKind
from intake.clinical.selectors import worrying_aftercare

LOCATION_COOKIE = "desk_location"
_COOKIE_SALT = "booking.desk.location"
_COOKIE_AGE = 60 * 60 * 24 * 365  # a counter tablet stays at its location
NEXT_DAYS_SEARCHED = 14  # "next day with free time" looks this far ahead


# --- Helpers -----------------------------------------------------------------------------------


def _remember(request, response, location: Location) -> None:
    """The location last looked at is where the desk opens next time, on this device."""
    response.set_signed_cookie(
        LOCATION_COOKIE,
        location.slug,
        salt=_COOKIE_SALT,
        max_age=_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def _remembered_location(request) -> Location | None:
    try:
        slug = request.get_signed_cookie(LOCATION_COOKIE, salt=_COOKIE_SALT)
    except (KeyError, signing.BadSignature):
        return None
    return access.visible_locations(request.user).filter(slug=slug).first()


def _date_param(request, name: str, default: dt.date) -> dt.date:
    return dates.date_in_query(request.GET, name, default)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path of this site only: redirect() would take a bare word for a URL name to reverse
    # (a 500 on ?next=anything).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _problems(*forms) -> str:
    """Every error of the forms, as one message (the slot pickers have no field to put them on)."""
    return " ".join(
        error
        for form in forms
        if form is not None
        for errors in form.errors.values()
        for error in errors
    )


def screening_flags(
    request, patient_ids: Iterable[int], *, with_reasons: bool = False
) -> dict[int, list[schedule.Badge]]:
    """{patient id: ["Flagged for review" badge]} for the flagged patients among
    `patient_ids` (the others are left out), with one call to intake for the whole page.

    Lists of patients (the desk's search, with its closest-name guesses; the waitlist) show
    the flag alone, as the day view does: the screening reasons are health information, shown
    on the appointment's own page. `with_reasons` puts them in the badge (a practitioner's own
    patients), and showing them is then a view of each patient's record (clinic.audit): one
    access-log row per patient, all written at once."""
    ids = set(patient_ids)
    flagged = [
        overview
        for overview in (gates.intake_overview(ids) if ids else {}).values()
        if overview.flagged_for_review
    ]
    if with_reasons:
        record_accesses(
            actor=request.user,
            patient_ids=[overview.patient_id for overview in flagged if overview.flag_reasons],
            record_type="intake.screening",
            request=request,
        )
    return {
        overview.patient_id: [
            schedule.Badge(
                "flagged",
                "Flagged for review",
                "; ".join(overview.flag_reasons) if with_reasons else "",
            )
        ]
        for overview in flagged
    }


def _listed(request, patient_ids: Iterable[int], what: str) -> None:
    """A schedule, queue or board showed these patients with their appointments: a list row
    each in the access log (clinic.audit), in one statement."""
    record_listing(request=request, patient_ids=patient_ids, record_type=what)


def _viewed(request, appointment: Appointment) -> None:
    """A page showing one patient's appointment is a view of their record (clinic.audit)."""
    log_access(request, appointment)


def _detail(appointment: Appointment) -> str:
    return reverse("booking:appointment_detail", args=[appointment.pk])


def _day_url(location: Location, day: dt.date, **query) -> str:
    query = {"date": day.isoformat()} | {k: v for k, v in query.items() if v}
    return f"{reverse('booking:location_day', args=[location.slug])}?{urlencode(query)}"


def _toolbar(request, location: Location, page: str, day: dt.date | None = None) -> dict:
    """The location switcher and the links between the desk's pages for one location."""
    locations = list(access.visible_locations(request.user))
    return {
        "location": location,
        "locations": locations,
        "page": page,
        "toolbar_day": day or location.today(),
        "requests_waiting": Appointment.objects.filter(
            status=Status.REQUESTED, proposed_by_clinic=False, location__in=locations
        ).count(),
    }


# --- Where the desk opens ----------------------------------------------------------------------


@access.staff_required
@require_safe
def desk(request):
    """The schedule of the location chosen last on this device (or the first one)."""
    location = _remembered_location(request) or access.visible_locations(request.user).first()
    if location is None:
        return render(request, "booking/desk_no_location.html")
    return redirect("booking:location_day", slug=location.slug)


# --- A location's day, list and week ------------------------------------------------------------


@access.staff_required
@require_safe
def location_day(request, slug: str):
    """Practitioners (or rooms) as columns, time down the side in the location's time zone,
    every appointment with its badges; free time links to booking it."""
    location = access.get_visible_location(request.user, slug)
    today = location.today()
    day = _date_param(request, "date", today)
    by = "rooms" if request.GET.get("by") == "rooms" else "practitioners"
    loaded = schedule.load_location_day(location, day)
    bookable = day >= today
    grid = schedule.day_grid(
        loaded,
        by=by,
        book_url=reverse("booking:find_patient", args=[slug]) if bookable else "",
        practitioner_url=lambda p: (
            f"{reverse('booking:practitioner_day', args=[p.pk])}?date={day.isoformat()}"
        ),
    )
    context = _toolbar(request, location, "day", day) | {
        "day": day,
        "today": today,
        "by": by,
        "grid": grid,
        "loaded": loaded,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "zone_name": dt.datetime.combine(day, dt.time(12), tzinfo=location.zone).tzname(),
    }
    _listed(request, (a.patient_id for a in loaded.appointments), "booking.schedule")
    response = render(request, "booking/desk_day.html", context)
    _remember(request, response, location)
    return response


@access.staff_required
@require_safe
def location_day_list(request, slug: str):
    """The day as a printable list, in time order, cancellations and no-shows included."""
    location = access.get_visible_location(request.user, slug)
    day = _date_param(request, "date", location.today())
    loaded = schedule.load_location_day(location, day)
    context = _toolbar(request, location, "list", day) | {
        "day": day,
        "entries": loaded.entries,
        "printed_at": timezone.now(),
    }
    _listed(request, (a.patient_id for a in loaded.appointments), "booking.schedule")
    response = render(request, "booking/desk_day_list.html", context)
    _remember(request, response, location)
    return response


@access.staff_required
@require_safe
def location_week(request, slug: str):
    """Practitioners down the side, the week's days across: appointments and free time."""
    location = access.get_visible_location(request.user, slug)
    first = schedule.week_start(_date_param(request, "from", location.today()))
    week = schedule.load_location_week(location, first)
    context = _toolbar(request, location, "week", first) | {
        "week": week,
        "today": location.today(),
        "previous_week": first - dt.timedelta(days=7),
        "next_week": first + dt.timedelta(days=7),
    }
    shown = [e for row in week.rows for cell in row.cells for e in cell.entries] + week.off_grid
    _listed(request, (e.appointment.patient_id for e in shown), "booking.schedule")
    response = render(request, "booking/desk_week.html", context)
    _remember(request, response, location)
    return response


# --- A practitioner's day and week ----------------------------------------------------------------


def _practitioner_locations(request, practitioner: Practitioner) -> list[Location]:
    return list(
        access.visible_locations(request.user)
        .filter(staff=practitioner.user)
        .order_by("name", "pk")
    )


def _practitioner_page(request, pk: int, *, days: int):
    practitioner = booking_access.get_visible_practitioner(request.user, pk)
    locations = _practitioner_locations(request, practitioner)
    home = locations[0] if locations else None
    today = home.today() if home else timezone.localdate()
    if days == 1:
        first = _date_param(request, "date", today)
    else:
        first = schedule.week_start(_date_param(request, "from", today))
    loaded = schedule.load_practitioner_days(
        practitioner,
        locations=locations,
        first_day=first,
        days=days,
        clinical_links=request.user.role == Role.PRACTITIONER,
    )
    bookable = first + dt.timedelta(days=days - 1) >= today
    grid = schedule.practitioner_grid(
        loaded,
        book_url=(lambda loc: reverse("booking:find_patient", args=[loc.slug]))
        if bookable
        else None,
        per="location" if days == 1 else "day",
    )
    step = dt.timedelta(days=days)
    _listed(request, (a.patient_id for a in loaded.appointments), "booking.schedule")
    return render(
        request,
        "booking/practitioner_schedule.html",
        {
            "practitioner": practitioner,
            "locations": locations,
            "first": first,
            "last": first + dt.timedelta(days=days - 1),
            "days": days,
            "today": today,
            "grid": grid,
            "loaded": loaded,
            "entries": [loaded.described.entries[a.pk] for a in loaded.appointments],
            "previous": first - step,
            "next": first + step,
            "is_own": request.user.pk == practitioner.user_id,
            # Worrying after-care answers wait for the practitioner on their own day too.
            "aftercare_alerts": worrying_aftercare([practitioner.pk])
            if request.user.pk == practitioner.user_id
            else [],
        },
    )


@access.staff_required
@require_safe
def practitioner_day(request, pk: int):
    """One practitioner's day across their locations, each appointment linking to the
    patient's chart and the note to write (for practitioners)."""
    return _practitioner_page(request, pk, days=1)


@access.staff_required
@require_safe
def practitioner_week(request, pk: int):
    return _practitioner_page(request, pk, days=7)


@access.role_required(Role.PRACTITIONER)
@require_safe
def my_schedule(request):
    practitioner = access.own_practitioner_record(request.user)
    return redirect("booking:practitioner_day", pk=practitioner.pk)


# --- The requests queue ---------------------------------------------------------------------------


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
    described = schedule.describe(waiting)
    entries = [described.entries[a.pk] for a in waiting]
    _listed(request, (a.patient_id for a in waiting), "booking.requests")
    return render(
        request,
        "booking/requests_queue.html",
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
    version = _int(request.POST.get("version"))
    if version is None:
        messages.error(request, "The form was out of date; here is the appointment as it is now.")
        return redirect(_detail(appointment))
    try:
        changed = action(appointment, version)
    except services.StaleAppointment as stale:
        messages.error(request, str(stale))
        return redirect(_detail(appointment))
    except services.ConsentNeeded as refused:
        messages.error(request, str(refused))
        return redirect(_detail(appointment))
    except services.BookingError as refused:
        messages.error(request, str(refused))
        return redirect(_next_url(request, _detail(appointment)))
    record_access(
        actor=request.user,
        patient=changed.patient,
        record=changed,
        action="change",
        request=request,
    )
    messages.success(request, done(changed))
    return redirect(_next_url(request, _detail(changed)))


@access.staff_required
@require_POST
def desk_confirm(request, pk: int):
    return _act(
        request,
        pk,
        lambda a, v: services.confirm_request(a, actor=request.user, expected_version=v),
        lambda a: f"Confirmed: {a.patient.full_name}, {schedule.clock(a.local_starts_at)}.",
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
    _viewed(request, appointment)
    return render(
        request,
        "booking/desk_cancel.html",
        {
            "appointment": appointment,
            "form": form,
            "late_now": appointment.is_late_cancellation(timezone.now()),
            "next": _next_url(request, ""),
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
    _viewed(request, appointment)
    return render(
        request,
        "booking/desk_decline.html",
        {"appointment": appointment, "form": form, "next": _next_url(request, "")},
    )


# --- Choosing another time (move, propose) ---------------------------------------------------------


def _staff_slots(
    *,
    location: Location,
    service: Service,
    minutes: int,
    day: dt.date,
    practitioner_id: int | None,
    patient: Patient | None,
    ignore: tuple[int, ...] = (),
    now: dt.datetime,
):
    """Free times on `day` at `location` for staff (no online notice or horizon), and the next
    day with free time if that day has none. 9 queries, or 18 when looking further."""
    start, end = schedule.day_bounds(day, location.zone)
    length = dt.timedelta(minutes=minutes)

    def search(window_start, window_end):
        window_start = max(window_start, now)
        if window_start >= window_end:
            return [], {}
        availability = load_availability(
            location=location,
            window_start=window_start,
            window_end=window_end,
            patient=patient,
            ignore_appointment_ids=ignore,
            now=now,
        )
        query = SlotQuery(
            window_start=window_start,
            window_end=window_end,
            length=length,
            now=now,
            needs_certification=service.needs_dry_needling_certification,
            for_patient=False,
        )
        ids = [practitioner_id] if practitioner_id else None
        return availability.slots(query, ids), availability.practitioners

    slots, practitioners = search(start, end)
    next_free = None
    if not slots:
        later, _ = search(end, end + dt.timedelta(days=NEXT_DAYS_SEARCHED))
        if later:
            next_free = later[0].starts_at.astimezone(location.zone).date()
    return slots, practitioners, next_free


def _slot_choices(slots, location: Location, names: dict[int, str], *, anyone: bool, chosen: str):
    """Radio choices: with "anyone", one per time (the first practitioner free then)."""
    choices, seen = [], set()
    for slot in slots:
        if anyone and slot.start in seen:
            continue
        seen.add(slot.start)
        value = slot_choice_value(slot.practitioner_id, slot.starts_at)
        choices.append(
            {
                "value": value,
                "time": schedule.clock(slot.starts_at.astimezone(location.zone)),
                "practitioner": names.get(slot.practitioner_id, ""),
                "checked": value == chosen,
            }
        )
    return choices


def _chosen_value(request) -> str:
    """A time picked on the schedule (`?at=` with `?practitioner=`), as a slot radio value."""
    starts_at = dates.instant_in_query(request.GET, "at")
    pid = _int(request.GET.get("practitioner"))
    if starts_at is None or pid is None:
        return ""
    return slot_choice_value(pid, starts_at)


def _slot_page(
    request,
    *,
    location: Location,
    locations: list[Location],
    service: Service,
    minutes: int,
    patient: Patient | None,
    ignore: tuple[int, ...] = (),
    default_practitioner: int | None = None,
    default_day: dt.date | None = None,
    keep: dict | None = None,
) -> dict:
    """What a staff page needs to show the free times of one day and let one be picked;
    `keep` are query parameters the day and practitioner filters carry along."""
    now = timezone.now()
    at = request.GET.get("at", "")
    picked_at = dates.instant_in_query(request.GET, "at")
    picked_day = picked_at.astimezone(location.zone).date() if picked_at else None
    posted = parse_slot_choice(request.POST.get("slot", "")) if request.method == "POST" else None
    if posted is not None:  # a refused choice: show that day again, with the times free now
        picked_day = posted[1].astimezone(location.zone).date()
    day = _date_param(request, "date", picked_day or default_day or location.today())
    param = request.GET.get("practitioner", "")
    if not param and default_practitioner:
        param = str(default_practitioner)
    practitioner_id = _int(param) if param != "anyone" else None
    if (
        practitioner_id
        and not Practitioner.objects.at(location).filter(pk=practitioner_id).exists()
    ):
        practitioner_id = None  # chosen at another location: anyone here
    slots, practitioners, next_free = _staff_slots(
        location=location,
        service=service,
        minutes=minutes,
        day=day,
        practitioner_id=practitioner_id,
        patient=patient,
        ignore=ignore,
        now=now,
    )
    names = {p.pk: p.name for p in practitioners.values()}
    chosen = _chosen_value(request)
    choices = _slot_choices(slots, location, names, anyone=practitioner_id is None, chosen=chosen)
    return {
        "slot_unavailable": _picked_summary(location, {"at": at})
        if chosen and not any(c["checked"] for c in choices)
        else "",
        "slot_location": location,
        "slot_locations": locations,
        "slot_day": day,
        "slot_previous_day": day - dt.timedelta(days=1),
        "slot_next_day": day + dt.timedelta(days=1),
        "slot_next_free": next_free,
        "slot_practitioners": sorted(practitioners.values(), key=lambda p: p.name),
        "slot_practitioner": str(practitioner_id) if practitioner_id else "anyone",
        "slot_choices": choices,
        "slot_rooms": list(Room.objects.filter(location=location, is_active=True)),
        "slot_room": _int(request.GET.get("room")),
        "slot_minutes": minutes,
        "slot_service": service,
        "slot_today": location.today(),
        "slot_keep": keep or {},
        "slot_keep_query": f"{urlencode(keep)}&" if keep else "",
    }


def _practitioner_for_slot(location: Location, practitioner_id: int) -> Practitioner | None:
    return (
        Practitioner.objects.at(location).select_related("user").filter(pk=practitioner_id).first()
    )


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def desk_move(request, pk: int):
    """Move an appointment to another time, practitioner, room or location, with the free
    times shown."""
    return _another_time(request, pk, propose=False)


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def desk_propose(request, pk: int):
    """Answer an online request with another time; it waits for the patient to accept."""
    return _another_time(request, pk, propose=True)


def _another_time(request, pk: int, *, propose: bool):
    appointment = booking_access.get_visible_appointment(request.user, pk)
    locations = list(access.visible_locations(request.user))
    data = request.POST if request.method == "POST" else request.GET
    location = next(
        (loc for loc in locations if loc.slug == data.get("location")), appointment.location
    )
    if location not in locations:
        location = appointment.location  # a manager may see every location; staff theirs
    message_form = ProposeMessageForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        form = DeskBookingForm(
            request.POST, rooms=Room.objects.filter(location=location, is_active=True)
        )
        if form.is_valid() and (not propose or message_form.is_valid()):
            practitioner_id, starts_at = form.cleaned_data["slot"]
            practitioner = _practitioner_for_slot(location, practitioner_id)
            version = _int(request.POST.get("version"))
            if practitioner is None or version is None:
                messages.error(request, "That time could not be read; please choose it again.")
            else:
                try:
                    if propose:
                        moved = services.propose_time(
                            appointment,
                            starts_at=starts_at,
                            location=location,
                            practitioner=practitioner,
                            room=form.cleaned_data["room"],
                            actor=request.user,
                            message=message_form.cleaned_data["message"],
                            expected_version=version,
                        )
                    else:
                        moved = services.reschedule_appointment(
                            appointment,
                            starts_at=starts_at,
                            location=location,
                            practitioner=practitioner,
                            room=form.cleaned_data["room"],
                            actor=request.user,
                            reason="Moved by the clinic",
                            expected_version=version,
                        )
                except services.StaleAppointment as stale:
                    messages.error(request, str(stale))
                    return redirect(_detail(appointment))
                except services.BookingError as refused:
                    messages.error(
                        request, f"{refused} Nothing was changed; here are the times free now."
                    )
                else:
                    record_access(
                        actor=request.user,
                        patient=moved.patient,
                        record=moved,
                        action="change",
                        request=request,
                    )
                    local = moved.local_starts_at
                    when = f"{local:%a %-d %b} {schedule.clock(local)} at {moved.location.name}"
                    messages.success(
                        request,
                        f"Proposed {when}; waiting for the patient to accept."
                        if propose
                        else f"Moved to {when} with {moved.practitioner.name}.",
                    )
                    return redirect(_next_url(request, _detail(moved)))
        else:
            messages.error(request, _problems(form, message_form if propose else None))
        appointment.refresh_from_db()
    context = _slot_page(
        request,
        location=location,
        locations=locations,
        service=appointment.service,
        minutes=appointment.minutes,
        patient=appointment.patient,
        ignore=(appointment.pk,),
        default_practitioner=appointment.practitioner_id
        if location.pk == appointment.location_id
        else None,
        default_day=appointment.local_starts_at.date()
        if appointment.starts_at > timezone.now()
        else None,
        keep={"next": next_url} if (next_url := _next_url(request, "")) else None,
    )
    context |= {
        "appointment": appointment,
        "propose": propose,
        "message_form": message_form,
        "page_url": reverse(
            "booking:desk_propose" if propose else "booking:desk_move", args=[appointment.pk]
        ),
        "next": _next_url(request, ""),
    }
    _viewed(request, appointment)
    return render(request, "booking/desk_slots.html", context)


# --- Phone and walk-in bookings ------------------------------------------------------------------

_CARRIED = ("practitioner", "at", "room", "service")


def _carried(request) -> dict:
    """What was picked on the schedule, carried from the search to the booking page."""
    data = request.POST if request.method == "POST" else request.GET
    return {key: data[key] for key in _CARRIED if data.get(key)}


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def find_patient(request, slug: str):
    """Find the patient on the phone or at the counter, or go on to add them.

    What is typed travels in the body of a POST, never in the address: a name, phone number
    or birth date in a URL would stay in server and proxy logs and the browser's history."""
    location = access.get_visible_location(request.user, slug)
    form = PatientSearchForm(request.POST if request.method == "POST" else None)
    results, close = [], False
    searched = False
    if form.is_valid():
        terms = patient_search.parse_terms(form.cleaned_data["q"], form.cleaned_data["born"])
        if terms:
            searched = True
            results, close = patient_search.find_patients(
                access.visible_patients(request.user), terms
            )
    flags = screening_flags(request, (patient.pk for patient in results))
    _listed(request, (patient.pk for patient in results), "booking.patient_search")
    carried = _carried(request)
    context = _toolbar(request, location, "book") | {
        "form": form,
        "results": [(patient, flags.get(patient.pk, [])) for patient in results],
        "close": close,
        "searched": searched,
        "carried": carried,
        "carried_query": urlencode(carried),
        "picked": _picked_summary(location, carried),
    }
    response = render(request, "booking/find_patient.html", context)
    _remember(request, response, location)
    return response


def _picked_summary(location: Location, carried: dict) -> str:
    picked = dates.instant_in_query(carried, "at")
    if picked is None:
        return ""
    at = picked.astimezone(location.zone)
    return f"{at:%A %-d %B}, {schedule.clock(at)}"


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def new_patient(request, slug: str):
    """Add a patient with the minimum details; warn first if they seem to exist already."""
    location = access.get_visible_location(request.user, slug)
    # From the search page's "New patient" button: start with the names that were searched.
    from_search = request.method == "POST" and "from_search" in request.POST
    adding = request.method == "POST" and not from_search
    form = NewPatientForm(request.POST if adding else None)
    duplicates = []
    if adding and form.is_valid():
        data = form.cleaned_data
        duplicates = patient_search.possible_duplicates(
            access.visible_patients(request.user),
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
        )
        if not duplicates or request.POST.get("confirm_new") == "1":
            patient = services.register_patient_at_desk(
                location=location,
                first_name=data["first_name"],
                last_name=data["last_name"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                email=data["email"],
            )
            record_access(
                actor=request.user,
                patient=patient,
                record=patient,
                action="create",
                request=request,
            )
            messages.success(request, f"{patient.full_name} is added at {location.name}.")
            url = reverse("booking:book_for_patient", args=[location.slug, patient.pk])
            carried = _carried(request)
            return redirect(f"{url}?{urlencode(carried)}" if carried else url)
    elif from_search:
        form.initial = _names_from(request.POST.get("q", ""))
    return render(
        request,
        "booking/new_patient.html",
        {
            "location": location,
            "form": form,
            "duplicates": duplicates,
            "carried": _carried(request),
        },
    )


def _names_from(typed: str) -> dict:
    words = [w for w in typed.split() if not any(c.isdigit() for c in w) and "@" not in w]
    if len(words) >= 2:
        return {"first_name": words[0].title(), "last_name": " ".join(words[1:]).title()}
    return {"last_name": words[0].title()} if words else {}


def _bookable_services() -> list[Service]:
    """What the desk books directly; needling sessions are booked as a course."""
    return list(
        Service.objects.filter(
            is_active=True, kind__in=[ServiceKind.ASSESSMENT, ServiceKind.REASSESSMENT]
        ).order_by("kind")
    )


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def book_for_patient(request, slug: str, patient_pk: int):
    """Book an assessment (or re-assessment) for a patient on the phone or at the counter; for
    an assessed patient, go on to book their course."""
    location = access.get_visible_location(request.user, slug)
    patient = access.get_visible_patient(request.user, patient_pk)
    offered = _bookable_services()
    data = request.POST if request.method == "POST" else request.GET
    service = next((s for s in offered if s.kind == data.get("service")), None) or (
        offered[0] if offered else None
    )
    if service is None:
        messages.error(request, "No service can be booked yet: ask a manager to set them up.")
        return redirect("booking:location_day", slug=location.slug)
    minutes = _int(data.get("minutes"))
    if minutes not in service.allowed_minutes:
        minutes = service.default_minutes
    if request.method == "POST":
        form = DeskBookingForm(
            request.POST, rooms=Room.objects.filter(location=location, is_active=True)
        )
        if form.is_valid():
            practitioner_id, starts_at = form.cleaned_data["slot"]
            practitioner = _practitioner_for_slot(location, practitioner_id)
            how = "walk-in" if request.POST.get("channel") == "walk_in" else "phone"
            try:
                if practitioner is None:
                    raise services.SlotUnavailable(["That practitioner does not work here."])
                appointment = services.book_appointment(
                    patient=patient,
                    location=location,
                    practitioner=practitioner,
                    service=service,
                    starts_at=starts_at,
                    minutes=minutes,
                    room=form.cleaned_data["room"],
                    actor=request.user,
                    reason="Booked at the counter (walk-in)"
                    if how == "walk-in"
                    else "Booked by phone",
                )
            except services.BookingError as refused:
                messages.error(
                    request, f"{refused} Nothing was booked; here are the times free now."
                )
            else:
                record_access(
                    actor=request.user,
                    patient=patient,
                    record=appointment,
                    action="create",
                    request=request,
                )
                local = appointment.local_starts_at
                messages.success(
                    request,
                    f"Booked: {patient.full_name}, {service.name}, {local:%a %-d %b} "
                    f"{schedule.clock(local)} with {practitioner.name}.",
                )
                return redirect(_day_url(location, local.date()))
        else:
            messages.error(request, _problems(form))
    record_access(actor=request.user, patient=patient, record=patient, request=request)
    upcoming = list(
        Appointment.objects.filter(
            patient=patient,
            status__in=ACTIVE_STATUSES,
            ends_at__gte=timezone.now(),
            starts_at__gt=timezone.now() - LONGEST_APPOINTMENT,
        )
        .select_related("location", "service", "course", "practitioner__user")
        .order_by("starts_at")[:5]
    )
    overview = gates.intake_overview([patient.pk])[patient.pk]
    context = _slot_page(
        request,
        location=location,
        locations=[location],
        service=service,
        minutes=minutes,
        patient=patient,
        keep={"service": service.kind, "minutes": minutes},
    )
    context |= {
        "location": location,
        "patient": patient,
        "services": offered,
        "service": service,
        "minutes": minutes,
        "upcoming": upcoming,
        "overview": overview,
        "gate": gates.course_gate(patient),
        "page_url": reverse("booking:book_for_patient", args=[location.slug, patient.pk]),
        "channel": request.POST.get("channel", "phone"),
    }
    return render(request, "booking/book_for_patient.html", context)


# --- Booking a session of a course again ---------------------------------------------------------


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def course_session_rebook(request, pk: int, number: int):
    """Book a cancelled (or missed) session of a course again under its number, with the
    free times of a chosen location and practitioner shown."""
    course = booking_access.get_visible_course(request.user, pk)
    if not 1 <= number <= course.sessions_planned:
        raise Http404("No such session in this course.")
    course_url = reverse("booking:course_detail", args=[course.pk])
    already = services.course_session_refusal(course, number)
    if already:
        messages.info(request, already)
        return redirect(course_url)
    previous = (
        course.appointments.filter(session_number=number)
        .select_related("location", "practitioner__user")
        .order_by("-starts_at", "-pk")
        .first()
    )
    locations = list(access.visible_locations(request.user).offering_dry_needling())
    data = request.POST if request.method == "POST" else request.GET
    location = next((loc for loc in locations if loc.slug == data.get("location")), None)
    if location is None and previous is not None and previous.location in locations:
        location = previous.location
    location = location or (locations[0] if locations else None)
    gate = gates.needling_gate(course.patient)
    context = {
        "course": course,
        "number": number,
        "previous": previous,
        "gate": gate,
        "page_url": reverse("booking:course_session_rebook", args=[course.pk, number]),
        "course_url": course_url,
    }
    if not gate.allowed or location is None:
        log_access(request, course)
        return render(request, "booking/course_session_rebook.html", context)
    if request.method == "POST":
        form = DeskBookingForm(
            request.POST, rooms=Room.objects.filter(location=location, is_active=True)
        )
        if form.is_valid():
            practitioner_id, starts_at = form.cleaned_data["slot"]
            practitioner = _practitioner_for_slot(location, practitioner_id)
            try:
                if practitioner is None:
                    raise services.SlotUnavailable(["That practitioner does not work here."])
                appointment = services.rebook_course_session(
                    course=course,
                    session_number=number,
                    location=location,
                    practitioner=practitioner,
                    starts_at=starts_at,
                    room=form.cleaned_data["room"],
                    actor=request.user,
                )
            except services.BookingError as refused:
                booked_meanwhile = services.course_session_refusal(course, number)
                if booked_meanwhile:
                    messages.error(request, f"Nothing was booked: {booked_meanwhile}")
                    return redirect(course_url)
                messages.error(
                    request, f"{refused} Nothing was booked; here are the times free now."
                )
            else:
                log_access(request, appointment, "create")
                local = appointment.local_starts_at
                messages.success(
                    request,
                    f"Session {number} of {course.sessions_planned} is booked again: "
                    f"{local:%a %-d %b} {schedule.clock(local)} at {location.name} "
                    f"with {practitioner.name}.",
                )
                return redirect(course_url)
        else:
            messages.error(request, _problems(form))
    service = Service.objects.get(kind=ServiceKind.DRY_NEEDLING)
    same_place = previous is not None and previous.location_id == location.pk
    context |= _slot_page(
        request,
        location=location,
        locations=locations,
        service=service,
        minutes=course.minutes,
        patient=course.patient,
        default_practitioner=previous.practitioner_id if same_place else None,
        default_day=previous.local_starts_at.date()
        if previous is not None and previous.starts_at > timezone.now()
        else None,
    )
    log_access(request, course)
    return render(request, "booking/course_session_rebook.html", context)


# --- The waitlist board ---------------------------------------------------------------------------


@access.staff_required
@require_safe
def waitlist_board(request, slug: str):
    """Who is waiting for an earlier time at the location, first come first served, and the
    times freed lately."""
    location = access.get_visible_location(request.user, slug)
    now = timezone.now()
    entries = list(
        WaitlistEntry.objects.filter(
            location=location,
            state__in=[WaitlistEntry.State.WAITING, WaitlistEntry.State.OFFERED],
        )
        .select_related("patient", "service", "practitioner__user")
        .order_by("created_at", "pk")
    )
    open_offers = {
        offer.entry_id: offer
        for offer in WaitlistOffer.objects.filter(
            entry__in=entries, state=WaitlistOffer.State.OPEN
        ).select_related("hold__practitioner__user")
    }
    freed = list(
        Appointment.objects.filter(
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
    _listed(request, (entry.patient_id for entry in entries), "booking.waitlistentry")
    context = _toolbar(request, location, "waitlist") | {
        "rows": [
            (entry, open_offers.get(entry.pk), flags.get(entry.patient_id, [])) for entry in entries
        ],
        "freed": freed,
        "now": now,
    }
    response = render(request, "booking/waitlist_board.html", context)
    _remember(request, response, location)
    return response


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
            practitioner = _practitioner_for_slot(entry.location, practitioner_id)
            try:
                if practitioner is None:
                    raise services.SlotUnavailable(["That practitioner does not work here."])
                offer = services.offer_slot_by_hand(
                    entry=entry, practitioner=practitioner, starts_at=starts_at, actor=request.user
                )
            except services.BookingError as refused:
                messages.error(request, f"{refused} Nothing was offered.")
            else:
                local = offer.hold.starts_at.astimezone(entry.location.zone)
                messages.success(
                    request,
                    f"Offered {local:%a %-d %b} {schedule.clock(local)} to "
                    f"{entry.patient.full_name}; it is kept for them until the offer ends.",
                )
                return redirect(board)
        else:
            messages.error(request, _problems(form))
        entry.refresh_from_db()
    now = timezone.now()
    location = entry.location
    availability = load_availability(
        location=location,
        window_start=now,
        window_end=now + dt.timedelta(days=NEXT_DAYS_SEARCHED),
        patient=entry.patient,
        practitioner_ids=[entry.practitioner_id] if entry.practitioner_id else None,
        now=now,
    )
    slots = availability.slots(
        SlotQuery(
            window_start=now,
            window_end=now + dt.timedelta(days=NEXT_DAYS_SEARCHED),
            length=dt.timedelta(minutes=entry.minutes),
            now=now,
            needs_certification=entry.service.needs_dry_needling_certification,
            for_patient=False,
        )
    )
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
                "time": schedule.clock(local_start),
                "practitioner": names.get(slot.practitioner_id, ""),
            }
        )
    return render(
        request,
        "booking/waitlist_offer.html",
        {"entry": entry, "days": days, "board": board, "searched_days": NEXT_DAYS_SEARCHED},
    )


@access.staff_required
@require_POST
def waitlist_remove(request, pk: int):
    entry = booking_access.get_visible_waitlist_entry(request.user, pk)
    services.leave_waitlist(entry)
    messages.success(request, f"{entry.patient.full_name} is off the waitlist.")
    return redirect("booking:waitlist_board", slug=entry.location.slug)


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def waitlist_add(request, slug: str, patient_pk: int):
    """Put a patient on the waitlist for them (they asked by phone or at the counter)."""
    location = access.get_visible_location(request.user, slug)
    patient = access.get_visible_patient(request.user, patient_pk)
    offered = _bookable_services()
    form = DeskWaitlistForm(
        request.POST if request.method == "POST" else None,
        practitioners=Practitioner.objects.at(location).select_related("user"),
        services=offered,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.join_waitlist(
                patient=patient,
                location=location,
                service=data["service"],
                minutes=data["minutes"],
                weekdays=data["weekdays"],
                earliest_time=data["earliest_time"],
                latest_time=data["latest_time"],
                practitioner=data["practitioner"],
                actor=request.user,
            )
        except services.BookingError as refused:
            form.add_error(None, str(refused))
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
        "booking/waitlist_add.html",
        {"location": location, "patient": patient, "form": form},
    )


# --- The patient's answer to a proposed time ----------------------------------------------------


@access.patient_required
@require_POST
def proposal_accept(request, pk: int):
    appointment = booking_access.get_visible_appointment(request.user, pk)
    try:
        services.accept_proposed_time(
            appointment, actor=request.user, expected_version=_int(request.POST.get("version"))
        )
    except services.BookingError as refused:
        messages.error(request, str(refused))
    else:
        log_access(request, appointment, "change")
        messages.success(request, "Thank you: your appointment is confirmed at the new time.")
    return redirect(_detail(appointment))


# --- The staff side of an appointment's page ------------------------------------------------------


def staff_panel(appointment: Appointment, user) -> dict:
    """What staff see on an appointment's page besides its details: the badges (with the
    screening reasons for clinicians; the front desk sees the flag alone), whether check-in is
    possible, and the actions open to it."""
    overview = gates.intake_overview([appointment.patient_id])[appointment.patient_id]
    history = schedule.patient_histories([appointment.patient_id]).get(
        appointment.patient_id, schedule.NO_HISTORY
    )
    now = timezone.now()
    return {
        "badges": schedule.appointment_badges(appointment, overview, history),
        "flag_reasons": overview.flag_reasons if gates.sees_intake_answers(user) else (),
        "consent_current": overview.consent_current,
        "counter_consent_url": gates.intake_url("counter_consent", appointment.patient_id),
        "chart_url": gates.intake_url("patient_chart", appointment.patient_id)
        if user.role == Role.PRACTITIONER
        else None,
        "can_confirm": appointment.status == Status.REQUESTED,
        "can_check_in": appointment.status == Status.CONFIRMED,
        "can_complete": appointment.status == Status.CHECKED_IN,
        "can_no_show": appointment.status == Status.CONFIRMED and appointment.starts_at <= now,
        "can_cancel": appointment.can_change_to(Status.CANCELLED),
        "can_move": appointment.is_movable,
        "late_now": appointment.is_late_cancellation(now),
        "day_url": _day_url(appointment.location, appointment.local_starts_at.date()),
        **_counter_checkin(appointment, now),
    }


def _counter_checkin(appointment: Appointment, now) -> dict:
    """For a needling session about to happen: the counter tablet's pre-session check-in, or
    that the patient has already answered it (never the answers: the front desk sees no
    clinical content)."""
    from booking.selectors import visits_for_intake
    from intake.clinical.models import CheckInKind
    from intake.clinical.selectors import checkin_window, current_answer

    if appointment.course_id is None or appointment.status not in (
        Status.CONFIRMED,
        Status.CHECKED_IN,
    ):
        return {}
    visit = next(iter(visits_for_intake(appointment_ids=[appointment.pk])), None)
    window = checkin_window(CheckInKind.BEFORE_SESSION, visit) if visit else None
    if window is None or not window.is_open(now):
        return {}
    if current_answer(CheckInKind.BEFORE_SESSION, visit) is not None:
        return {"checkin_received": True}
    return {"checkin_url": reverse("intake:counter_checkin", args=[appointment.pk])}
