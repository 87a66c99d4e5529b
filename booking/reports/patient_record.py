"""A patient's complete record for a records request: their details, every appointment with
its history, their courses, and (from intake) questionnaires, consents and clinical notes."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from booking.models import Appointment, AppointmentEvent, Course
from clinic.models import Patient
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
                        "status": event.to_status or None,
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
        **health_record(patient),
    }
