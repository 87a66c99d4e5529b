"""The access log of personal health information: who did what to whose record, and when.

Every view, creation, change, signing, export or deletion of a patient's health
information calls `record_access(...)`. Rows are append-only: PostgreSQL refuses to
update or delete them (a trigger made by the migration that creates the table). The
log holds no health content itself, only which record was touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.http import HttpRequest

from clinic.models import AccessLog, Patient, User
from clinic.security import client_ip


def record_label(record: models.Model | type[models.Model]) -> str:
    """The name a record goes by in the access log and in signed content: app and table, not
    class. A model renamed with its table kept (TreatmentNote -> SessionNote on
    intake_treatmentnote) keeps its name in logs already written and in signatures already
    made, so old and new rows read alike and old signatures still verify."""
    meta = record._meta
    return f"{meta.app_label}.{meta.db_table.removeprefix(f'{meta.app_label}_')}"


def record_access(
    *,
    actor: User | None,
    patient: Patient,
    record: models.Model | None = None,
    record_type: str | None = None,
    record_id: int | str | None = None,
    action: str = AccessLog.Action.VIEW,
    request: HttpRequest | None = None,
    actor_role: str = "",
) -> AccessLog:
    """Append one row to the access log. `record` names the record touched (its model
    label and id); pass `record_type` instead when there is no single row, with `record_id`
    for one that no longer exists (deleted). `actor_role` names an actor that is no
    person's role (an API client's account)."""
    if record is not None:
        record_type = record_type or record_label(record)
        record_id = record.pk
    record_id = "" if record_id is None else str(record_id)
    if not record_type:
        raise ValueError("record_access needs a record or a record_type.")
    return AccessLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_role=actor_role or getattr(actor, "role", "") or "system",
        patient=patient,
        record_type=record_type,
        record_id=record_id,
        action=action,
        ip_address=client_ip(request),
    )


def log_access(
    request: HttpRequest, record: models.Model, action: str = AccessLog.Action.VIEW
) -> AccessLog:
    """`record_access` from a view: the request's user did `action` to `record`, which
    belongs to `record.patient`."""
    return record_access(
        actor=request.user, patient=record.patient, record=record, action=action, request=request
    )


def record_accesses(
    *,
    actor: User,
    patient_ids: Iterable[int],
    record_type: str,
    record_id: int | str | None = None,
    action: str = AccessLog.Action.VIEW,
    request: HttpRequest | None = None,
    actor_role: str = "",
) -> None:
    """One row for each patient of a page that shows several patients' health information
    (their screening reasons, say), written in few statements however many patients there
    are; `record_id` names the one record they were read through, if any (a calendar feed).
    A page that only lists patients with their appointments writes `record_listing`."""
    ip = client_ip(request)
    record_id = "" if record_id is None else str(record_id)
    AccessLog.objects.bulk_create(
        (
            AccessLog(
                actor=actor,
                actor_role=actor_role or actor.role,
                patient_id=patient_id,
                record_type=record_type,
                record_id=record_id,
                action=action,
                ip_address=ip,
            )
            for patient_id in patient_ids
        ),
        batch_size=2000,
    )


def record_listing(
    *,
    request: HttpRequest,
    patient_ids: Iterable[int | None],
    record_type: str,
) -> None:
    """A list page (a schedule, a queue, a search, an admin list) showed these patients:
    one row each, marked as list rows, in ONE statement whatever the page's length. A
    patient's access report groups these rows, so that a list reloaded all day does not
    bury the views of their clinical record."""
    ids = list(dict.fromkeys(pk for pk in patient_ids if pk is not None))
    if not ids:
        return
    user = request.user
    # A user never saved (the day view's benchmark renders as one) is named by role only.
    actor = user if user.is_authenticated and user.pk is not None else None
    ip = client_ip(request)
    AccessLog.objects.bulk_create(
        [
            AccessLog(
                actor=actor,
                actor_role=getattr(user, "role", "") or "system",
                patient_id=patient_id,
                record_type=record_type,
                action=AccessLog.Action.LIST,
                ip_address=ip,
            )
            for patient_id in ids
        ]
    )  # no batch_size: PostgreSQL takes every row in one INSERT


def record_export(
    *,
    request: HttpRequest,
    patient_ids: Iterable[int | None],
    record_type: str,
) -> AccessLog | None:
    """An export (a CSV file) held these patients' records: ONE row for the export, naming
    them all, so that each patient's access report shows it."""
    ids = sorted({pk for pk in patient_ids if pk is not None})
    if not ids:
        return None
    actor = request.user
    return AccessLog.objects.create(
        actor=actor,
        actor_role=actor.role,
        patient_id=ids[0] if len(ids) == 1 else None,
        patient_ids=ids,
        record_type=record_type,
        action=AccessLog.Action.EXPORT,
        ip_address=client_ip(request),
    )


class AuditedAdmin:
    """For `ModelAdmin`s of records about one patient: opening, saving and deleting one in
    the Django admin writes the access log, as the app's own pages do (a manager reading a
    record in the admin is an access like any other)."""

    def patient_of(self, obj) -> Patient | None:
        return obj if isinstance(obj, Patient) else getattr(obj, "patient", None)

    def _record(self, request, obj, action: str) -> None:
        patient = self.patient_of(obj)
        if patient is not None:
            record_access(
                actor=request.user, patient=patient, record=obj, action=action, request=request
            )

    def patient_id_of(self, obj) -> int | None:
        return obj.pk if isinstance(obj, Patient) else getattr(obj, "patient_id", None)

    def changelist_view(self, request, extra_context=None):
        """The list and its search results show patients: each one shown is logged."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            record_listing(
                request=request,
                patient_ids=(self.patient_id_of(obj) for obj in changelist.result_list),
                record_type=record_label(self.model),
            )
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            self._record(request, response.context_data.get("object"), AccessLog.Action.VIEW)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            self._record(request, response.context_data.get("original"), AccessLog.Action.VIEW)
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._record(request, obj, AccessLog.Action.CHANGE if change else AccessLog.Action.CREATE)

    def delete_model(self, request, obj):
        # Logged first: the row names the record while it still exists (in the same transaction).
        self._record(request, obj, AccessLog.Action.DELETE)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._record(request, obj, AccessLog.Action.DELETE)
        super().delete_queryset(request, queryset)
