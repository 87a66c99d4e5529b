"""The booking app's models, one module a part: `appointments` (rooms, appointments and their
history, courses), `waitlist` (holds, entries, offers) and `notifications` (reminder policies,
preferences, the outbox, calendar feeds) and `report_rows` (the results dashboard's rows, kept up
to date by PostgreSQL). Django finds them here; code imports them from here.
"""

from booking.models.appointments import (
    ACTIVE,
    ACTIVE_STATUSES,
    CORRECTIONS,
    LONGEST_APPOINTMENT,
    MOVABLE_STATUSES,
    TRANSITIONS,
    Appointment,
    AppointmentEvent,
    CancelledBy,
    Course,
    PlanAsItStands,
    Room,
    Status,
    TsTzRange,
    plan_number,
    plan_says,
)
from booking.models.notifications import (
    CalendarFeed,
    EveryElement,
    LocationReminderPolicy,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotificationState,
    default_reminder_hours,
)
from booking.models.report_rows import (
    CourseReportRow,
    SessionReportRow,
    SessionReportTally,
    VisitReportRow,
    VisitReportTally,
)
from booking.models.waitlist import (
    SlotHold,
    WaitlistEntry,
    WaitlistOffer,
)

__all__ = [
    "ACTIVE",
    "ACTIVE_STATUSES",
    "Appointment",
    "AppointmentEvent",
    "CancelledBy",
    "CORRECTIONS",
    "Course",
    "CourseReportRow",
    "LONGEST_APPOINTMENT",
    "MOVABLE_STATUSES",
    "Room",
    "Status",
    "TRANSITIONS",
    "TsTzRange",
    "PlanAsItStands",
    "plan_number",
    "plan_says",
    "SessionReportRow",
    "SlotHold",
    "VisitReportRow",
    "VisitReportTally",
    "SessionReportTally",
    "WaitlistEntry",
    "WaitlistOffer",
    "CalendarFeed",
    "EveryElement",
    "LocationReminderPolicy",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "NotificationState",
    "default_reminder_hours",
]
