"""The desk's day close pages: a location's day on screen, and its CSV for the bookkeeper
(through the shared writer, `clinic.exports`). Front desk of the location and managers."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from booking.billing.day_close import close_day, csv_rows
from clinic import access
from clinic.audit import record_export, record_listing
from clinic.dates import date_in_query
from clinic.exports import csv_response
from clinic.models import Role

takes_payments = access.role_required(Role.FRONT_DESK, Role.MANAGER)


@takes_payments
@require_safe
def day_close(request, slug: str):
    location = access.get_visible_location(request.user, slug)
    day = date_in_query(request.GET, "date", location.today())
    close = close_day(location, day)
    record_listing(
        request=request,
        patient_ids=(row.patient_id for row in close.transactions),
        record_type="billing.day_close",
    )
    return render(request, "billing/day_close.html", {"close": close, "location": location})


@takes_payments
@require_safe
def day_close_csv(request, slug: str):
    location = access.get_visible_location(request.user, slug)
    day = date_in_query(request.GET, "date", location.today())
    close = close_day(location, day)
    record_export(
        request=request,
        patient_ids=(row.patient_id for row in close.transactions),
        record_type="billing.day_close",
    )
    return csv_response(csv_rows(close), f"day-close-{location.slug}-{day.isoformat()}.csv")
