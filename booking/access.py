"""Who may see which appointments, courses, holds and waitlist entries (see clinic.access)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from booking.models import (
    Appointment,
    Course,
    Notification,
    SlotHold,
    WaitlistEntry,
    WaitlistOffer,
)
from clinic.access import visible_locations, visible_patients
from clinic.models import STAFF_ROLES, Practitioner, Role, User


def visible_appointments(user: User) -> QuerySet[Appointment]:
    """A patient's own appointments; staff's at their locations; every one for a manager."""
    if user.role == Role.MANAGER:
        return Appointment.objects.all()
    if user.role in STAFF_ROLES:
        return Appointment.objects.filter(location__in=visible_locations(user))
    return Appointment.objects.filter(patient__user=user)


def get_visible_appointment(user: User, pk: int) -> Appointment:
    try:
        return (
            visible_appointments(user)
            .select_related(
                "location", "practitioner__user", "room", "patient", "service", "course"
            )
            .get(pk=pk)
        )
    except Appointment.DoesNotExist:
        raise Http404("No such appointment among yours.") from None


def get_visible_course(user: User, pk: int) -> Course:
    try:
        return (
            Course.objects.filter(patient__in=visible_patients(user))
            .select_related("patient", "practitioner__user")
            .get(pk=pk)
        )
    except Course.DoesNotExist:
        raise Http404("No such course among yours.") from None


def get_own_hold(user: User, pk: int) -> SlotHold:
    try:
        return SlotHold.objects.select_related(
            "location", "practitioner__user", "service", "patient", "appointment"
        ).get(pk=pk, patient__user=user)
    except SlotHold.DoesNotExist:
        raise Http404("No such held time among yours.") from None


def get_own_offer(user: User, pk: int) -> WaitlistOffer:
    try:
        return WaitlistOffer.objects.select_related("entry", "hold").get(
            pk=pk, entry__patient__user=user
        )
    except WaitlistOffer.DoesNotExist:
        raise Http404("No such offer among yours.") from None


def get_own_waitlist_entry(user: User, pk: int) -> WaitlistEntry:
    try:
        return WaitlistEntry.objects.get(pk=pk, patient__user=user)
    except WaitlistEntry.DoesNotExist:
        raise Http404("No such waitlist entry among yours.") from None


def get_visible_waitlist_entry(user: User, pk: int) -> WaitlistEntry:
    """A waitlist entry at one of the staff member's locations."""
    try:
        return WaitlistEntry.objects.select_related(
            "patient", "location", "service", "practitioner__user"
        ).get(pk=pk, location__in=visible_locations(user))
    except WaitlistEntry.DoesNotExist:
        raise Http404("No such waitlist entry at your locations.") from None


def get_visible_practitioner(user: User, pk: int) -> Practitioner:
    """A practitioner working at one of `user`'s locations (every one for a manager)."""
    try:
        return (
            Practitioner.objects.filter(user__locations__in=visible_locations(user))
            .select_related("user")
            .distinct()
            .get(pk=pk)
        )
    except Practitioner.DoesNotExist:
        raise Http404("No such practitioner at your locations.") from None


def get_visible_notification(user: User, pk: int) -> Notification:
    """A message in the outbox, for staff who see its location."""
    messages = Notification.objects.all()
    if user.role != Role.MANAGER:
        messages = messages.filter(location__in=visible_locations(user))
    try:
        return messages.select_related("patient", "appointment").get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404("No such message at your locations.") from None
