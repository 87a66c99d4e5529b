"""The Django admin, set up for clinic managers: locations, staff, services, practitioners."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from clinic.audit import AuditedAdmin
from clinic.dates import clinic_today
from clinic.models import (
    Certification,
    Holiday,
    Location,
    OpeningHours,
    Patient,
    Practitioner,
    Role,
    ScheduleException,
    Service,
    User,
    WorkingHours,
)


class NoOverlapInlineFormSet(forms.BaseInlineFormSet):
    """Refuse two rows of one submission that overlap on the same weekday, which the
    database would refuse anyway (with an error page instead of a message)."""

    def clean(self) -> None:
        super().clean()
        seen: list[tuple[int, object, object]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            start, end = data.get(self.start_field), data.get(self.end_field)
            weekday = data.get("weekday")
            if start is None or end is None or weekday is None:
                continue
            for other_weekday, other_start, other_end in seen:
                if weekday == other_weekday and start < other_end and other_start < end:
                    raise ValidationError("Two rows overlap on the same weekday.")
            seen.append((weekday, start, end))


class OpeningHoursFormSet(NoOverlapInlineFormSet):
    start_field, end_field = "opens_at", "closes_at"


class WorkingHoursFormSet(NoOverlapInlineFormSet):
    start_field, end_field = "starts_at", "ends_at"


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "city",
        "region",
        "time_zone",
        "phone",
        "offers_dry_needling",
        "is_active",
    ]
    list_filter = ["is_active", "region", "time_zone"]
    search_fields = ["name", "city", "postal_code"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, HolidayInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active"]}),
        (
            "Address and contact",
            {"fields": ["street_address", "city", "region", "postal_code", "phone", "email"]},
        ),
        ("Time zone", {"fields": ["time_zone"]}),
        ("Superbills (US)", {"fields": ["tax_id", "place_of_service"]}),
        (
            "Booking policy",
            {
                "fields": [
                    "min_notice_minutes",
                    "booking_horizon_days",
                    "buffer_minutes",
                    "cancellation_notice_hours",
                    "confirms_requests_automatically",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_dry_needling_flag()

    @admin.display(boolean=True, description="Offers dry needling")
    def offers_dry_needling(self, location: Location) -> bool:
        return location.offers_dry_needling


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "allowed_minutes", "default_minutes", "is_active"]
    list_filter = ["is_active", "kind"]

    def get_readonly_fields(self, request, obj=None):
        # Every rule about a visit reads its service's kind (needling only as a course, only
        # with a certified practitioner, the fees, the results): it is chosen once, when the
        # service is added. PostgreSQL refuses the change once a visit names it (booking 0024).
        return ["kind"] if obj is not None else []


class CertificationInline(admin.TabularInline):
    model = Certification
    extra = 0


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    formset = WorkingHoursFormSet
    extra = 0


class ScheduleExceptionInline(admin.TabularInline):
    model = ScheduleException
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "works_at", "certified_today"]
    list_filter = ["user__locations", "user__is_active"]
    search_fields = ["user__first_name", "user__last_name", "user__email", "title"]
    autocomplete_fields = ["user"]
    inlines = [CertificationInline, WorkingHoursInline, ScheduleExceptionInline]
    fieldsets = [
        (None, {"fields": ["user", "title", "bio"]}),
        (
            "Registration (printed on receipts for insurers and superbills)",
            {"fields": ["profession", "registration_number", "registered_with", "npi"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .prefetch_related("certifications", "user__locations")
        )

    @admin.display(description="Works at")
    def works_at(self, practitioner: Practitioner) -> str:
        return ", ".join(location.name for location in practitioner.user.locations.all())

    @admin.display(boolean=True, description="Certified today")
    def certified_today(self, practitioner: Practitioner) -> bool:
        return practitioner.is_certified_on(clinic_today())


class ClinicUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An API client's account is made with its client (`manage.py api_client`).
        self.fields["role"].choices = [
            choice for choice in self.fields["role"].choices if choice[0] != Role.API_CLIENT
        ]


class ClinicUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = ClinicUserChangeForm
    add_form = ClinicUserCreationForm
    ordering = ["last_name", "first_name"]
    list_display = ["email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "locations"]
    search_fields = ["email", "first_name", "last_name"]
    filter_horizontal = ["locations"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name"]}),
        ("Role and locations", {"fields": ["role", "locations", "is_active"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    superuser_fieldsets = [
        ("Superuser", {"fields": ["is_superuser", "groups", "user_permissions"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "first_name", "last_name", "role", "password1", "password2"],
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and request.user.is_superuser:
            return [*fieldsets, *self.superuser_fieldsets]
        return fieldsets


@admin.register(Patient)
class PatientAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["__str__", "date_of_birth", "phone", "email", "created_at"]
    list_filter = ["locations", "preferred_location"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    autocomplete_fields = ["user"]
    filter_horizontal = ["locations"]
    date_hierarchy = "created_at"
