"""What the front desk's pages share: the location a counter tablet remembers, the toolbar
linking a location's pages, reading dates and numbers from a request, and the access-log rows
of a list or a view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib import messages
from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import trigger_client_event

from booking.models import (
    Appointment,
    Status,
)
from clinic import access, dates
from clinic.audit import log_access, record_listing
from clinic.context_processors import in_panel
from clinic.models import Location, Weekday

LOCATION_COOKIE = "desk_location"
_COOKIE_SALT = "booking.desk.location"
_COOKIE_AGE = 60 * 60 * 24 * 365  # a counter tablet stays at its location
NEXT_DAYS_SEARCHED = 14  # "next day with free time" looks this far ahead


# --- Helpers -----------------------------------------------------------------------------------


def remember_on_device(request, response, name: str, salt: str, value: str) -> None:
    """What this device chose last (its location; the service its free time is shown for), in
    a signed cookie kept for a year: a counter tablet stays at its desk."""
    response.set_signed_cookie(
        name,
        value,
        salt=salt,
        max_age=_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def remembered_on_device(request, name: str, salt: str) -> str:
    """What `remember_on_device` kept ("" if nothing, or a cookie not signed by us)."""
    try:
        return request.get_signed_cookie(name, salt=salt)
    except (KeyError, signing.BadSignature):
        return ""


def render_location_page(request, location: Location, template: str, context: dict) -> HttpResponse:
    """A page of one location's desk; that location is where the desk opens next time, on
    this device."""
    response = render(request, template, context)
    remember_on_device(request, response, LOCATION_COOKIE, _COOKIE_SALT, location.slug)
    return response


def remembered_location(request) -> Location | None:
    slug = remembered_on_device(request, LOCATION_COOKIE, _COOKIE_SALT)
    return access.visible_locations(request.user).filter(slug=slug).first() if slug else None


def date_param(request, name: str, default: dt.date | None) -> dt.date | None:
    return dates.date_in_query(request.GET, name, default)


def done(request, message: str, next_url: str) -> HttpResponse:
    """A booking or a move went through. Asked for by the schedule's panel (opened in place),
    answer "nothing to show" and tell the page (the `deskChanged` event, with the message) to
    close the panel and draw the grid again; asked for as a page, say so and go to `next_url`."""
    if in_panel(request):
        return trigger_client_event(HttpResponse(status=204), "deskChanged", {"message": message})
    messages.success(request, message)
    return redirect(next_url)


def week_to_open(location: Location) -> dt.date:
    """The Monday of the week a location's week view opens on when none is chosen: the
    current working week, or the next one once this week's working days are over (on Saturday
    and Sunday at a location open Monday to Friday). A location with no opening hours on
    record counts Monday to Friday."""
    today = location.today()
    open_days = set(location.opening_hours.values_list("weekday", flat=True))
    monday = today - dt.timedelta(days=today.weekday())
    if today.weekday() > max(open_days, default=Weekday.FRIDAY):
        return monday + dt.timedelta(weeks=1)
    return monday


def form_problems(*forms) -> str:
    """Every error of the forms, as one message (the slot pickers have no field to put them on)."""
    return " ".join(
        error
        for form in forms
        if form is not None
        for errors in form.errors.values()
        for error in errors
    )


def record_listed(request, patient_ids: Iterable[int], what: str) -> None:
    """A schedule, queue or board showed these patients with their appointments: a list row
    each in the access log (clinic.audit), in one statement."""
    record_listing(request=request, patient_ids=patient_ids, record_type=what)


def record_viewed(request, appointment: Appointment) -> None:
    """A page showing one patient's appointment is a view of their record (clinic.audit)."""
    log_access(request, appointment)


def appointment_url(appointment: Appointment) -> str:
    return reverse("booking:appointment_detail", args=[appointment.pk])


def day_url(location: Location, day: dt.date, **query) -> str:
    query = {"date": day.isoformat()} | {k: v for k, v in query.items() if v}
    return f"{reverse('booking:location_day', args=[location.slug])}?{urlencode(query)}"


def toolbar(request, location: Location, page: str, day: dt.date | None = None) -> dict:
    """The location switcher and the links between the desk's pages for one location."""
    locations = list(access.visible_locations(request.user))
    return {
        "location": location,
        "locations": locations,
        "page": page,
        "toolbar_day": day or location.today(),
        # The Week button opens the week of the day shown, or with no other day chosen the
        # working week (the next one at the weekend).
        "toolbar_week_from": day if day is not None and day != location.today() else None,
        "requests_waiting": Appointment.objects.filter(
            status=Status.REQUESTED, proposed_by_clinic=False, location__in=locations
        ).count(),
    }


# --- Where the desk opens ----------------------------------------------------------------------
