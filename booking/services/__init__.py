"""The booking workflows, one module a kind: `writing` (errors, one savepoint per write, the
appointment's history), `slots` (checking a slot, holds, online requests), `appointments`
(staff bookings, status changes, moving and cancelling), `corrections` (a no-show or a
check-in taken back on its day), `courses`, `waitlist`, `waitlist_accept` (taking an offer:
booking the time, or moving the appointment the place was for) and `accounts` (closing a
patient's account).

Services take domain objects and keyword arguments, never a request; each runs in one
transaction. Callers use this package's names (`services.book_appointment`); the modules
import each other directly, in the order above.
"""

from booking.services.accounts import (
    close_patient_account,
)
from booking.services.appointments import (
    accept_proposed_time,
    book_appointment,
    cancel_appointment,
    change_status,
    check_in,
    check_in_opens_text,
    confirm_request,
    decline_request,
    patient_cancel,
    propose_time,
    register_patient_at_desk,
    reschedule_appointment,
)
from booking.services.corrections import (
    undo_check_in,
    undo_no_show,
    undoable_today,
)
from booking.services.courses import (
    CourseNotAllowed,
    SessionChoice,
    SessionProposal,
    book_course,
    check_course,
    course_session_refusal,
    extend_course_to_its_plan,
    extension_refusal,
    nearest_alternatives,
    proposed_dates,
    rebook_course_session,
)
from booking.services.slots import (
    HOLD_MINUTES,
    CheckedSlot,
    HoldReplaced,
    check_move,
    check_slot,
    check_slot_of,
    lock_practitioner,
    place_hold,
    request_appointment,
)
from booking.services.waitlist import (
    NEEDLING_HAS_NO_WAITLIST,
    WAITLIST_OFFER_HOURS,
    FreedSlot,
    PlaceLinkRefused,
    decline_offer,
    expire_offers,
    join_waitlist,
    leave_waitlist,
    offer_freed_slot,
    offer_slot_by_hand,
    replaceable_appointments,
)
from booking.services.waitlist_accept import accept_offer
from booking.services.writing import (
    NEEDLING_IS_BOOKED_AS_A_COURSE,
    AccountClosed,
    BookingError,
    ConsentNeeded,
    PossibleDuplicates,
    SlotTaken,
    SlotUnavailable,
    StaleAppointment,
    TransitionRefused,
    is_conflict,
    record_event,
    write,
)

__all__ = [
    "NEEDLING_IS_BOOKED_AS_A_COURSE",
    "AccountClosed",
    "BookingError",
    "ConsentNeeded",
    "PossibleDuplicates",
    "SlotTaken",
    "SlotUnavailable",
    "StaleAppointment",
    "TransitionRefused",
    "is_conflict",
    "record_event",
    "write",
    "CheckedSlot",
    "HOLD_MINUTES",
    "HoldReplaced",
    "check_move",
    "check_slot",
    "check_slot_of",
    "lock_practitioner",
    "place_hold",
    "request_appointment",
    "accept_proposed_time",
    "book_appointment",
    "cancel_appointment",
    "change_status",
    "check_in",
    "check_in_opens_text",
    "confirm_request",
    "decline_request",
    "patient_cancel",
    "propose_time",
    "register_patient_at_desk",
    "reschedule_appointment",
    "undo_check_in",
    "undo_no_show",
    "undoable_today",
    "CourseNotAllowed",
    "SessionChoice",
    "SessionProposal",
    "book_course",
    "extend_course_to_its_plan",
    "extension_refusal",
    "check_course",
    "course_session_refusal",
    "nearest_alternatives",
    "proposed_dates",
    "rebook_course_session",
    "FreedSlot",
    "NEEDLING_HAS_NO_WAITLIST",
    "WAITLIST_OFFER_HOURS",
    "accept_offer",
    "decline_offer",
    "expire_offers",
    "join_waitlist",
    "leave_waitlist",
    "offer_freed_slot",
    "offer_slot_by_hand",
    "PlaceLinkRefused",
    "replaceable_appointments",
    "close_patient_account",
]
