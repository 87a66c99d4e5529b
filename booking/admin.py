"""Booking in the Django admin: rooms per location, and read-mostly views of appointments."""

from django import forms
from django.contrib import admin

from booking import notifications
from booking.models import (
    Appointment,
    AppointmentEvent,
    CalendarFeed,
    Course,
    LocationReminderPolicy,
    Notification,
    NotificationPreference,
    Room,
    WaitlistEntry,
)
from clinic.audit import AuditedAdmin


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["location", "name", "is_active"]

    def clean_location(self):
        """A room with visits booked in it, or times held in it, stays where it is: those
        visits happened (or will) at its location, and PostgreSQL refuses the move
        (`appointment_room_is_at_its_location`, migration 0021)."""
        location = self.cleaned_data["location"]
        room = self.instance
        if room.pk is not None and location.pk != room.location_id:
            # Locked first (the admin's change view is one transaction): a visit booked in the
            # room at this moment takes a key-share lock on it, so it either waits for this
            # save or is seen here, never left to fail the save with a 500.
            Room.objects.select_for_update().filter(pk=room.pk).first()
            if room.appointments.exists() or room.holds.exists():
                raise forms.ValidationError(
                    f"{room.name} has appointments or held times at {room.location.name}, so "
                    f"it cannot move to {location.name}. Add a room at {location.name} "
                    "instead, and untick Active here when this one is no longer used."
                )
        return location


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    form = RoomForm
    list_display = ["name", "location", "is_active"]
    list_filter = ["location", "is_active"]
    search_fields = ["name", "location__name"]


class ReadOnlyInline(admin.TabularInline):
    """A record's history, written by the services beside it: shown, never added to, changed
    or deleted here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WrittenByServicesAdmin(AuditedAdmin, admin.ModelAdmin):
    """Rows only the services write (they check the rules and keep the history): the admin
    shows them, and cannot add or change one."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(WrittenByServicesAdmin):
    """Nor delete one: appointments and money keep their whole history."""

    def has_delete_permission(self, request, obj=None):
        return False


class AppointmentEventInline(ReadOnlyInline):
    model = AppointmentEvent
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


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    """Appointments change through the booking pages (which check the rules and keep the
    history); the admin shows them."""

    list_display = ["starts_at", "location", "practitioner", "patient", "service", "status"]
    list_filter = ["status", "location", "service"]
    search_fields = ["patient__first_name", "patient__last_name", "practitioner__user__last_name"]
    date_hierarchy = "starts_at"
    list_select_related = ["location", "practitioner__user", "patient", "service"]
    inlines = [AppointmentEventInline]


@admin.register(Course)
class CourseAdmin(WrittenByServicesAdmin):
    list_display = ["patient", "practitioner", "sessions_planned", "minutes", "created_at"]
    list_select_related = ["patient", "practitioner__user"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdmin):
    """Places are made and taken off on the patient's pages and the desk's waitlist board,
    which check the rules (the location's services, the patient's own appointment) and pass a
    time offered to a place taken off to the next patient waiting; the admin shows them."""

    list_display = ["patient", "location", "practitioner", "state", "created_at"]
    list_filter = ["location", "state"]


# --- Notifications -----------------------------------------------------------------------------


@admin.register(LocationReminderPolicy)
class LocationReminderPolicyAdmin(admin.ModelAdmin):
    """When each location reminds its patients; saving re-plans the reminders already waiting."""

    list_display = ["location", "hours", "intake_reminder_hours"]
    list_select_related = ["location"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        count = notifications.reminder_policy_changed(obj.location)
        self.message_user(request, f"Reminders re-planned for {count} upcoming appointments.")

    def delete_model(self, request, obj):
        location = obj.location
        super().delete_model(request, obj)
        # Back to the default reminder times.
        notifications.reminder_policy_changed(location)


@admin.register(Notification)
class NotificationAdmin(WrittenByServicesAdmin):
    """The outbox, read-only: messages are written by the booking services and sent by
    `manage.py send_notifications`; failed ones are sent again from the staff pages."""

    list_display = ["created_at", "kind", "state", "patient", "location", "send_after", "attempts"]
    list_filter = ["state", "kind", "location"]
    search_fields = ["to_email", "patient__last_name", "patient__first_name"]
    date_hierarchy = "created_at"
    list_select_related = ["patient", "location"]
    readonly_fields = [field.name for field in Notification._meta.fields]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["patient", "reminders", "bounced_email", "bounced_at"]
    list_filter = ["reminders"]
    search_fields = ["patient__last_name", "patient__first_name", "bounced_email"]
    list_select_related = ["patient"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Practitioners' feeds; deleting one turns it off (the practitioner can make a new one)."""

    list_display = ["practitioner", "created_at", "last_used_at"]
    list_select_related = ["practitioner__user"]
    readonly_fields = ["practitioner", "token_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
