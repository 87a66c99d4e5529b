"""A patient's complete record for a records request: their details, every appointment with
its history, their courses, invoices with their payments, waitlist places and the emails sent
to them, and (from intake) questionnaires, consents and clinical notes."""

from __future__ import annotations

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from booking.billing.documents import offers_superbill
from booking.billing.ledger import with_balances
from booking.billing.models import Invoice
from booking.models import (
    Appointment,
    AppointmentEvent,
    Course,
    Notification,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from clinic.models import Patient, Weekday
from clinic.templatetags.clinic_time import at_location
from intake.clinical.health_record import health_record
from intake.clinical.models import jsonable


def patient_record(patient: Patient) -> dict:
    """Everything the clinic holds about `patient`, as plain data (times in UTC, ISO 8601)."""
    appointments = (
        Appointment.objects.filter(patient=patient)
        .select_related("location", "practitioner__user", "service", "room", "course")
        .prefetch_related(
            Prefetch("events", queryset=AppointmentEvent.objects.select_related("actor"))
        )
        .order_by("starts_at")
    )
    courses = (
        Course.objects.filter(patient=patient)
        .select_related("practitioner__user")
        .order_by("created_at")
    )
    return {
        "exported_at": jsonable(timezone.now()),
        "patient": {
            "record_number": patient.pk,
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "date_of_birth": jsonable(patient.date_of_birth),
            "phone": patient.phone,
            "email": patient.email,
            "emergency_contact": {
                "name": patient.emergency_contact_name,
                "phone": patient.emergency_contact_phone,
            },
            "preferred_location": patient.preferred_location.name
            if patient.preferred_location
            else None,
            "registered_at": sorted(location.name for location in patient.locations.all()),
            "created_at": jsonable(patient.created_at),
        },
        "appointments": [
            {
                "id": appointment.pk,
                "service": appointment.service.name,
                "location": appointment.location.name,
                "practitioner": appointment.practitioner.name,
                "starts_at": jsonable(appointment.starts_at),
                "ends_at": jsonable(appointment.ends_at),
                "time_zone": appointment.location.time_zone,
                "status": appointment.get_status_display(),
                "course_session": (
                    f"{appointment.session_number} of {appointment.course.sessions_planned}"
                    if appointment.course_id
                    else None
                ),
                "cancelled_by": appointment.get_cancelled_by_display()
                if appointment.cancelled_by
                else None,
                "cancellation_reason": appointment.cancellation_reason or None,
                "late_cancellation": appointment.late_cancellation,
                "note_from_patient": appointment.patient_note or None,
                "history": [
                    {
                        "at": jsonable(event.at),
                        "what": event.get_kind_display(),
                        "status": Status(event.to_status).label if event.to_status else None,
                        "reason": event.reason or None,
                        "by": event.actor.full_name if event.actor else None,
                    }
                    for event in appointment.events.all()
                ],
            }
            for appointment in appointments
        ],
        "courses": [
            {
                "id": course.pk,
                "prescribed_by": course.practitioner.name,
                "sessions": course.sessions_planned,
                "minutes_per_session": course.minutes,
                "every_days": course.interval_days,
                "booked_at": jsonable(course.created_at),
            }
            for course in courses
        ],
        "invoices": _invoices(patient),
        "waitlist": _waitlist(patient),
        "emails": _emails(patient),
        **health_record(patient),
    }


def _invoices(patient: Patient) -> list[dict]:
    invoices = (
        with_balances(Invoice.objects.filter(patient=patient))
        .select_related("location")
        .prefetch_related("lines__practitioner__user", "payments", "credit_notes__location")
        .order_by("issued_at", "pk")
    )
    return [
        {
            "number": invoice.display_number,
            "kind": invoice.get_kind_display(),
            "location": invoice.location.name,
            "issued_on": jsonable(invoice.issued_on),
            "currency": invoice.currency,
            "total": str(invoice.total),
            "balance": str(invoice.balance),
            # Where to download its documents: each address checks again who asks.
            "receipt_pdf": reverse("documents:invoice_receipt", args=[invoice.pk]),
            "superbill_pdf": reverse("documents:invoice_superbill", args=[invoice.pk])
            if offers_superbill(invoice)
            else None,
            "lines": [
                {
                    "description": line.description,
                    "date_of_service": jsonable(line.date_of_service),
                    "practitioner": line.practitioner.name,
                    "quantity": line.quantity,
                    "amount": str(line.amount),
                }
                for line in invoice.lines.all()
            ],
            "payments": [
                {
                    "what": payment.get_kind_display(),
                    "method": payment.get_method_display(),
                    "amount": str(payment.amount),
                    "status": payment.get_status_display(),
                    "received_at": jsonable(payment.received_at),
                }
                for payment in sorted(invoice.payments.all(), key=lambda p: (p.received_at, p.pk))
            ],
            "credit_notes": [
                {
                    "number": str(note),
                    "amount": str(note.amount),
                    "reason": note.reason,
                    "issued_at": jsonable(note.issued_at),
                    "pdf": reverse("documents:credit_note", args=[note.pk]),
                }
                for note in invoice.credit_notes.all()
            ],
        }
        for invoice in invoices
    ]


def _waitlist(patient: Patient) -> list[dict]:
    entries = (
        WaitlistEntry.objects.filter(patient=patient)
        .select_related(
            "location", "service", "practitioner__user", "replaces__location", "replaces__service"
        )
        .prefetch_related(Prefetch("offers", queryset=WaitlistOffer.objects.select_related("hold")))
        .order_by("created_at", "pk")
    )
    return [
        {
            "location": entry.location.name,
            "service": entry.service.name,
            "minutes": entry.minutes,
            "practitioner": entry.practitioner.name if entry.practitioner else None,
            "days": [Weekday(day).label for day in entry.weekdays],
            "earliest_time": entry.earliest_time.isoformat("minutes"),
            "latest_time": entry.latest_time.isoformat("minutes"),
            "time_zone": entry.location.time_zone,
            "state": entry.get_state_display(),
            "joined_at": jsonable(entry.created_at),
            "replaces": _moved_by_place(entry.replaces) if entry.replaces else None,
            "offers": [
                {
                    "starts_at": jsonable(offer.hold.starts_at),
                    "offered_at": jsonable(offer.offered_at),
                    "state": offer.get_state_display(),
                }
                for offer in sorted(entry.offers.all(), key=lambda o: (o.offered_at, o.pk))
            ],
        }
        for entry in entries
    ]


def _moved_by_place(appointment: Appointment) -> dict:
    """The appointment a place is for an earlier time than: taking an offer moves it."""
    return {
        "appointment": appointment.pk,
        "service": appointment.service.name,
        "location": appointment.location.name,
        "starts_at": jsonable(appointment.starts_at),
        "at_location": at_location(appointment.starts_at, appointment.location),
    }


def _emails(patient: Patient) -> list[dict]:
    """Every email written to the patient: what it was about, to which address, and whether
    it was sent (its text is drawn when it is sent, from the records above)."""
    emails = Notification.objects.filter(patient=patient).order_by("created_at", "pk")
    return [
        {
            "about": email.get_kind_display(),
            "appointment": email.appointment_id,
            "to": email.to_email or None,
            "state": email.get_state_display(),
            "written_at": jsonable(email.created_at),
            "sent_at": jsonable(email.sent_at) if email.sent_at else None,
        }
        for email in emails
    ]
