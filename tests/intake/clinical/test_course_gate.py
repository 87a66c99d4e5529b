"""The decision is the gate: only the latest signed state of the latest assessment, saying
dry needling is appropriate with a plan, lets booking book a course."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from intake.clinical import services
from intake.clinical.selectors import CourseGate, Prescription, course_gate
from intake.zones import patient_zone
from tests.intake.factories import (
    AssessmentFactory,
    an_amendment,
    sign_note_now,
    signed_assessment,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


# An assessment that judges dry needling not appropriate, so plans no sessions.
NOT_APPROPRIATE = {"needling_appropriate": False, "planned_sessions": None, "session_minutes": None}


def test_nothing_signed_nothing_booked(patient):
    gate = course_gate(patient)
    assert gate == CourseGate(
        False, "No assessment has been signed yet: an initial assessment comes first.", None
    )


def test_an_unsigned_assessment_does_not_open_the_gate(patient, assessment):
    gate = course_gate(patient)
    assert not gate.allowed and gate.reason == "The assessment note is not signed yet."


def test_flags_waiting_for_review_are_the_reason_given(patient):
    submitted_intake(patient, screen_anticoagulants=True, screen_anticoagulants_details="x")
    gate = course_gate(patient)
    assert not gate.allowed
    assert "Screening answers wait for practitioner review" in gate.reason
    # The reason is shown to the front desk, who book courses: not which answers.
    assert "Anticoagulant" not in gate.reason


def test_signed_not_appropriate_keeps_it_closed(patient, practitioner):
    note = signed_assessment(patient, practitioner, **NOT_APPROPRIATE)
    gate = course_gate(patient)
    assert not gate.allowed and gate.prescription is None
    # The date the patient's records are shown in: the assessment's location's, not the
    # server's (in the evening in Toronto, UTC is already tomorrow).
    signed_on = timezone.localtime(note.signed_at, patient_zone(patient, note.location))
    assert gate.reason == (
        f"The assessment signed on {signed_on:%-d %B %Y} by "
        f"{practitioner.name} says dry needling is not appropriate."
    )


def test_signed_appropriate_opens_it_with_the_prescription(patient, practitioner, prescribed):
    assert course_gate(patient) == CourseGate(
        True,
        "",
        Prescription(
            assessment_id=prescribed.pk,
            patient_id=patient.pk,
            practitioner_id=practitioner.pk,
            sessions=6,
            minutes=30,
            interval_days=7,
            signed_at=prescribed.signed_at,
        ),
    )


def test_an_amendment_can_close_and_reopen_the_gate(patient, practitioner, prescribed):
    closing = an_amendment(
        prescribed, practitioner, needling_appropriate=False, planned_sessions=None
    )
    gate = course_gate(patient)
    assert not gate.allowed and "not appropriate" in gate.reason

    reopening = an_amendment(
        prescribed,
        practitioner,
        needling_appropriate=True,
        planned_sessions=4,
        session_minutes=20,
        interval_days=14,
    )
    gate = course_gate(patient)
    assert gate.allowed
    assert (gate.prescription.sessions, gate.prescription.minutes) == (4, 20)
    assert gate.prescription.interval_days == 14
    assert gate.prescription.signed_at == reopening.signed_at > closing.signed_at


def test_the_latest_signed_assessment_decides(patient, practitioner, other_practitioner):
    earlier = timezone.now() - dt.timedelta(days=30)
    sign_note_now(AssessmentFactory(patient=patient, author=practitioner), at=earlier)
    latest = signed_assessment(patient, other_practitioner, **NOT_APPROPRIATE)
    gate = course_gate(patient)
    assert not gate.allowed and other_practitioner.name in gate.reason
    assert "not appropriate" in gate.reason and latest.is_signed


def test_new_screening_answers_after_the_assessment_close_it_until_reviewed(
    patient, practitioner, prescribed
):
    submitted_intake(
        patient,
        at=timezone.now(),  # after the assessment was signed
        screen_pregnancy=True,
        screen_pregnancy_details="just found out",
    )
    gate = course_gate(patient)
    assert not gate.allowed
    assert gate.reason == "New screening answers wait for practitioner review."

    # Amending anything else requires reviewing the new answer first...
    with pytest.raises(services.NoteIncomplete) as refused:
        an_amendment(prescribed, practitioner, home_exercises="Calf raises")
    assert refused.value.problems == {
        "ack_screen_pregnancy": "Acknowledge the screening answer “Pregnancy”."
    }
    # ...and an amendment acknowledging it is the review; the decision stands.
    an_amendment(prescribed, practitioner, flag_acknowledgements={"screen_pregnancy": "Discussed"})
    assert course_gate(patient).allowed


def test_booking_reads_the_gate_through_its_own_module(patient, prescribed):
    from booking import gates

    assert gates.course_gate(patient).prescription.assessment_id == prescribed.pk
