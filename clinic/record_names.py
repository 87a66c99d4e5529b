"""What each kind of record in the access log is called in the clinic's words.

The log stores a record's type as `app.table` (see `clinic.audit.record_label`) or as a name a
page gives itself (`booking.schedule`). The clinic app may not import intake or booking, so their
names live here as data; a test checks that every type the code writes has one."""

from __future__ import annotations

RECORD_NAMES: dict[str, str] = {
    # The organisation
    "clinic.patient": "Patient details",
    "clinic.user": "Login account",
    "clinic.accesslog": "Access log export (CSV)",
    "clinic.patient_record": "Records request (whole record)",
    # Intake: the questionnaire and consent
    "intake.intake": "Intake questionnaire",
    "intake.consentsignature": "Consent signature",
    "intake.screening": "Screening reasons",
    # Intake: the clinical record
    "intake.assessmentnote": "Assessment note",
    "intake.assessmentamendment": "Assessment note amendment",
    "intake.treatmentnote": "Session note",
    "intake.treatmentnoteamendment": "Session note amendment",
    "intake.checkin": "Outcome survey",
    "intake.progress": "Outcome surveys (progress)",
    "intake.chart": "Patient chart",
    # Booking
    "booking.appointment": "Appointment",
    "booking.course": "Course",
    "booking.slothold": "Held time",
    "booking.waitlistentry": "Waitlist place",
    "booking.notification": "Email",
    "booking.notificationpreference": "Reminder preferences",
    "booking.calendarfeed": "Calendar feed",
    "booking.schedule": "Day schedule",
    "booking.requests": "Requests queue",
    "booking.patient_search": "Patient search",
    "booking.report.dashboard": "Results dashboard export (CSV)",
    "booking.report.outcomes": "Outcomes export (CSV)",
    # Billing (booking.billing): invoices name the service, so they are health information
    "billing.invoice": "Invoice",
    "billing.creditnote": "Credit note",
    "billing.superbill": "Superbill (PDF)",
    "billing.statement": "Year-end statement (PDF)",
    "billing.account": "Patient's account (balance and invoices)",
    "billing.day_close": "Day close",
}

# The "clinical records only" filter: what a practitioner wrote or a patient answered about
# their care (assessment and session notes with their amendments, outcome surveys, the
# questionnaire and its screening), not appointments, lists of names or exports of figures.
CLINICAL_RECORD_TYPES: frozenset[str] = frozenset(
    {
        "intake.intake",
        "intake.screening",
        "intake.assessmentnote",
        "intake.assessmentamendment",
        "intake.treatmentnote",
        "intake.treatmentnoteamendment",
        "intake.checkin",
        "intake.progress",
        "intake.chart",
    }
)


def record_name(record_type: str, record_id: str = "") -> str:
    """`intake.treatmentnote`, `88` -> 'Session note #88'; an unknown type keeps its raw name."""
    name = RECORD_NAMES.get(record_type, record_type)
    return f"{name} #{record_id}" if record_id else name
