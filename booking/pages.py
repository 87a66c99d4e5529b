"""Booking's links and home-page panels (see clinic.pages)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from clinic.audit import record_listing
from clinic.models import Role
from clinic.pages import HomeSection, add_home_section, add_nav_link


def patient_appointments(request: HttpRequest) -> HomeSection | None:
    from booking.models import ACTIVE_STATUSES, LONGEST_APPOINTMENT, Appointment, WaitlistOffer

    now = timezone.now()
    upcoming = list(
        Appointment.objects.filter(
            patient__user=request.user,
            status__in=ACTIVE_STATUSES,
            ends_at__gte=now,
            starts_at__gt=now - LONGEST_APPOINTMENT,
        )
        .select_related("location", "practitioner__user", "service", "course")
        .order_by("starts_at")[:3]
    )
    offers = WaitlistOffer.objects.filter(
        entry__patient__user=request.user, state=WaitlistOffer.State.OPEN, expires_at__gt=now
    ).count()
    return HomeSection("booking/_home_patient.html", {"upcoming": upcoming, "offers": offers})


def practitioner_today(request: HttpRequest) -> HomeSection | None:
    from booking.desk.badges import screening_flags
    from booking.models import ACTIVE_STATUSES, Appointment

    practitioner = getattr(request.user, "practitioner", None)
    if practitioner is None:
        return None
    now = timezone.now()
    appointments = list(
        Appointment.objects.filter(
            practitioner=practitioner,
            status__in=ACTIVE_STATUSES,
            starts_at__gte=now - dt.timedelta(hours=14),
            starts_at__lt=now + dt.timedelta(hours=24),
        )
        .select_related("location", "patient", "service", "course", "room")
        .order_by("starts_at")
    )
    today = [a for a in appointments if a.local_starts_at.date() == a.location.today()]
    flags = screening_flags(request, (a.patient_id for a in today), with_reasons=True)
    # The others are shown with their appointments only: a list row each (clinic.audit).
    record_listing(
        request=request,
        patient_ids=(a.patient_id for a in today if a.patient_id not in flags),
        record_type="booking.schedule",
    )
    return HomeSection(
        "booking/_home_practitioner.html",
        {"rows": [(a, flags.get(a.patient_id, [])) for a in today]},
    )


def front_desk_today(request: HttpRequest) -> HomeSection | None:
    """Per location: today's appointments still to arrive, and the requests to confirm."""
    from booking.desk.grid import day_bounds
    from booking.models import Appointment, Status
    from clinic.access import visible_locations

    locations = list(visible_locations(request.user))
    if not locations:
        return None
    today = Q()
    for location in locations:
        start, end = day_bounds(location.today(), location.zone)
        today |= Q(location=location, starts_at__gte=start, starts_at__lt=end)
    counts = {
        row["location_id"]: row
        for row in Appointment.objects.filter(today)
        .order_by()
        .values("location_id")
        .annotate(
            booked=Count("pk", filter=Q(status__in=[Status.CONFIRMED, Status.CHECKED_IN])),
            to_arrive=Count("pk", filter=Q(status=Status.CONFIRMED)),
        )
    }
    requests = dict(
        Appointment.objects.filter(
            status=Status.REQUESTED, proposed_by_clinic=False, location__in=locations
        )
        .order_by()
        .values_list("location_id")
        .annotate(Count("pk"))
    )
    rows = [
        {
            "location": location,
            "booked": counts.get(location.pk, {}).get("booked", 0),
            "to_arrive": counts.get(location.pk, {}).get("to_arrive", 0),
            "requests": requests.get(location.pk, 0),
        }
        for location in locations
    ]
    return HomeSection("booking/_home_front_desk.html", {"rows": rows})


def patient_record_links(request: HttpRequest) -> HomeSection:
    return HomeSection("booking/_home_record.html", {})


# The practitioner's most recent signed assessments the home page looks at for a course to book.
COURSES_TO_BOOK_AT_MOST = 8


def courses_to_book(request: HttpRequest) -> HomeSection | None:
    """Patients whose signed assessment (by this practitioner) prescribes a course that is
    not booked yet: the next step after signing."""
    from booking import gates
    from booking.models import Course
    from intake.clinical.models import AssessmentNote

    practitioner = getattr(request.user, "practitioner", None)
    if practitioner is None:
        return None
    recent = (
        AssessmentNote.objects.filter(
            author=practitioner, signed_at__gte=timezone.now() - dt.timedelta(days=90)
        )
        .exclude(pk__in=Course.objects.values("assessment_id"))
        .select_related("patient")
        .order_by("-signed_at")[:COURSES_TO_BOOK_AT_MOST]
    )
    patients = {note.patient_id: note.patient for note in recent}
    # The gate (latest signed state, amendments included, no new screening answer) is asked
    # for each: a few queries a patient, so the panel lists the most recent few only.
    ready = [patient for patient in patients.values() if gates.course_gate(patient).allowed]
    return HomeSection("booking/_home_courses_to_book.html", {"patients": ready}) if ready else None


def register_booking_pages() -> None:
    add_nav_link(Role.PATIENT, "Request an assessment", "booking:request_start", order=10)
    add_nav_link(Role.PATIENT, "My appointments", "booking:my_appointments", order=20)
    add_nav_link(Role.FRONT_DESK, "Schedule", "booking:schedule", order=10)
    add_nav_link(Role.FRONT_DESK, "Requests", "booking:requests_queue", order=20)
    add_nav_link(Role.PRACTITIONER, "My schedule", "booking:my_schedule", order=10)
    add_nav_link(Role.MANAGER, "Schedule", "booking:schedule", order=10)
    add_nav_link(Role.MANAGER, "Requests", "booking:requests_queue", order=20)
    add_nav_link(Role.PATIENT, "My record", "booking:my_record", order=92)
    add_nav_link(Role.PATIENT, "Reminders", "booking:reminder_settings", order=85)
    add_nav_link(Role.PRACTITIONER, "Calendar feed", "booking:calendar_feed", order=80)
    add_nav_link(Role.FRONT_DESK, "Email problems", "booking:email_problems", order=80)
    add_nav_link(Role.MANAGER, "Email problems", "booking:email_problems", order=70)
    add_nav_link(Role.MANAGER, "Results", "booking:reports", order=40)
    add_nav_link(Role.PRACTITIONER, "My results", "booking:reports", order=60)
    add_home_section(Role.PATIENT, patient_appointments, order=10)
    add_home_section(Role.PATIENT, patient_record_links, order=95)
    add_home_section(Role.PRACTITIONER, practitioner_today, order=10)
    add_home_section(Role.PRACTITIONER, courses_to_book, order=15)
    add_home_section(Role.FRONT_DESK, front_desk_today, order=5)
