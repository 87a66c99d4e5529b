"""A patient's record on request (JSON or a printable page), and closing an account."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from booking import services
from booking.billing.notices import closing_costs
from booking.reports.patient_record import patient_record
from clinic import access
from clinic.audit import record_access
from clinic.forms import PasswordCheckForm
from clinic.models import AccessLog, Patient


def _record_response(request, patient: Patient):
    record = patient_record(patient)
    record_access(
        actor=request.user,
        patient=patient,
        record=patient,
        record_type="clinic.patient_record",
        action=AccessLog.Action.EXPORT,
        request=request,
    )
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(record, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="patient-record-{patient.pk}.json"'
        return response
    return render(
        request, "booking/reports/patient_record.html", {"record": record, "patient": patient}
    )


@access.patient_required
@require_safe
def my_record(request):
    """Everything the clinic holds about me, to read, print or download."""
    return _record_response(request, access.own_patient_record(request.user))


@access.manager_required
@require_safe
def patient_record_for_request(request, patient_pk: int):
    """A patient's complete record, for a records request handled by a manager."""
    return _record_response(request, access.get_visible_patient(request.user, patient_pk))


@access.patient_required
@require_http_methods(["GET", "HEAD", "POST"])
def close_account(request):
    patient = access.own_patient_record(request.user)
    form = PasswordCheckForm(request.POST if request.method == "POST" else None, request=request)
    if request.method == "POST" and form.is_valid():
        record_access(
            actor=request.user,
            patient=patient,
            record=patient,
            action=AccessLog.Action.DELETE,
            request=request,
        )
        services.close_patient_account(patient, actor=request.user)
        logout(request)
        messages.success(
            request,
            "Your account is closed. Your clinical record is kept as the law requires; "
            "phone the clinic if you need a copy.",
        )
        return redirect("clinic:welcome")
    return render(
        request,
        "booking/reports/close_account.html",
        {
            "form": form,
            "patient": patient,
            "late_visits": closing_costs(patient, timezone.now()),
        },
    )
