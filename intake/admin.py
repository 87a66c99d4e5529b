"""Consent texts in the Django admin: a manager writes a new version and publishes it.
Published versions are read-only (the database refuses changes to them too)."""

from __future__ import annotations

from django.contrib import admin, messages

from intake.questionnaire.models import ConsentDocument, ConsentVersion
from intake.questionnaire.services import IntakeError, next_consent_version, publish_consent_version


class ConsentVersionInline(admin.TabularInline):
    model = ConsentVersion
    fields = ("number", "published_at", "published_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "kind")
    inlines = [ConsentVersionInline]


@admin.register(ConsentVersion)
class ConsentVersionAdmin(admin.ModelAdmin):
    list_display = ("document", "number", "published_at", "published_by")
    list_filter = ("document",)
    actions = ["publish"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("document", "body")
        return ("document", "number", "body", "created_at", "published_at", "published_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.is_published:
            return self.get_fields(request, obj)
        return ("document", "number", "created_at", "published_at", "published_by")

    def has_delete_permission(self, request, obj=None) -> bool:
        return (
            obj is not None and not obj.is_published and super().has_delete_permission(request, obj)
        )

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        created = next_consent_version(document=obj.document, body=obj.body)
        obj.pk, obj.number = created.pk, created.number
        obj._state.adding = False

    @admin.action(description="Publish the selected versions (patients sign them again)")
    def publish(self, request, queryset) -> None:
        for version in queryset.order_by("document", "number"):
            try:
                publish_consent_version(version=version, by=request.user)
            except IntakeError as problem:
                self.message_user(request, f"{version}: {problem.message}", messages.ERROR)
            else:
                self.message_user(request, f"{version} is now in force.", messages.SUCCESS)
