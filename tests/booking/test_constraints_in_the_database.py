"""PostgreSQL itself refuses rows that break the booking invariants, whatever writes them.

Each case starts from valid rows made with the factories and breaks one invariant with raw SQL,
bypassing every Python check; the database must refuse it and name the constraint. The overlap
constraints and the travel-time trigger have their own module (test_no_double_booking.py)."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from booking.models import Appointment, Course, Room, SlotHold, Status, WaitlistEntry, WaitlistOffer
from clinic.models import Service
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course, a_slot_hold, a_waitlist_entry, a_waitlist_offer
from tests.database import refused_by, write_sql

pytestmark = pytest.mark.django_db

APPOINTMENT_COLUMNS = (
    "location_id, practitioner_id, room_id, patient_id, service_id, starts_at, ends_at, "
    "blocks_until, status, course_id, session_number, cancelled_by, cancellation_reason, "
    "late_cancellation, proposed_by_clinic, patient_note, created_at, version"
)
HOLD_COLUMNS = (
    "location_id, practitioner_id, room_id, service_id, patient_id, starts_at, ends_at, "
    "blocks_until, expires_at, created_at"
)


@dataclass
class Rows:
    appointment: Appointment  # session 1 of `course`, confirmed
    course: Course
    room: Room
    entry: WaitlistEntry
    hold: SlotHold
    offer: WaitlistOffer


@pytest.fixture
def rows(clinic, patient, other_patient):
    start = next_weekday(clinic.location, 1, 10)
    course = a_course(
        clinic, patient, statuses=[Status.CONFIRMED], first_start=start, sessions_planned=6
    )
    entry = a_waitlist_entry(
        clinic,
        other_patient,
        weekdays=[1, 2],
        earliest=dt.time(9),
        latest=dt.time(12),
        created_by=clinic.practitioner.user,
    )
    hold = a_slot_hold(clinic, other_patient, start + dt.timedelta(days=1), room=clinic.rooms[1])
    offer = a_waitlist_offer(entry, hold)
    return Rows(course.appointments.get(), course, clinic.rooms[0], entry, hold, offer)


# (constraint, SQL, the row whose id is its only parameter)
CASES = [
    (
        "appointment_blocks_at_least_until_its_end",
        "UPDATE booking_appointment SET blocks_until = ends_at - interval '1 minute' WHERE id = %s",
        "appointment",
    ),
    (
        "appointment_blocks_under_12_hours",
        "UPDATE booking_appointment SET ends_at = starts_at + interval '11 hours', "
        "blocks_until = starts_at + interval '12 hours 1 minute' WHERE id = %s",
        "appointment",
    ),
    (
        "appointment_status_is_known",
        "UPDATE booking_appointment SET status = 'postponed' WHERE id = %s",
        "appointment",
    ),
    (
        "appointment_course_sessions_numbered_1_to_6",
        "UPDATE booking_appointment SET session_number = 7 WHERE id = %s",
        "appointment",
    ),
    (
        "appointment_course_sessions_numbered_1_to_6",
        "UPDATE booking_appointment SET session_number = 0 WHERE id = %s",
        "appointment",
    ),
    (
        # `session_number >= 1` is NULL for a NULL number, and a CHECK lets NULL through: the
        # constraint says `session_number IS NOT NULL` in its course branch.
        "appointment_course_sessions_numbered_1_to_6",
        "UPDATE booking_appointment SET session_number = NULL WHERE id = %s",
        "appointment",
    ),
    (
        # Out of its course with its number kept; made an assessment, so that the number is
        # all that is wrong (a needling session of no course is refused by its own rule, below).
        "appointment_course_sessions_numbered_1_to_6",
        "UPDATE booking_appointment SET course_id = NULL, service_id = "
        "(SELECT id FROM clinic_service WHERE kind = 'assessment') WHERE id = %s",
        "appointment",
    ),
    (
        # A needling session taken out of its course, number and all.
        "needling_session_belongs_to_a_course",
        "UPDATE booking_appointment SET course_id = NULL, session_number = NULL WHERE id = %s",
        "appointment",
    ),
    (
        "appointment_cancellation_says_by_whom",
        "UPDATE booking_appointment SET status = 'cancelled', cancelled_by = '' WHERE id = %s",
        "appointment",
    ),
    (
        # A second active session 1 of the same course, a day later (so nothing overlaps).
        "appointment_one_active_per_course_session",
        f"INSERT INTO booking_appointment ({APPOINTMENT_COLUMNS}) "
        "SELECT location_id, practitioner_id, room_id, patient_id, service_id, "
        "starts_at + interval '1 day', ends_at + interval '1 day', "
        "blocks_until + interval '1 day', 'confirmed', course_id, session_number, '', '', "
        "false, false, '', now(), 1 FROM booking_appointment WHERE id = %s",
        "appointment",
    ),
    (
        "course_has_4_to_6_sessions",
        "UPDATE booking_course SET sessions_planned = 3 WHERE id = %s",
        "course",
    ),
    (
        "course_has_4_to_6_sessions",
        "UPDATE booking_course SET sessions_planned = 7 WHERE id = %s",
        "course",
    ),
    (
        "course_session_length_15_20_or_30",
        "UPDATE booking_course SET minutes = 25 WHERE id = %s",
        "course",
    ),
    (
        "course_interval_1_to_28_days",
        "UPDATE booking_course SET interval_days = 0 WHERE id = %s",
        "course",
    ),
    (
        "course_interval_1_to_28_days",
        "UPDATE booking_course SET interval_days = 29 WHERE id = %s",
        "course",
    ),
    (
        "room_name_unique_per_location",
        "INSERT INTO booking_room (location_id, name, is_active) "
        "SELECT location_id, name, true FROM booking_room WHERE id = %s",
        "room",
    ),
    (
        "hold_starts_before_it_ends",
        "UPDATE booking_slothold SET ends_at = starts_at WHERE id = %s",
        "hold",
    ),
    (
        "waitlist_earliest_before_latest",
        "UPDATE booking_waitlistentry SET latest_time = earliest_time WHERE id = %s",
        "entry",
    ),
    (
        "waitlist_earliest_before_latest",
        "UPDATE booking_waitlistentry SET earliest_time = '13:00', latest_time = '09:00' "
        "WHERE id = %s",
        "entry",
    ),
    (
        "waitlist_at_least_one_weekday",
        "UPDATE booking_waitlistentry SET weekdays = '{}' WHERE id = %s",
        "entry",
    ),
    (
        "waitlist_weekdays_monday_to_sunday",
        "UPDATE booking_waitlistentry SET weekdays = '{1, 7}' WHERE id = %s",
        "entry",
    ),
    (
        "waitlist_minutes_in_a_day",
        "UPDATE booking_waitlistentry SET minutes = 0 WHERE id = %s",
        "entry",
    ),
    (
        "waitlist_minutes_in_a_day",
        "UPDATE booking_waitlistentry SET minutes = 24 * 60 WHERE id = %s",
        "entry",
    ),
    (
        # A dry-needling place: sessions come as a course, never from the waitlist.
        "waitlist_place_not_for_needling",
        "UPDATE booking_waitlistentry SET service_id = (SELECT service_id FROM "
        "booking_appointment WHERE course_id IS NOT NULL LIMIT 1) WHERE id = %s",
        "entry",
    ),
    (
        # A time held for a single needling session.
        "slot_hold_not_for_needling",
        "UPDATE booking_slothold SET service_id = (SELECT service_id FROM booking_appointment "
        "WHERE course_id IS NOT NULL LIMIT 1) WHERE id = %s",
        "hold",
    ),
    (
        # The kind of a service visits are booked under (here the course's needling sessions).
        "service_kind_fixed_once_booked",
        "UPDATE clinic_service SET kind = 'reassessment' "
        "WHERE id = (SELECT service_id FROM booking_appointment WHERE id = %s)",
        "appointment",
    ),
    (
        # A second open offer for the same waitlist entry (with a hold of its own).
        "waitlist_one_open_offer_per_entry",
        f"WITH copy AS (INSERT INTO booking_slothold ({HOLD_COLUMNS}) "
        "SELECT location_id, practitioner_id, room_id, service_id, patient_id, "
        "starts_at + interval '1 day', ends_at + interval '1 day', "
        "blocks_until + interval '1 day', expires_at, now() "
        "FROM booking_slothold WHERE id = (SELECT hold_id FROM booking_waitlistoffer WHERE id = %s) "
        "RETURNING id) "
        "INSERT INTO booking_waitlistoffer (entry_id, hold_id, state, offered_at, expires_at) "
        "SELECT o.entry_id, copy.id, 'open', now(), o.expires_at "
        "FROM booking_waitlistoffer o, copy WHERE o.id = %s",
        "offer",
    ),
]


def _values(case) -> tuple:
    return case.values if hasattr(case, "values") else case


@pytest.mark.parametrize(
    ("constraint", "sql", "row"),
    CASES,
    ids=[f"{_values(case)[0]}-{n}" for n, case in enumerate(CASES)],
)
def test_the_database_refuses_a_row_that_breaks(rows, constraint, sql, row):
    pk = getattr(rows, row).pk
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk] * sql.count("%s"))
    assert constraint in str(refused.value)
    assert refused.value.__cause__.diag.constraint_name == constraint


def test_the_rows_the_cases_start_from_are_valid(rows):
    """Each case breaks exactly one rule: the same statements that keep to it go through. (A
    course's sessions, length and interval are its assessment's plan: the courses of plans
    within those bounds are written in test_course_follows_its_signed_plan.py.)"""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_appointment SET blocks_until = ends_at, session_number = 6, "
            "status = 'cancelled', cancelled_by = 'clinic' WHERE id = %s",
            [rows.appointment.pk],
        )
        cursor.execute(
            "UPDATE booking_waitlistentry SET weekdays = '{0, 6}', earliest_time = '08:00', "
            "latest_time = '08:01', minutes = 5 WHERE id = %s",
            [rows.entry.pk],
        )
        cursor.execute(
            "UPDATE booking_waitlistoffer SET state = 'declined' WHERE id = %s", [rows.offer.pk]
        )
    # A cancelled session 1 frees its number, and a declined offer lets the entry have another.
    sql = {_values(case)[0]: _values(case)[1] for case in CASES}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE booking_appointment SET session_number = 1 WHERE id = %s", [rows.appointment.pk]
        )
        cursor.execute(sql["appointment_one_active_per_course_session"], [rows.appointment.pk])
        cursor.execute(sql["waitlist_one_open_offer_per_entry"], [rows.offer.pk] * 2)
    assert Appointment.objects.filter(course=rows.course, session_number=1).count() == 2
    assert rows.entry.offers.count() == 2


def test_the_waitlist_migration_names_the_places_its_checks_would_refuse(rows):
    """Booking 0022 checks the places already there before adding its CHECKs: the clinic's own
    pass, and one the old admin could write stops it, by id."""
    existing = importlib.import_module(
        "booking.migrations.0022_waitlist_places_the_services_make"
    ).EXISTING
    write_sql(existing)
    with transaction.atomic():
        write_sql("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending while the table is altered
        write_sql(
            "ALTER TABLE booking_waitlistentry DROP CONSTRAINT waitlist_weekdays_monday_to_sunday"
        )
        write_sql(
            "UPDATE booking_waitlistentry SET weekdays = '{1, 7}' WHERE id = %s", rows.entry.pk
        )
        with pytest.raises(DatabaseError, match=rf"\[{rows.entry.pk}\]"), transaction.atomic():
            write_sql(existing)
        transaction.set_rollback(True)


def test_a_service_only_a_waitlist_place_names_keeps_its_kind(clinic, patient):
    """No visit yet, one place waiting: made dry needling, the place would be a needling place,
    which booking 0022 says never exists."""
    service = Service.objects.create(
        kind="reassessment", name="Re-assessment", allowed_minutes=[30], default_minutes=30
    )
    a_waitlist_entry(clinic, patient, service=service)
    with refused_by("service_kind_fixed_once_booked"):
        Service.objects.filter(pk=service.pk).update(kind="dry_needling_2")
