"""Taking back a status set in error at the desk, on the visit's own day, while what happened is
still fresh: a no-show (the patient came after all) and a check-in (the wrong row was clicked,
or the patient left before being seen). Otherwise those steps are final (see
`booking.models.TRANSITIONS`); each correction keeps both steps, and its reason, in the
appointment's history.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from booking import notifications
from booking.billing.payments import credit_missed_visit_fee
from booking.models import CORRECTIONS, Appointment, Status
from booking.services.appointments import (
    apply_status,
    locked,
    refuse_if_recorded,
    require_current_consent,
)
from booking.services.writing import TransitionRefused, write
from clinic.models import User
from clinic.templatetags.clinic_time import at_location


def undoable_today(appointment: Appointment, now: dt.datetime) -> bool:
    """Whether `now` is the visit's day on its location's clock (the page's button and the
    services' check)."""
    return now.astimezone(appointment.location.zone).date() == appointment.local_starts_at.date()


def _correction(
    appointment: Appointment,
    *,
    status: str,
    what: str,
    reason: str,
    expected_version: int | None,
    now: dt.datetime,
    actor: User,
) -> tuple[Appointment, str]:
    """The appointment locked for undoing its `status` ("a no-show"), with the reason for its
    history; refused, with the reason, when it has another status, has no reason, or its day
    has passed."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise TransitionRefused(f"Say why {what} was wrong.")
    current = locked(appointment, expected_version, actor)
    if current.status != status:
        raise TransitionRefused(f"This appointment is {current.get_status_display().lower()}.")
    if not undoable_today(current, now):
        raise TransitionRefused(
            f"{what.capitalize()} can be undone only on the day of the visit "
            f"({at_location(current.starts_at, current.location, 'l j F')})."
        )
    return current, f"{what.removeprefix('a ').capitalize()} undone: {reason}"[:300]


@transaction.atomic
def undo_no_show(
    appointment: Appointment,
    *,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Check in a visit marked a no-show in error (the patient came after all), saying why:
    with current consent (as any check-in), and only if its time is still free. Its
    missed-visit fee, if invoiced, is credited."""
    now = now or timezone.now()
    current, reason = _correction(
        appointment,
        status=Status.NO_SHOW,
        what="a no-show",
        reason=reason,
        expected_version=expected_version,
        now=now,
        actor=actor,
    )
    require_current_consent(current.patient)
    details = {"undoes": Status.NO_SHOW}
    # Active again, the visit takes its time back: PostgreSQL's overlap constraints and
    # travel-time trigger refuse it (SlotTaken, saying what is in the way) if the time went to
    # someone else since the no-show freed it.
    previous = write(
        lambda: apply_status(
            current,
            to=CORRECTIONS[Status.NO_SHOW],
            actor=actor,
            reason=reason,
            now=now,
            details=details,
        )
    )
    credit_missed_visit_fee(current, reason=reason, actor=actor, now=now)
    notifications.status_changed(current, previous=previous, now=now)
    return current


@transaction.atomic
def undo_check_in(
    appointment: Appointment,
    *,
    actor: User,
    reason: str,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Take a check-in back (the wrong patient was checked in, or they left before being
    seen), saying why: the visit is booked again, to be checked in, marked a no-show or
    cancelled as usual. Refused once a signed note records the visit (it took place)."""
    now = now or timezone.now()
    current, reason = _correction(
        appointment,
        status=Status.CHECKED_IN,
        what="a check-in",
        reason=reason,
        expected_version=expected_version,
        now=now,
        actor=actor,
    )
    refuse_if_recorded(current, "taken back to booked", now)
    details = {"undoes": Status.CHECKED_IN}
    previous = apply_status(
        current,
        to=CORRECTIONS[Status.CHECKED_IN],
        actor=actor,
        reason=reason,
        now=now,
        details=details,
    )
    notifications.status_changed(current, previous=previous, now=now)
    return current
