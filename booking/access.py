"""Who may see which appointments, courses, holds and waitlist entries (see clinic.access)."""

from __future__ import annotations

from django.db.models import QuerySet

from booking.models import (
    Appointment,
    Course,
    Notification,
    SlotHold,
    WaitlistEntry,
    WaitlistOffer,
)
from clinic.access import get_or_404, visible_locations, visible_patients
from clinic.models import STAFF_ROLES, Practitioner, Role, User


def visible_appointments(user: User) -> QuerySet[Appointment]:
    """A patient's own appointments; staff's at their locations; every one for a manager."""
    if user.role == Role.MANAGER:
        return Appointment.objects.all()
    if user.role in STAFF_ROLES:
        return Appointment.objects.filter(location__in=visible_locations(user))
    return Appointment.objects.filter(patient__user=user)


def get_visible_appointment(user: User, pk: int) -> Appointment:
    appointments = visible_appointments(user).select_related(
        "location", "practitioner__user", "room", "patient", "service", "course"
    )
    return get_or_404(appointments, "No such appointment among yours.", pk=pk)


def get_visible_course(user: User, pk: int) -> Course:
    courses = Course.objects.filter(patient__in=visible_patients(user)).select_related(
        "patient", "practitioner__user"
    )
    return get_or_404(courses, "No such course among yours.", pk=pk)


def get_own_hold(user: User, pk: int) -> SlotHold:
    holds = SlotHold.objects.select_related(
        "location", "practitioner__user", "service", "patient", "appointment"
    )
    # The patient's own choice: not a waitlist offer's hold (taken by accepting the offer, not
    # requested as a new appointment), nor one an API client placed for them.
    return get_or_404(
        holds, "No such held time among yours.", pk=pk, patient__user=user, placed_by=user
    )


def get_own_offer(user: User, pk: int) -> WaitlistOffer:
    offers = WaitlistOffer.objects.select_related("entry__patient", "hold")
    return get_or_404(offers, "No such offer among yours.", pk=pk, entry__patient__user=user)


def get_own_waitlist_entry(user: User, pk: int) -> WaitlistEntry:
    return get_or_404(
        WaitlistEntry.objects.all(),
        "No such waitlist entry among yours.",
        pk=pk,
        patient__user=user,
    )


def get_visible_waitlist_entry(user: User, pk: int) -> WaitlistEntry:
    """A waitlist entry at one of the staff member's locations."""
    entries = WaitlistEntry.objects.select_related(
        "patient", "location", "service", "practitioner__user", "replaces"
    ).filter(location__in=visible_locations(user))
    return get_or_404(entries, "No such waitlist entry at your locations.", pk=pk)


def get_visible_practitioner(user: User, pk: int) -> Practitioner:
    """A practitioner working at one of `user`'s locations (every one for a manager)."""
    practitioners = (
        Practitioner.objects.filter(user__locations__in=visible_locations(user))
        .select_related("user")
        .distinct()
    )
    return get_or_404(practitioners, "No such practitioner at your locations.", pk=pk)


def get_visible_notification(user: User, pk: int) -> Notification:
    """A message in the outbox, for staff who see its location."""
    messages = Notification.objects.all()
    if user.role != Role.MANAGER:
        messages = messages.filter(location__in=visible_locations(user))
    messages = messages.select_related("patient", "appointment")
    return get_or_404(messages, "No such message at your locations.", pk=pk)
