"""Booking in the Django admin: rooms per location, and read-mostly views of appointments."""

from django.contrib import admin

from booking.models import Appointment, AppointmentEvent, Course, Room, WaitlistEntry


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "is_active"]
    list_filter = ["location", "is_active"]
    search_fields = ["name", "location__name"]


class AppointmentEventInline(admin.TabularInline):
    model = AppointmentEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "at",
        "actor",
        "kind",
        "from_status",
        "to_status",
        "reason",
        "late",
        "details",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    """Appointments change through the booking pages (which check the rules and keep the
    history); the admin shows them."""

    list_display = ["starts_at", "location", "practitioner", "patient", "service", "status"]
    list_filter = ["status", "location", "service"]
    search_fields = ["patient__first_name", "patient__last_name", "practitioner__user__last_name"]
    date_hierarchy = "starts_at"
    list_select_related = ["location", "practitioner__user", "patient", "service"]
    inlines = [AppointmentEventInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["patient", "practitioner", "sessions_planned", "minutes", "created_at"]
    list_select_related = ["patient", "practitioner__user"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ["patient", "location", "practitioner", "state", "created_at"]
    list_filter = ["location", "state"]
