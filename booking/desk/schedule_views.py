"""The schedule pages: where the desk opens, a location's day (by practitioner or by room),
its printable list and week, a practitioner's day and week across their locations, and a
practitioner's own schedule.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from booking import access as booking_access
from booking.desk import free_time, schedule
from booking.desk.grid import week_start
from booking.desk.helpers import (
    date_param,
    record_listed,
    remembered_location,
    render_location_page,
    toolbar,
    week_to_open,
)
from clinic import access
from clinic.models import Location, Practitioner, Role
from intake.clinical.selectors import worrying_aftercare


@access.staff_required
@require_safe
def desk(request):
    """The schedule of the location chosen last on this device (or the first one)."""
    location = remembered_location(request) or access.visible_locations(request.user).first()
    if location is None:
        return render(request, "booking/desk/no_location.html")
    return redirect("booking:location_day", slug=location.slug)


# --- A location's day, list and week ------------------------------------------------------------


@access.staff_required
@require_safe
def location_day(request, slug: str):
    """Practitioners (or rooms) as columns, time down the side in the location's time zone,
    every appointment with its badges; free time links to booking it."""
    location = access.get_visible_location(request.user, slug)
    today = location.today()
    day = date_param(request, "date", today)
    by = "rooms" if request.GET.get("by") == "rooms" else "practitioners"
    choices = free_time.offers()
    offer = free_time.chosen_offer(request, choices)
    loaded = schedule.load_location_day(location, day)
    bookable = day >= today
    grid = schedule.day_grid(
        loaded,
        by=by,
        book_url=reverse("booking:find_patient", args=[slug]) if bookable else "",
        practitioner_url=lambda p: (
            f"{reverse('booking:practitioner_day', args=[p.pk])}?date={day.isoformat()}"
        ),
        offer=offer,
    )
    context = toolbar(request, location, "day", day) | {
        "day": day,
        "today": today,
        "by": by,
        "offers": choices,
        "offer": offer,
        "bookable": bookable,
        "grid": grid,
        "loaded": loaded,
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "zone_name": dt.datetime.combine(day, dt.time(12), tzinfo=location.zone).tzname(),
    }
    record_listed(request, (a.patient_id for a in loaded.appointments), "booking.schedule")
    response = render_location_page(request, location, "booking/desk/day.html", context)
    free_time.remember_offer(request, response, offer)
    return response


@access.staff_required
@require_safe
def location_day_list(request, slug: str):
    """The day as a printable list, in time order, cancellations and no-shows included."""
    location = access.get_visible_location(request.user, slug)
    day = date_param(request, "date", location.today())
    loaded = schedule.load_location_day(location, day)
    context = toolbar(request, location, "list", day) | {
        "day": day,
        "entries": loaded.entries,
        "printed_at": timezone.now(),
    }
    record_listed(request, (a.patient_id for a in loaded.appointments), "booking.schedule")
    return render_location_page(request, location, "booking/desk/day_list.html", context)


@access.staff_required
@require_safe
def location_week(request, slug: str):
    """Practitioners down the side, the week's days across: appointments and free time."""
    location = access.get_visible_location(request.user, slug)
    chosen = date_param(request, "from", None)
    first = week_start(chosen) if chosen else week_to_open(location)
    week = schedule.load_location_week(location, first)
    context = toolbar(request, location, "week", first) | {
        "week": week,
        "today": location.today(),
        "previous_week": first - dt.timedelta(days=7),
        "next_week": first + dt.timedelta(days=7),
    }
    shown = [e for row in week.rows for cell in row.cells for e in cell.entries] + week.off_grid
    record_listed(request, (e.appointment.patient_id for e in shown), "booking.schedule")
    return render_location_page(request, location, "booking/desk/week.html", context)


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
        first = date_param(request, "date", today)
    else:
        first = week_start(date_param(request, "from", today))
    loaded = schedule.load_practitioner_days(
        practitioner,
        locations=locations,
        first_day=first,
        days=days,
        clinical_links=request.user.role == Role.PRACTITIONER,
    )
    bookable = first + dt.timedelta(days=days - 1) >= today
    choices = free_time.offers()
    offer = free_time.chosen_offer(request, choices)
    grid = schedule.practitioner_grid(
        loaded,
        book_url=(lambda loc: reverse("booking:find_patient", args=[loc.slug]))
        if bookable
        else None,
        per="location" if days == 1 else "day",
        offer=offer,
    )
    step = dt.timedelta(days=days)
    record_listed(request, (a.patient_id for a in loaded.appointments), "booking.schedule")
    response = render(
        request,
        "booking/desk/practitioner_schedule.html",
        {
            "offers": choices,
            "offer": offer,
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
    free_time.remember_offer(request, response, offer)
    return response


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
