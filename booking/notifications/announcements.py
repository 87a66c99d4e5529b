"""The messages a change announces, written by the booking services inside their own
transaction: a rolled-back booking leaves no message. The same goes for the webhook
deliveries a change queues (`booking.webhooks.events`): this is the one place that writes them
for booking's changes.
"""

from __future__ import annotations

import datetime as dt

from booking.models import (
    Appointment,
    CancelledBy,
    Course,
    Notification,
    Status,
    WaitlistOffer,
)
from booking.notifications.outbox import (
    Kind,
    State,
    enqueue,
    enqueue_about,
    message,
    message_about,
    withdraw,
)
from booking.notifications.reminders import schedule, schedule_new
from booking.notifications.surveys import schedule_outcome_surveys
from booking.webhooks import events as webhook_events
from clinic.models import Location, ServiceKind


def appointment_created(appointment: Appointment, *, now: dt.datetime) -> None:
    """A new appointment: 'request received' while the front desk has to confirm it, the
    confirmation (with the invite) when it is confirmed straight away. The appointment was
    written in this transaction, so nothing waits for it yet: its messages are new rows,
    written in one statement."""
    first = {Status.CONFIRMED: Kind.CONFIRMED, Status.REQUESTED: Kind.REQUEST_RECEIVED}.get(
        appointment.status
    )
    written = [message_about(appointment, first, now)] if first else []
    Notification.objects.bulk_create([*written, *schedule_new([appointment], now=now)])
    # A course's session booked again (after a cancelled or missed one) may follow what was
    # its last session: the course goes on, and its questionnaires wait for its real end.
    schedule_outcome_surveys(appointment.course_id, now=now)
    webhook_events.appointment_status(appointment, at=now)


def status_changed(appointment: Appointment, *, previous: str, now: dt.datetime) -> None:
    if appointment.status == Status.CONFIRMED and previous == Status.REQUESTED:
        enqueue_about(appointment, Kind.CONFIRMED, now, context=_untold_move(appointment))
    elif (
        appointment.status == Status.COMPLETED
        and appointment.service.kind == ServiceKind.DRY_NEEDLING
    ):
        enqueue_about(appointment, Kind.AFTER_CARE, now)
    schedule(appointment, now=now)
    # A course may end with this session, or (a missed one's no-show undone) go on after all.
    if Status.NO_SHOW in (appointment.status, previous) or appointment.status == Status.COMPLETED:
        schedule_outcome_surveys(appointment.course_id, now=now)
    webhook_events.appointment_status(appointment, at=now)


def _untold_move(appointment: Appointment) -> dict:
    """A request moved and confirmed before the 'moved' message went out (a waitlist offer
    taken for it does both at once): one email, the confirmation, which then names the time
    it moved from. The 'moved' message is withdrawn; the context it kept is returned."""
    waiting = appointment.notifications.filter(state=State.PENDING, kind=Kind.RESCHEDULED)
    earlier = waiting.order_by("created_at", "id").first()
    if earlier is None:
        return {}
    withdraw(waiting, "The confirmation, sent instead, gives the new time.")
    return {key: value for key, value in earlier.context.items() if key != "proposal"}


def appointment_cancelled(appointment: Appointment, *, previous: str, now: dt.datetime) -> None:
    """Cancelled by the patient or the clinic; a request the clinic cancels is declined."""
    withdraw(
        appointment.notifications.filter(
            kind__in=[Kind.REQUEST_RECEIVED, Kind.CONFIRMED, Kind.RESCHEDULED]
        ),
        "The appointment was cancelled before this was sent.",
    )
    declined = previous == Status.REQUESTED and appointment.cancelled_by == CancelledBy.CLINIC
    enqueue_about(
        appointment,
        Kind.DECLINED if declined else Kind.CANCELLED,
        now,
        context={"was_confirmed": previous != Status.REQUESTED},
    )
    schedule(appointment, now=now)
    schedule_outcome_surveys(appointment.course_id, now=now)
    webhook_events.appointment_status(appointment, at=now)


def appointment_moved(
    appointment: Appointment,
    *,
    from_starts_at: dt.datetime,
    from_location: Location,
    from_practitioner: str,
    now: dt.datetime,
    proposal: str = "",
) -> None:
    """`proposal`: the clinic's message when it answers a request with another time (the
    patient is asked to accept it rather than told it moved)."""
    context = {
        "from_starts_at": from_starts_at.astimezone(dt.UTC).isoformat(),
        "from_location_id": from_location.pk,
        "from_location": from_location.name,
        "from_time_zone": from_location.time_zone,
        "from_practitioner": from_practitioner,
    }
    # Moved again before the first message went out: one message, from the time the
    # patient last heard about to the new one.
    waiting = appointment.notifications.filter(state=State.PENDING, kind=Kind.RESCHEDULED)
    earlier = waiting.order_by("created_at", "id").first()
    if earlier is not None:
        context = earlier.context
        withdraw(waiting, "Replaced by a newer message about the same appointment.")
    context = {key: value for key, value in context.items() if key != "proposal"}
    if proposal:
        context["proposal"] = proposal
    enqueue_about(appointment, Kind.RESCHEDULED, now, context=context)
    schedule(appointment, now=now)
    webhook_events.appointment_moved(appointment, at=now, from_location_id=from_location.pk)


def course_booked(course: Course, *, now: dt.datetime) -> None:
    """One message listing every session (each with its invite), and each session's reminders."""
    sessions = list(
        course.appointments.select_related("location", "service", "patient").order_by(
            "session_number"
        )
    )
    # The sessions were written in this transaction: their reminders are new rows, written with
    # the course's message in one statement.
    first = message(
        Kind.COURSE_BOOKED,
        patient=course.patient,
        location=sessions[0].location,
        course=course,
        now=now,
    )
    Notification.objects.bulk_create([first, *schedule_new(sessions, now=now)])
    webhook_events.course_booked(sessions[0], at=now)


def slot_offered(offer: WaitlistOffer, *, now: dt.datetime) -> None:
    enqueue(
        Kind.WAITLIST_OFFER,
        patient=offer.entry.patient,
        location=offer.hold.location,
        offer=offer,
        now=now,
    )


def offer_ended(offer: WaitlistOffer) -> None:
    withdraw(offer.notifications.all(), "The offer ended before this was sent.")
