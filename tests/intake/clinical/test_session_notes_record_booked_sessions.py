"""A new session note records a booked session of its course (intake migration
0010_session_notes_record_a_booked_session): PostgreSQL refuses, in raw SQL past every page and
service, a note without an appointment, one dated before its session starts and one numbered
otherwise than its session; a note written before the rule, without an appointment, stays
readable and its draft can still be saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from booking.models import Status
from intake.clinical.models import SessionNote
from tests.booking.factories import a_course
from tests.database import refused_by, rule_set_aside, write_sql
from tests.intake.factories import session_note

pytestmark = pytest.mark.django_db

TRIGGER = "treatment_note_appointment_is_a_session_of_the_course"


@pytest.fixture
def course(clinic, patient, prescribed):
    """Two sessions of the patient's course, the first begun an hour ago, the second next
    week."""
    return a_course(
        clinic,
        patient,
        statuses=[Status.CHECKED_IN, Status.CONFIRMED],
        first_start=timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1),
        assessment=prescribed,
    )


@pytest.fixture
def draft(prescribed, course):
    """A draft note of session 1, from its appointment."""
    return session_note(prescribed, 1, appointment_id=course.appointments.get(session_number=1).pk)


def _insert_again(note: SessionNote, changes: str, *params) -> None:
    """DELETE the draft `note`, then INSERT it again in raw SQL with `changes` (a SET list)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE copied ON COMMIT DROP AS "
            "SELECT * FROM intake_treatmentnote WHERE id = %s",
            [note.pk],
        )
        cursor.execute("DELETE FROM intake_treatmentnote WHERE id = %s", [note.pk])
        cursor.execute(f"UPDATE copied SET {changes}", params)
        try:
            with transaction.atomic():
                cursor.execute("INSERT INTO intake_treatmentnote SELECT * FROM copied")
        finally:
            cursor.execute("DROP TABLE copied")


def test_the_note_as_the_app_writes_it_is_accepted(draft):
    _insert_again(draft, "plan_next = 'Same again'")
    assert SessionNote.objects.get(pk=draft.pk).plan_next == "Same again"


def test_a_new_note_without_an_appointment_is_refused(draft):
    with refused_by("treatment_note_records_a_booked_session"):
        _insert_again(draft, "appointment_id = NULL")


def test_a_note_dated_before_its_session_starts_is_refused(draft, course):
    starts = course.appointments.get(session_number=1).starts_at
    with refused_by("treatment_note_not_before_its_session"):
        _insert_again(draft, "performed_at = %s", starts - dt.timedelta(days=3))
    # Later than the start is fine: sessions start late.
    _insert_again(draft, "performed_at = %s", starts + dt.timedelta(minutes=10))


def test_a_note_numbered_otherwise_than_its_session_is_refused(draft):
    with refused_by("treatment_note_number_is_the_sessions"):
        _insert_again(draft, "session_number = 2")


def test_an_update_cannot_break_the_rules_either(draft, course):
    starts = course.appointments.get(session_number=1).starts_at
    for change, params, constraint in [
        ("appointment_id = NULL", [], "treatment_note_records_a_booked_session"),
        (
            "performed_at = %s",
            [starts - dt.timedelta(hours=1)],
            "treatment_note_not_before_its_session",
        ),
        ("session_number = 3", [], "treatment_note_number_is_the_sessions"),
    ]:
        with refused_by(constraint), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE intake_treatmentnote SET {change} WHERE id = %s", [*params, draft.pk]
            )


def test_a_session_note_for_the_assessment_is_still_refused(draft, prescribed, clinic, patient):
    """Another patient's session, or the patient's own visit that is not a session of the
    course, are refused as before (intake 0008)."""
    from tests.booking.factories import an_appointment

    visit = an_appointment(clinic, patient, timezone.now() - dt.timedelta(days=20))
    with refused_by(TRIGGER):
        _insert_again(draft, "appointment_id = %s", visit.pk)


def test_a_note_written_before_the_rule_stays_and_its_draft_can_be_saved(draft):
    """Rows without an appointment, from before the rule (written here with the trigger off,
    as they were then), are not refused on a later save that leaves the appointment empty."""
    with rule_set_aside("intake_treatmentnote", TRIGGER):
        write_sql("UPDATE intake_treatmentnote SET appointment_id = NULL WHERE id = %s", draft.pk)
    old = SessionNote.objects.get(pk=draft.pk)
    old.plan_next = "Review in a week"
    old.save()
    assert SessionNote.objects.get(pk=draft.pk).plan_next == "Review in a week"
