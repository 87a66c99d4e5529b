"""The access log, for managers: who opened which patient's record, filtered, grouped, and
exported.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from clinic import access
from clinic.audit import record_export
from clinic.exports import csv_response
from clinic.forms import (
    AccessLogFilterForm,
)
from clinic.models import (
    AccessLog,
    Patient,
    User,
    role_label,
)
from clinic.pages import record_page
from clinic.record_names import CLINICAL_RECORD_TYPES, record_name

# --- The access log (managers) --------------------------------------------------------------------


def _patients_named(text: str):
    """The patients record numbers (one, or several with commas), or every word of a name
    (case forgiven), point to."""
    numbers = [part.strip() for part in text.split(",")]
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if all(re.fullmatch(r"[0-9]{1,12}", number) for number in numbers):
        return Patient.objects.filter(pk__in=[int(number) for number in numbers])
    named = Patient.objects.all()
    for word in text.split():
        named = named.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return named


def _filtered_access_log(form: AccessLogFilterForm):
    rows = AccessLog.objects.select_related("actor", "patient__preferred_location").order_by(
        "-at", "-id"
    )
    if not form.is_valid():
        return rows, None
    data = form.cleaned_data
    patient = None
    if data["patient"]:
        named = _patients_named(data["patient"])
        # One patient: their access report (its export is then recorded against them);
        # several: every row of any of them.
        matches = list(named[:2])
        if len(matches) == 1:
            patient = matches[0]
        # Their own rows, and the exports that covered them among others.
        rows = rows.filter(
            Q(patient__in=named) | Q(patient_ids__overlap=ArraySubquery(named.values("pk")))
        )
    if data["actor"]:
        rows = rows.filter(actor=data["actor"])
    if data["action"]:
        rows = rows.filter(action=data["action"])
    if data["clinical"]:
        # What was written or answered about the patient's care: not the lists that only
        # named them (the questionnaire list shows its state, not its answers).
        rows = rows.filter(record_type__in=CLINICAL_RECORD_TYPES).exclude(
            action=AccessLog.Action.LIST
        )
    if data["date_from"]:
        rows = rows.filter(at__date__gte=data["date_from"])
    if data["date_to"]:
        rows = rows.filter(at__date__lte=data["date_to"])
    return rows, patient


@access.manager_required
@require_http_methods(["GET", "HEAD", "POST"])
def access_log_page(request):
    """Who opened or changed whose health record, when and from where — filterable, and
    exportable as CSV (a patient's access report on request).

    The filters are posted, then come back as an address that holds record numbers and
    dates only: a patient's name typed here never goes into a URL (logs, browser history)."""
    if request.method == "POST":
        posted = AccessLogFilterForm(request.POST)
        if posted.is_valid():
            return redirect(_access_log_address(request, posted.cleaned_data))
        return _access_log_page(request, posted, AccessLog.objects.none(), None)
    form = AccessLogFilterForm(request.GET or None)
    rows, patient = _filtered_access_log(form)
    if request.GET.get("format") == "csv":
        if not form.is_valid():
            # Damaged filters would leave the whole log: one patient's access report asked
            # for with a mistyped date would hand over every patient's rows.
            raise BadRequest(
                f"The export's filters are not valid ({_problems(form)}). Nothing was exported."
            )
        # One entry for the export, naming every patient whose accesses it holds.
        record_export(
            request=request,
            patient_ids=[patient.pk] if patient is not None else _patients_in(rows),
            record_type="clinic.accesslog",
        )
        return _access_log_csv(rows)
    return _access_log_page(request, form, rows, patient)


def _problems(form: AccessLogFilterForm) -> str:
    return "; ".join(
        f"{form[name].label if name in form.fields else 'Filters'}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )


def _patients_in(rows) -> set[int]:
    """Every patient some of `rows` name, exports' lists included."""
    rows = rows.order_by()
    named = set(rows.exclude(patient=None).values_list("patient_id", flat=True).distinct())
    exported = rows.filter(patient=None).values_list("patient_ids", flat=True)
    return named | {pk for ids in exported.iterator() for pk in ids}


def _listed_groups(rows) -> list[dict]:
    """A patient's list rows (schedules, queues, searches) grouped by who and which list,
    with how many times and when first and last, so that a schedule reloaded all day does
    not bury the views of the patient's clinical record."""
    groups = list(
        rows.filter(action=AccessLog.Action.LIST)
        .order_by()
        .values("actor", "actor_role", "record_type")
        .annotate(times=Count("id"), first=Min("at"), last=Max("at"))
        .order_by("-last")
    )
    people = User.objects.in_bulk({group["actor"] for group in groups if group["actor"]})
    for group in groups:
        group["actor"] = people.get(group["actor"])
        group["actor_role"] = role_label(group["actor_role"])
    return groups


# How many patients a posted name may stand for in the log's address.
NAMED_PATIENTS_AT_MOST = 100


def _access_log_address(request, data: dict) -> str:
    """The log's address for posted filters: a name becomes the record numbers it finds."""
    query = []
    if data["patient"]:
        found = _patients_named(data["patient"]).order_by("pk").values_list("pk", flat=True)
        ids = list(found[: NAMED_PATIENTS_AT_MOST + 1])
        if len(ids) > NAMED_PATIENTS_AT_MOST:
            ids = ids[:NAMED_PATIENTS_AT_MOST]
            messages.warning(
                request,
                f"More than {NAMED_PATIENTS_AT_MOST} patients match that name: the log shows "
                f"the first {NAMED_PATIENTS_AT_MOST}. Type more of the name to narrow it.",
            )
        query += [("patient", ",".join(map(str, ids)) or "0")]
    if data["actor"]:
        query.append(("actor", data["actor"].pk))
    if data["action"]:
        query.append(("action", data["action"]))
    if data["clinical"]:
        query.append(("clinical", "1"))
    for name in ("date_from", "date_to"):
        if data[name]:
            query.append((name, data[name].isoformat()))
    if request.POST.get("format") == "csv":
        query.append(("format", "csv"))
    return f"{reverse('clinic:access_log')}?{urlencode(query)}"


def _zone_of(patient: Patient | None) -> zoneinfo.ZoneInfo:
    """The clock an entry is shown on: the patient's (`Patient.zone`), else the clinic's."""
    return patient.zone if patient is not None else zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)


# How many of an export's patients its entry names (the whole log's export covers them all).
EXPORT_NAMES_SHOWN = 100


def _describe(entries) -> None:
    """Each entry of a page in the clinic's words: its clock, what was seen, and for an export
    of several patients who they were (one query for the whole page)."""
    covered = {
        pk
        for row in entries
        if row.patient_id is None
        for pk in row.patient_ids[:EXPORT_NAMES_SHOWN]
    }
    names = Patient.objects.only("first_name", "last_name").in_bulk(covered) if covered else {}
    for row in entries:
        row.zone = _zone_of(row.patient)
        row.record_name = record_name(row.record_type, row.record_id)
        # A deleted record has no page left to open.
        deleted = row.action == AccessLog.Action.DELETE
        row.record_page = "" if deleted else record_page(row.record_type, row.record_id)
        row.exported = [names[pk] for pk in row.patient_ids[:EXPORT_NAMES_SHOWN] if pk in names]
        row.exported_more = max(len(row.patient_ids) - EXPORT_NAMES_SHOWN, 0)


def _access_log_page(request, form, rows, patient):
    listed = None
    if patient is not None:
        listed = _listed_groups(rows)
        zone = _zone_of(patient)
        for group in listed:
            group["zone"] = zone
            group["record_name"] = record_name(group["record_type"])
        rows = rows.exclude(action=AccessLog.Action.LIST)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    _describe(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/access_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "patient": patient,
            "listed": listed,
        },
    )


def _who(actor: User | None) -> str:
    """A person by their email; an API client by its name (its account's address is made up)."""
    if actor is None:
        return "system"
    return actor.log_name if actor.is_api_client else actor.email


def _access_log_csv(rows) -> StreamingHttpResponse:
    def lines():
        yield [
            "time (UTC)",
            "staff or user",
            "role",
            "patient record",
            "patient",
            "record type",
            "record id",
            "action",
            "IP address",
            "local time",
        ]
        for row in rows.iterator(chunk_size=2000):
            yield [
                row.at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                _who(row.actor),
                row.actor_role,
                row.patient_id or " ".join(map(str, row.patient_ids)),
                row.patient.full_name if row.patient else f"{len(row.patient_ids)} patients",
                row.record_type,
                row.record_id,
                row.action,
                row.ip_address or "",
                # The clock the page shows it on, with its offset from UTC.
                row.at.astimezone(_zone_of(row.patient)).isoformat(timespec="seconds"),
            ]

    return csv_response(lines(), "access-log.csv")
