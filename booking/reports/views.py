"""The clinic's results dashboard and its exports, under /reports/. Managers see every
location and practitioner; a practitioner sees only their own line. Exports write the access
log (action "export") for each patient whose courses they rest on."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import BadRequest
from django.db.models import QuerySet
from django.shortcuts import render
from django.utils.crypto import salted_hmac
from django.views.decorators.http import require_safe

from booking import reports
from booking.forms import ReportFilterForm
from clinic import access
from clinic.audit import record_export
from clinic.dates import clinic_today
from clinic.exports import csv_response
from clinic.models import Location, Practitioner, Role, User

report_viewers = access.role_required(Role.MANAGER, Role.PRACTITIONER)


def _choices(user: User) -> tuple[QuerySet[Location], QuerySet[Practitioner]]:
    if user.role == Role.MANAGER:
        return (
            Location.objects.filter(is_active=True),
            Practitioner.objects.filter(user__is_active=True).select_related("user"),
        )
    own = access.own_practitioner_record(user)
    return access.visible_locations(user), Practitioner.objects.filter(pk=own.pk).select_related(
        "user"
    )


def _filters(request) -> tuple[ReportFilterForm, reports.Period, reports.Scope]:
    """The period and scope asked for, within what the viewer may see: a practitioner's scope
    is always themselves. Without (valid) choices: the last twelve months to today on the
    clinic's clock (the server's UTC date is tomorrow every evening), everything."""
    locations, practitioners = _choices(request.user)
    today = clinic_today()
    defaults = {"start": today - dt.timedelta(days=364), "end": today}
    data = request.GET.copy() if request.GET else None
    if data is not None:
        for name, value in defaults.items():
            data.setdefault(name, value.isoformat())
    form = ReportFilterForm(
        data, initial=defaults, locations=locations, practitioners=practitioners
    )
    period, location, practitioner = reports.Period(defaults["start"], today), None, None
    if form.is_bound and form.is_valid():
        period = reports.Period(form.cleaned_data["start"], form.cleaned_data["end"])
        location = form.cleaned_data["location"]
        practitioner = form.cleaned_data["practitioner"]
    if request.user.role != Role.MANAGER:
        practitioner = practitioners.get()
    scope = reports.Scope(
        location_id=location.pk if location else None,
        practitioner_id=practitioner.pk if practitioner else None,
    )
    return form, period, scope


@report_viewers
@require_safe
def dashboard(request):
    form, period, scope = _filters(request)
    report = reports.clinic_report(period, scope)
    is_manager = request.user.role == Role.MANAGER
    return render(
        request,
        "booking/reports/dashboard.html",
        {
            "form": form,
            "report": report,
            "charts": reports.dashboard_charts(report, breakdown=is_manager),
            "is_manager": is_manager,
            # A practitioner sees only their own line: the total of their scope.
            "breakdown": is_manager,
            "references": reports.REFERENCES,
            "adverse_types": reports.ADVERSE_TYPES,
            "small_numbers": reports.SMALL_NUMBERS,
            "query": request.GET.urlencode(),
        },
    )


def _export_filters(request) -> tuple[reports.Period, reports.Scope]:
    """The filters of an export: as the dashboard's, but never silently widened. A damaged or
    hand-made address (a location the viewer may not see, an end before the start) is a 400,
    not an export of everything for the last twelve months."""
    form, period, scope = _filters(request)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(
            f"{form[name].label if name in form.fields else 'Filters'}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        raise BadRequest(f"The export's filters are not valid ({problems}). Nothing was exported.")
    return period, scope


def _log_export(request, patient_ids: list[int], record_type: str) -> None:
    """One access-log entry for the export, naming every patient it rests on (an export may
    cover thousands); each one's access report shows it."""
    record_export(request=request, patient_ids=patient_ids, record_type=record_type)


def _share(figure: reports.Figure) -> str:
    """A percentage, or why there is none, as the page says it."""
    if figure.too_few:
        return f"fewer than {reports.SMALL_NUMBERS} patients"
    return "" if figure.share is None else f"{figure.share}"


DASHBOARD_FIGURES = [
    ("completion", "courses completed of those ended"),
    ("pain_fell_2", "first-step pain fell by 2 or more at course end"),
    ("improved_pain_mobility", "improved pain and mobility"),
    ("improved_walking", "improved walking"),
    ("improved_strength", "improved strength"),
    ("recommend", "9 or 10 on recommending"),
    ("no_show", "no-shows"),
    ("late_cancel", "late cancellations"),
]


@report_viewers
@require_safe
def dashboard_csv(request):
    """The dashboard's lines (the total, each location, each practitioner) as CSV."""
    period, scope = _export_filters(request)
    report = reports.clinic_report(period, scope)
    _log_export(request, reports.cohort_patient_ids(period, scope), "booking.report.dashboard")
    lines = report.lines if request.user.role == Role.MANAGER else [report.total]
    header = [
        "line",
        "name",
        "period start",
        "period end",
        "courses started",
        "completed",
        "abandoned",
        "still going on",
    ]
    for _, label in DASHBOARD_FIGURES:
        header += [f"{label}: count", f"{label}: of", f"{label}: patients", f"{label}: %"]
    header += [
        "mean change of first-step pain",
        "SD of the change",
        "patients (change)",
        "sessions recorded",
    ]
    header += [f"adverse event {e.label.lower()}: sessions" for e in reports.ADVERSE_TYPES]
    header += ["booked minutes", "working minutes", "utilisation %"]

    def rows():
        yield header
        for line in lines:
            row = [
                line.kind,
                line.name,
                period.start.isoformat(),
                period.end.isoformat(),
                line.courses_started,
                line.completed,
                line.abandoned,
                line.ongoing,
            ]
            for name, _ in DASHBOARD_FIGURES:
                figure = getattr(line, name)
                row += [figure.count, figure.base, figure.patients, _share(figure)]
            change = line.change
            row += [
                "" if change.too_few or change.mean is None else round(change.mean, 2),
                "" if change.too_few or change.sd is None else round(change.sd, 2),
                change.patients,
                line.sessions_recorded,
            ]
            counts = [figure.count for _, figure in line.adverse]
            row += counts or [0] * len(reports.ADVERSE_TYPES)
            util = line.utilisation
            row += [
                util.booked_minutes,
                util.working_minutes,
                "" if util.share is None else util.share,
            ]
            yield row

    return csv_response(rows(), f"results-{period.start}-{period.end}.csv")


def course_reference(course_id: int) -> str:
    """A stable pseudonym for a course: the same in every export, but not its id, so a row
    cannot be looked up in the app without the site's secret."""
    return (
        "c-"
        + salted_hmac(
            "booking.outcomes-export", str(course_id), secret=settings.SECRET_KEY
        ).hexdigest()[:12]
    )


@report_viewers
@require_safe
def outcomes_csv(request):
    """One de-identified row per course of the period: no name, contact detail, birth date or
    free text — an age band, the year the course started, and the answers on scales."""
    period, scope = _export_filters(request)
    rows = reports.course_outcomes(period, scope)
    _log_export(request, sorted({row.pop("patient_id") for row in rows}), "booking.report.outcomes")
    columns = [name for name in reports.OUTCOME_COLUMNS if name != "course_id"]

    def lines():
        yield ["course", *columns]
        for row in rows:
            band = row["age_band"]
            row["age_band"] = "" if band is None else f"{band}-{band + 9}"
            yield [
                course_reference(row["course_id"]),
                *("" if row[name] is None else row[name] for name in columns),
            ]

    return csv_response(lines(), f"course-outcomes-{period.start}-{period.end}.csv")
