"""API clients in the Django admin: a manager creates one (the secret is shown once), changes
its scopes, locations or rate (in force from the next request), or revokes it."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from booking.api import scopes as api_scopes
from booking.api.clients import ClientProblem, create_client, revoke_client
from booking.api.models import ApiClient


class ApiClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=api_scopes.CHOICES,
        widget=forms.CheckboxSelectMultiple,
        help_text="system/QuestionnaireResponse.read gives clinical content: grant it only "
        "to a system that needs questionnaire answers.",
    )

    class Meta:
        model = ApiClient
        fields = ["name", "scopes", "locations", "requests_per_minute"]


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "created_at", "revoked_at", "requests_per_minute"]
    list_filter = ["revoked_at"]
    search_fields = ["name"]
    filter_horizontal = ["locations"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["client_id", "created_at", "revoked_at"]
        return ["name", *fixed] if obj else []

    @admin.display(description="Client id")
    def client_id(self, obj: ApiClient) -> str:
        return obj.application.client_id

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            client, secret = create_client(
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                locations=form.cleaned_data["locations"],
                requests_per_minute=form.cleaned_data.get("requests_per_minute"),
            )
        except ClientProblem as problem:
            messages.error(request, str(problem))
            raise
        obj.pk = client.pk
        obj.__dict__.update({k: v for k, v in client.__dict__.items() if not k.startswith("_")})
        messages.warning(
            request,
            f"Client id: {client.application.client_id} — client secret: {secret} "
            "(shown this once; copy it now).",
        )

    @admin.action(description="Revoke the selected clients (their tokens stop at once)")
    def revoke(self, request, queryset):
        for client in queryset:
            revoke_client(client)
        messages.success(request, f"Revoked {queryset.count()} client(s).")

    # Managers run the clinic's admin by role (clinic.models.people.MANAGED_APPS lists the
    # three apps); this nested app's label is not among them, so say it here.
    def _manager(self, request) -> bool:
        user = request.user
        return user.is_active and (user.is_manager or user.is_superuser)

    def has_module_permission(self, request):
        return self._manager(request)

    def has_view_permission(self, request, obj=None):
        return self._manager(request)

    def has_add_permission(self, request):
        return self._manager(request)

    def has_change_permission(self, request, obj=None):
        return self._manager(request)

    def has_delete_permission(self, request, obj=None):
        # The access log names the client's account: revoke, never delete.
        return False
