"""How every booking workflow writes: the errors it raises, one savepoint per write, and the
appointment's history.

PostgreSQL's exclusion constraints and travel-time trigger have the last word on a slot: a
conflict found there (or a deadlock between two simultaneous bookings) becomes `SlotTaken`,
never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from booking.models import (
    Appointment,
    AppointmentEvent,
    Course,
)
from clinic.models import Patient, Role, Service, User

# PostgreSQL error codes that mean "someone else took this time first".
_CONFLICT_CODES = {
    "23P01",  # exclusion_violation (overlap constraints, travel-time trigger)
    "23505",  # unique_violation (one active appointment per course session)
    "40P01",  # deadlock_detected: two overlapping inserts waiting on each other
    "40001",  # serialization_failure
}


class BookingError(Exception):
    """A booking that the rules refuse; `str()` is a message for the person booking."""


class SlotUnavailable(BookingError):
    """The chosen slot breaks a booking rule (outside hours, too soon, uncertified...)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


class SlotTaken(BookingError):
    """Someone else booked the time a moment ago (found by PostgreSQL at write time)."""

    def __init__(self, message: str = "This time was just taken by another booking."):
        super().__init__(message)


class TransitionRefused(BookingError):
    pass


class AccountClosed(BookingError):
    """The patient closed their account while a request of theirs, from another tab, was on
    its way: it is refused, as the closing would have undone it."""

    def __init__(self):
        super().__init__(
            "This account has been closed: nothing was booked or changed. Phone the clinic "
            "if you would like an appointment."
        )


def lock_patient(patient_id: int, *, actor: User | None) -> None:
    """Lock the patient's row until the transaction ends, before what the closing of their
    account undoes (a request, a waitlist place): the two then happen one after the other,
    and a patient acting online whose account was closed meanwhile is refused
    (`AccountClosed`); the desk may still book for them by phone. A no-key lock: rows that
    merely name the patient (emails, history) are still written meanwhile."""
    closed = (
        Patient.objects.select_for_update(no_key=True)
        .filter(pk=patient_id)
        .values_list("account_closed_at", flat=True)
        .first()
    )
    if closed is not None and actor is not None and actor.role == Role.PATIENT:
        raise AccountClosed()


class PossibleDuplicates(BookingError):
    """A new patient the desk adds may be one it already has (`patients`, not yet looked at)."""

    def __init__(self, patients: list[Patient]):
        self.patients = patients
        super().__init__("This may be a patient you already have.")


class StaleAppointment(BookingError):
    """The appointment changed since the form was opened."""

    @classmethod
    def since(cls, current: Appointment, seen: int, actor: User | None) -> StaleAppointment:
        """`current` (locked) is no longer at the version `seen` the form was opened on. The
        one change since made by `actor` is their own form sent twice (a double click, the
        back button), not someone else's."""
        status = current.get_status_display().lower()
        last_by = current.events.order_by("-pk").values_list("actor_id", flat=True).first()
        if actor is not None and current.version == seen + 1 and last_by == actor.pk:
            return cls(
                f"You changed this appointment a moment ago (it is now {status}): the form was "
                "sent twice, and nothing more was changed. Here is its current state."
            )
        return cls(
            f"Someone else changed this appointment a moment ago (it is now {status}); here "
            "is its current state."
        )


class ConsentNeeded(TransitionRefused):
    """Check-in refused: the patient has not signed the current consent (they can, at the
    counter, and then be checked in)."""

    def __init__(self, message: str, *, patient: Patient):
        self.patient = patient
        super().__init__(message)


NEEDLING_IS_BOOKED_AS_A_COURSE = (
    "Dry-needling sessions are booked as a course after the assessment, once a practitioner "
    "has recorded that dry needling is appropriate: book the patient's course from the signed "
    "plan (or a session of it again from the course's page), not a single session."
)


def refuse_needling_outside_a_course(service: Service, course: Course | None) -> None:
    """A dry-needling session is a session of a course, never a visit of its own: nobody is
    needled whom no practitioner has assessed, and every session can have its session note.
    PostgreSQL holds the same rule (`needling_session_belongs_to_a_course`)."""
    if service.needs_dry_needling_certification and course is None:
        raise BookingError(NEEDLING_IS_BOOKED_AS_A_COURSE)


def is_conflict(error: Exception) -> bool:
    cause = getattr(error, "__cause__", None)
    return getattr(cause, "pgcode", None) in _CONFLICT_CODES


def constraint_name(error: Exception) -> str:
    """The constraint PostgreSQL named when it refused a write ('' if it named none)."""
    diag = getattr(getattr(error, "__cause__", None), "diag", None)
    return getattr(diag, "constraint_name", "") or ""


def _conflict_message(error: Exception) -> str:
    text = f"{constraint_name(error)} {error}"
    if "appointment_no_overlap_per_patient" in text:
        return "The patient already has an appointment at that time."
    if "appointment_travel_time_between_locations" in text:
        return "The practitioner would not have time to travel from another location."
    if "appointment_one_active_per_course_session" in text:
        return "That session of the course is already booked."
    return "This time was just taken by another booking."


# Booking rules PostgreSQL keeps with triggers of their own (booking migrations 0018 on), in the
# words of the person booking. The services check each before they write, so these speak only
# when something changed in between or a caller skipped a check: never a 500.
_RULE_MESSAGES = {
    "course_sessions_keep_to_the_course": (
        "A session of a course is a dry-needling session of the course's length, numbered "
        "within the sessions it plans."
    ),
    "needling_session_with_a_certified_practitioner": (
        "The practitioner has no dry-needling certification current on that date."
    ),
    "needling_session_belongs_to_a_course": NEEDLING_IS_BOOKED_AS_A_COURSE,
}


def write(action: Callable[[], object]):
    """Run a write in a savepoint, turning a conflict PostgreSQL found into `SlotTaken`, and a
    booking rule it kept into `SlotUnavailable` with the rule in words."""
    try:
        with transaction.atomic():
            return action()
    except (IntegrityError, OperationalError) as error:
        if is_conflict(error):
            raise SlotTaken(_conflict_message(error)) from error
        rule = _RULE_MESSAGES.get(constraint_name(error))
        if rule is not None:
            raise SlotUnavailable([rule]) from error
        raise


def record_event(
    appointment: Appointment,
    *,
    actor: User | None,
    kind: str,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
    late: bool | None = None,
    details: dict | None = None,
    at: dt.datetime | None = None,
) -> AppointmentEvent:
    return AppointmentEvent.objects.create(
        appointment=appointment,
        actor=actor,
        kind=kind,
        reason=reason,
        from_status=from_status,
        to_status=to_status,
        late=late,
        details=details or {},
        at=at or timezone.now(),
    )
