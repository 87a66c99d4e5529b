"""Emails to patients, through an outbox in PostgreSQL.

Writing: the booking services call the functions of the first part inside their own
transaction, so a message exists exactly when the change it announces was committed (a
rolled-back booking leaves no message). Reminders and the intake nudge are rows scheduled
for later, made to follow their appointment by `schedule()`: created when it is confirmed,
moved with it, withdrawn when it is cancelled or the patient turns reminders off.

Sending: `send_due()` (run by `python manage.py send_notifications`) claims due rows with
`SELECT … FOR UPDATE SKIP LOCKED` and marks them with a lease, then sends them outside the
transaction. Workers on any number of servers therefore never pick the same row, and a
worker killed mid-send leaves a row that another claims once the lease has run out (so a
message is sent at most one more time, with the same Message-ID, which mail clients use to
drop the duplicate). Failures are retried with exponential back-off and given up after
`NOTIFICATIONS_MAX_ATTEMPTS`; an address the mail server refuses is recorded against the
patient and not tried again until it changes. Messages are rendered when sent, from
subject / text / HTML templates in `templates/emails/`, in the location's voice.

One module a part: `outbox` (kinds, settings, rows), `announcements` (what a change
announces), `surveys` and `reminders` (scheduled rows), `addresses` (bounces), `rendering` and
`worker` (sending). Callers use this package's names (`notifications.appointment_created`).
The signed links in messages (`links`), calendar files and feeds (`calendars`) and the pages a
link opens (`views`) live here too.
"""

from booking.notifications.addresses import (
    address_problem,
    record_bounce,
    record_late_bounce,
    send_again,
)
from booking.notifications.announcements import (
    appointment_cancelled,
    appointment_created,
    appointment_moved,
    course_booked,
    offer_ended,
    slot_offered,
    status_changed,
)
from booking.notifications.outbox import (
    INTAKE_NUDGE_DELAY,
    INTAKE_NUDGE_MARGIN,
    SCHEDULED_KINDS,
    Kind,
    NotificationError,
    State,
    emails,
    enqueue,
    enqueue_about,
    failures,
    history,
    lease,
    max_attempts,
    preference,
    recipient,
    reminder_policy,
    retry_base,
    retry_delay,
    wants_reminders,
    withdraw,
)
from booking.notifications.reminders import (
    reminder_policy_changed,
    schedule,
    set_reminders,
    start_as_scheduled,
)
from booking.notifications.rendering import (
    build_message,
    render_parts,
)
from booking.notifications.surveys import (
    OUTCOME_SURVEYS,
    outcome_survey_not_needed,
    schedule_outcome_surveys,
)
from booking.notifications.worker import (
    Outcome,
    claim_due,
    default_worker_name,
    deliver,
    not_needed,
    send_due,
)

__all__ = [
    "INTAKE_NUDGE_DELAY",
    "INTAKE_NUDGE_MARGIN",
    "Kind",
    "NotificationError",
    "SCHEDULED_KINDS",
    "State",
    "enqueue",
    "enqueue_about",
    "failures",
    "emails",
    "history",
    "lease",
    "max_attempts",
    "preference",
    "recipient",
    "reminder_policy",
    "retry_base",
    "retry_delay",
    "wants_reminders",
    "withdraw",
    "appointment_cancelled",
    "appointment_created",
    "appointment_moved",
    "course_booked",
    "offer_ended",
    "slot_offered",
    "status_changed",
    "OUTCOME_SURVEYS",
    "outcome_survey_not_needed",
    "schedule_outcome_surveys",
    "reminder_policy_changed",
    "schedule",
    "start_as_scheduled",
    "set_reminders",
    "address_problem",
    "record_bounce",
    "record_late_bounce",
    "send_again",
    "build_message",
    "render_parts",
    "Outcome",
    "claim_due",
    "default_worker_name",
    "deliver",
    "not_needed",
    "send_due",
]
