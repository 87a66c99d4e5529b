"""The access log of personal health information (written through clinic.audit)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q

from clinic.models.people import Patient, actor_field, role_label

# --- The access log of personal health information (written through clinic.audit) ----------


class AccessLog(models.Model):
    """One access to health information. Most rows name one patient's record; a list row
    says a patient was shown in a list (a schedule, a queue, a search), and an export row
    names every patient the export covered (`patient_ids`), one row per export."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Shown in a list"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        SIGN = "sign", "Signed"
        EXPORT = "export", "Exported"
        DELETE = "delete", "Deleted"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = actor_field()
    actor_role = models.CharField(max_length=20)
    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty only for an export that covered several patients (see patient_ids).",
    )
    patient_ids = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        help_text="For an export: every patient whose records it held.",
    )
    record_type = models.CharField(max_length=60, help_text="For example intake.submission.")
    record_id = models.CharField(max_length=40, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-at"]),
            models.Index(fields=["actor", "-at"]),
            # A patient's access report finds the exports that covered them.
            GinIndex(fields=["patient_ids"], name="accesslog_patient_ids"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(patient__isnull=False) | Q(action="export"),
                name="accesslog_names_its_patient",
            ),
            models.CheckConstraint(
                condition=Q(patient_ids=[]) | Q(action="export"),
                name="accesslog_patient_ids_only_for_exports",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_role} {self.action} {self.record_type}"

    @property
    def actor_role_label(self) -> str:
        return role_label(self.actor_role)
