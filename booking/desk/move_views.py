"""Choosing a time as staff: the free times of a location for a service, moving an
appointment or proposing another time to the patient, and booking a cancelled or missed
session of a course again under its number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_safe

from booking import access as booking_access
from booking import gates, services
from booking.availability import SlotQuery, aware
from booking.desk import grid
from booking.desk.helpers import (
    NEXT_DAYS_SEARCHED,
    appointment_url,
    date_param,
    done,
    form_problems,
    record_viewed,
)
from booking.forms import (
    DeskBookingForm,
    ProposeMessageForm,
    parse_slot_choice,
    slot_choice_value,
)
from booking.models import (
    Appointment,
    Room,
)
from booking.selectors import load_availability
from clinic import access, dates
from clinic.audit import log_access
from clinic.models import Location, Patient, Practitioner, Service, ServiceKind
from clinic.params import whole_number
from clinic.security import safe_next_url


def staff_slots(
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
    start, end = grid.day_bounds(day, location.zone)

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
        query = SlotQuery.for_service(
            service, minutes, window_start, window_end, now=now, for_patient=False
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


def slot_choices(slots, location: Location, names: dict[int, str], *, anyone: bool, chosen: str):
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
                "time": grid.clock(slot.starts_at.astimezone(location.zone)),
                "practitioner": names.get(slot.practitioner_id, ""),
                "checked": value == chosen,
            }
        )
    return choices


def chosen_value(request) -> str:
    """A time picked on the schedule (`?at=` with `?practitioner=`), as a slot radio value."""
    starts_at = dates.instant_in_query(request.GET, "at")
    pid = whole_number(request.GET.get("practitioner"))
    if starts_at is None or pid is None:
        return ""
    return slot_choice_value(pid, starts_at)


def slot_page(
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
    day = date_param(request, "date", picked_day or default_day or location.today())
    param = request.GET.get("practitioner", "")
    if not param and default_practitioner:
        param = str(default_practitioner)
    practitioner_id = whole_number(param) if param != "anyone" else None
    if (
        practitioner_id
        and not Practitioner.objects.at(location).filter(pk=practitioner_id).exists()
    ):
        practitioner_id = None  # chosen at another location: anyone here
    slots, practitioners, next_free = staff_slots(
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
    chosen = chosen_value(request)
    choices = slot_choices(slots, location, names, anyone=practitioner_id is None, chosen=chosen)
    return {
        "slot_unavailable": picked_summary(location, {"at": at})
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
        "slot_room": whole_number(request.GET.get("room")),
        "slot_minutes": minutes,
        "slot_service": service,
        "slot_today": location.today(),
        "slot_keep": keep or {},
        "slot_keep_query": f"{urlencode(keep)}&" if keep else "",
    }


def practitioner_for_slot(location: Location, practitioner_id: int) -> Practitioner | None:
    return (
        Practitioner.objects.at(location).select_related("user").filter(pk=practitioner_id).first()
    )


def slot_practitioner(location: Location, practitioner_id: int) -> Practitioner:
    """The practitioner a chosen time names, refused like any time that cannot be booked when
    they do not work at `location` (a form posted from an old page, or tampered with)."""
    practitioner = practitioner_for_slot(location, practitioner_id)
    if practitioner is None:
        raise services.SlotUnavailable(["That practitioner does not work here."])
    return practitioner


def book_chosen_time(
    request, location: Location, book: Callable[..., Appointment]
) -> tuple[Appointment | None, services.BookingError | None]:
    """Book the free time chosen on a slot page at `location`: `book` (a booking service with
    the patient's side given) is called with the place, practitioner, time, room and actor.
    Returns the appointment, its creation logged, or the refusal to show above the times free
    now; neither when the form could not be read (its problems are shown)."""
    form = DeskBookingForm(request.POST, location=location)
    if not form.is_valid():
        messages.error(request, form_problems(form))
        return None, None
    practitioner_id, starts_at = form.cleaned_data["slot"]
    try:
        appointment = book(
            location=location,
            practitioner=slot_practitioner(location, practitioner_id),
            starts_at=starts_at,
            room=form.cleaned_data["room"],
            actor=request.user,
        )
    except services.BookingError as refused:
        return None, refused
    log_access(request, appointment, "create")
    return appointment, None


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


@access.staff_required
@require_safe
def desk_move_drop(request, pk: int):
    """An appointment dropped on the day view (drag and drop) at `date` and `minute` (local
    minutes after midnight), on a practitioner's or a room's column: the same rules as the
    move form, asked before anything changes. A drop that breaks one is refused with the
    reasons (the box stays where it was); one that keeps them all asks for confirmation, which
    posts to the move form, so the patient is told as for any move."""
    appointment = booking_access.get_visible_appointment(request.user, pk)
    location = appointment.location
    day = date_param(request, "date", location.today())
    minute = whole_number(request.GET.get("minute"))
    room_id = whole_number(request.GET.get("room"))
    practitioner = practitioner_for_slot(
        location, whole_number(request.GET.get("practitioner")) or appointment.practitioner_id
    )
    room = (
        Room.objects.filter(location=location, pk=room_id, is_active=True).first()
        if room_id
        else None
    )
    problems, checked, starts_at = [], None, None
    if not appointment.is_movable:
        problems.append(
            f"A {appointment.get_status_display().lower()} appointment cannot be moved."
        )
    elif minute is None or not 0 <= minute < 24 * 60:
        problems.append("That time could not be read; drop the appointment again.")
    elif practitioner is None:
        problems.append("That practitioner does not work here.")
    elif room_id and room is None:
        problems.append("That room is not at this location.")
    else:
        starts_at = aware(day, dt.time(minute // 60, minute % 60), location.zone)
        try:
            checked = services.check_move(
                appointment,
                location=location,
                practitioner=practitioner,
                starts_at=starts_at,
                for_patient=False,
                room=room,
            )
        except services.SlotUnavailable as refused:
            problems = refused.problems
    record_viewed(request, appointment)
    back = reverse("booking:location_day", args=[location.slug])
    return render(
        request,
        "booking/desk/move_drop.html",
        {
            "appointment": appointment,
            "problems": problems,
            "checked": checked,
            "when": f"{starts_at.astimezone(location.zone):%a %-d %b} "
            f"{grid.clock(starts_at.astimezone(location.zone))}"
            if starts_at
            else "",
            "slot": slot_choice_value(practitioner.pk, starts_at) if checked else "",
            "room": Room.objects.get(pk=checked.room_id) if checked else None,
            "practitioner": practitioner,
            "back": f"{back}?date={day.isoformat()}",
        },
    )


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
        form = DeskBookingForm(request.POST, location=location)
        if form.is_valid() and (not propose or message_form.is_valid()):
            practitioner_id, starts_at = form.cleaned_data["slot"]
            practitioner = practitioner_for_slot(location, practitioner_id)
            version = whole_number(request.POST.get("version"))
            if practitioner is None or version is None:
                messages.error(request, "That time could not be read; please choose it again.")
            else:
                where = {
                    "starts_at": starts_at,
                    "location": location,
                    "practitioner": practitioner,
                    "room": form.cleaned_data["room"],
                    "actor": request.user,
                    "expected_version": version,
                }
                try:
                    if propose:
                        moved = services.propose_time(
                            appointment, message=message_form.cleaned_data["message"], **where
                        )
                    else:
                        moved = services.reschedule_appointment(
                            appointment, reason="Moved by the clinic", **where
                        )
                except services.StaleAppointment as stale:
                    messages.error(request, str(stale))
                    return redirect(appointment_url(appointment))
                except services.BookingError as refused:
                    messages.error(
                        request, f"{refused} Nothing was changed; here are the times free now."
                    )
                else:
                    log_access(request, moved, "change")
                    local = moved.local_starts_at
                    when = f"{local:%a %-d %b} {grid.clock(local)} at {moved.location.name}"
                    return done(
                        request,
                        f"Proposed {when}; waiting for the patient to accept."
                        if propose
                        else f"Moved to {when} with {moved.practitioner.name}.",
                        safe_next_url(request, appointment_url(moved)),
                    )
        else:
            messages.error(request, form_problems(form, message_form if propose else None))
        appointment.refresh_from_db()
    context = slot_page(
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
        keep={"next": next_url} if (next_url := safe_next_url(request, "")) else None,
    )
    context |= {
        "appointment": appointment,
        "propose": propose,
        "message_form": message_form,
        "page_url": reverse(
            "booking:desk_propose" if propose else "booking:desk_move", args=[appointment.pk]
        ),
        "next": safe_next_url(request, ""),
    }
    record_viewed(request, appointment)
    return render(request, "booking/desk/slots.html", context)


# --- Phone and walk-in bookings ------------------------------------------------------------------

CARRIED = ("practitioner", "at", "room", "service", "minutes")


def carried_from_schedule(request) -> dict:
    """What was picked on the schedule, carried from the search to the booking page."""
    data = request.POST if request.method == "POST" else request.GET
    return {key: data[key] for key in CARRIED if data.get(key)}


def picked_summary(location: Location, carried: dict) -> str:
    picked = dates.instant_in_query(carried, "at")
    if picked is None:
        return ""
    at = picked.astimezone(location.zone)
    return f"{at:%A %-d %B}, {grid.clock(at)}"


def bookable_services() -> list[Service]:
    """What the desk books directly; needling sessions are booked as a course."""
    return list(
        Service.objects.filter(
            is_active=True, kind__in=[ServiceKind.ASSESSMENT, ServiceKind.REASSESSMENT]
        ).order_by("kind")
    )


@access.staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def rebook_course_session_page(request, pk: int, number: int):
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
        return render(request, "booking/desk/course_session_rebook.html", context)
    if request.method == "POST":
        appointment, refused = book_chosen_time(
            request,
            location,
            partial(services.rebook_course_session, course=course, session_number=number),
        )
        if refused is not None:
            booked_meanwhile = services.course_session_refusal(course, number)
            if booked_meanwhile:
                messages.error(request, f"Nothing was booked: {booked_meanwhile}")
                return redirect(course_url)
            messages.error(request, f"{refused} Nothing was booked; here are the times free now.")
        elif appointment:
            local = appointment.local_starts_at
            messages.success(
                request,
                f"Session {number} of {course.sessions_planned} is booked"
                f"{' again' if previous is not None else ''}: "
                f"{local:%a %-d %b} {grid.clock(local)} at {location.name} "
                f"with {appointment.practitioner.name}.",
            )
            return redirect(course_url)
    service = Service.objects.get(kind=ServiceKind.DRY_NEEDLING)
    same_place = previous is not None and previous.location_id == location.pk
    context |= slot_page(
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
    return render(request, "booking/desk/course_session_rebook.html", context)


# --- The waitlist board ---------------------------------------------------------------------------
