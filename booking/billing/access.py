"""Who may see which invoices and balances (built on `clinic.access`): invoices name the service,
so they are health information. Front desk see and take payments at their locations, managers
everything, patients their own invoices; practitioners see their own patients' balance and
nothing of the invoices themselves. A credit note is seen by whoever sees its invoice."""

from __future__ import annotations

from django.db.models import QuerySet

from booking.billing.models import CreditNote, Invoice
from booking.billing.packages import package_location
from booking.models import Appointment, Course
from clinic.access import get_or_404, visible_locations
from clinic.models import Patient, Role, User

# Roles that take payments, refund and check patients out.
TAKES_PAYMENTS = frozenset({Role.FRONT_DESK, Role.MANAGER})


def visible_invoices(user: User) -> QuerySet[Invoice]:
    if user.role == Role.MANAGER:
        return Invoice.objects.all()
    if user.role == Role.FRONT_DESK:
        return Invoice.objects.filter(location__in=visible_locations(user))
    if user.role == Role.PATIENT:
        return Invoice.objects.filter(patient__user=user)
    return Invoice.objects.none()


def get_visible_invoice(user: User, pk: int) -> Invoice:
    invoices = visible_invoices(user).select_related(
        "location", "patient", "practitioner__user", "service", "appointment", "course"
    )
    return get_or_404(invoices, "No such invoice among yours.", pk=pk)


def get_visible_credit_note(user: User, pk: int) -> CreditNote:
    """A credit note of an invoice `user` may see: the same people, the same 404 otherwise."""
    notes = CreditNote.objects.filter(invoice__in=visible_invoices(user)).select_related(
        "location__billing", "invoice__location", "invoice__patient"
    )
    return get_or_404(notes, "No such credit note among yours.", pk=pk)


def sees_balance_of(user: User, patient: Patient) -> bool:
    """Whether `user` may see what `patient` owes: the patient, a manager, the front desk of a
    location the patient is registered at, or a practitioner who has seen or will see them."""
    if user.role == Role.MANAGER:
        return True
    if user.role == Role.PATIENT:
        return patient.user_id == user.pk
    if user.role == Role.FRONT_DESK:
        return patient.locations.filter(pk__in=visible_locations(user)).exists()
    if user.role == Role.PRACTITIONER:
        return Appointment.objects.filter(patient=patient, practitioner__user=user).exists()
    return False


def sees_invoices_of(user: User, patient: Patient) -> bool:
    """Whether `user` may see the invoices themselves (their lines name the services): not a
    practitioner, who sees the balance alone."""
    return user.role != Role.PRACTITIONER and sees_balance_of(user, patient)


def handles_course_money(user: User, course: Course) -> bool:
    """Whether `user` may invoice `course` as a package, see that package or settle it: staff
    who take payments at the package's location (its first booked session's before it is
    invoiced). A course's sessions may be at several locations, and its page is seen by the
    staff of each; its money belongs to one desk and its day close."""
    if user.role not in TAKES_PAYMENTS:
        return False
    if user.role == Role.MANAGER:
        return True  # every invoice, a closed location's included (`visible_invoices`)
    location = package_location(course)
    return location is None or visible_locations(user).filter(pk=location.pk).exists()
