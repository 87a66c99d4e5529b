"""The desk's day close pages: a location's day on screen, and its CSV for the bookkeeper
(through the shared writer, `clinic.exports`). Front desk of the location and managers."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from booking.billing.day_close import DayClose, close_day, csv_rows
from clinic import access
from clinic.audit import record_export, record_listing
from clinic.dates import date_in_query
from clinic.exports import csv_response
from clinic.models import Role

takes_payments = access.role_required(Role.FRONT_DESK, Role.MANAGER)


def _close_asked_for(request, slug: str, record) -> DayClose:
    """The close of the day asked for (today by default) at a location the user may see, its
    patients recorded in the access log by `record`: a listing on screen, an export in a file."""
    location = access.get_visible_location(request.user, slug)
    close = close_day(location, date_in_query(request.GET, "date", location.today()))
    record(
        request=request,
        patient_ids=(row.patient_id for row in close.transactions),
        record_type="billing.day_close",
    )
    return close


@takes_payments
@require_safe
def day_close(request, slug: str):
    close = _close_asked_for(request, slug, record_listing)
    return render(request, "billing/day_close.html", {"close": close, "location": close.location})


@takes_payments
@require_safe
def day_close_csv(request, slug: str):
    close = _close_asked_for(request, slug, record_export)
    filename = f"day-close-{close.location.slug}-{close.day.isoformat()}.csv"
    return csv_response(csv_rows(close), filename)
