"""Who may see what: the one place views go through to check roles and scope data.

Views never filter by role themselves; they call these helpers, so that no view can
forget a check. Anonymous users never reach a view that is not marked public
(`LoginRequiredMiddleware`); these helpers decide between the logged-in roles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest

from clinic.models import STAFF_ROLES, Location, Patient, Practitioner, Role, User


def role_required(*roles: Role) -> Callable:
    """Refuse (403) any logged-in user whose role is not one of `roles`."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not request.user.is_authenticated or request.user.role not in allowed:
                raise PermissionDenied("Your account does not give access to this page.")
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the URL-walk access tests
        return wrapped

    return decorator


patient_required = role_required(Role.PATIENT)
staff_required = role_required(*STAFF_ROLES)
clinical_staff_required = role_required(Role.PRACTITIONER, Role.MANAGER)
manager_required = role_required(Role.MANAGER)


def get_or_404(queryset: QuerySet, message: str, **lookup):
    """The one row of `queryset` matching `lookup`; a 404 saying `message` if there is none.
    A row the user may not see is, to them, no row at all: the same 404, so that nobody
    learns by guessing whether it exists."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(message) from None


def visible_locations(user: User) -> QuerySet[Location]:
    """Locations whose schedules and patients `user` may see: all for a manager,
    the ones they work at for other staff, none for patients."""
    if user.role == Role.MANAGER:
        return Location.objects.filter(is_active=True)
    if user.role in STAFF_ROLES:
        return user.locations.filter(is_active=True)
    return Location.objects.none()


def get_visible_location(user: User, slug: str) -> Location:
    """The location `slug` if `user` works there (or manages it); 404 otherwise, so that
    staff cannot learn which other locations exist by guessing."""
    return get_or_404(visible_locations(user), "No such location among yours.", slug=slug)


def visible_patients(user: User) -> QuerySet[Patient]:
    """Patients `user` may see: their own record for a patient, patients registered at
    their locations for front desk and practitioners, everyone for a manager."""
    if user.role == Role.MANAGER:
        return Patient.objects.all()
    if user.role in STAFF_ROLES:
        registered_here = Patient.locations.through.objects.filter(
            patient=OuterRef("pk"), location__in=visible_locations(user)
        )
        return Patient.objects.filter(Exists(registered_here))
    return Patient.objects.filter(user=user)


def get_visible_patient(user: User, pk: int) -> Patient:
    return get_or_404(visible_patients(user), "No such patient among yours.", pk=pk)


def own_patient_record(user: User) -> Patient:
    """The patient record of a logged-in patient (created at sign-up)."""
    try:
        return user.patient
    except Patient.DoesNotExist:
        raise Http404("This account has no patient record.") from None


def own_practitioner_record(user: User) -> Practitioner:
    try:
        return user.practitioner
    except Practitioner.DoesNotExist:
        raise PermissionDenied("This account is not set up as a practitioner yet.") from None
