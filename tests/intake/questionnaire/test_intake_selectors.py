"""What booking reads from intake: one overview per patient in a fixed number of queries,
and whether consent is current."""

from __future__ import annotations

import dataclasses

import pytest

from intake.clinical.models import AssessmentNote
from intake.clinical.selectors import CourseGate, Prescription
from intake.questionnaire.selectors import IntakeOverview, consent_is_current, intake_overview
from tests.factories import PatientFactory
from tests.intake.factories import (
    AssessmentFactory,
    ConsentVersionFactory,
    IntakeFactory,
    complete_answers,
    sign,
    sign_note_now,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


def test_a_patient_with_nothing_gets_an_all_false_overview(patient, consents):
    assert intake_overview([patient.pk]) == {
        patient.pk: IntakeOverview(
            patient_id=patient.pk,
            submitted=False,
            draft_in_progress=False,
            flagged_for_review=False,
            flag_reasons=(),
            consent_current=False,
        )
    }


def test_no_patients_no_queries(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert intake_overview([]) == {}


def test_each_state_is_reported(patient, other_patient, consents):
    third = PatientFactory()
    IntakeFactory(patient=patient)
    submitted_intake(other_patient, screen_skin=True, screen_skin_details="eczema")
    sign(other_patient, consents)
    submitted_intake(third)
    IntakeFactory(patient=third, **complete_answers(third))  # a correction in progress

    overview = intake_overview([patient.pk, other_patient.pk, third.pk])

    assert overview[patient.pk].draft_in_progress and not overview[patient.pk].submitted
    other = overview[other_patient.pk]
    assert other.submitted and other.flagged_for_review and other.consent_current
    assert other.flag_reasons == ("Infection, wound or skin condition on the foot or calf",)
    assert overview[third.pk].submitted and not overview[third.pk].draft_in_progress
    assert not overview[third.pk].consent_current


def test_the_overview_takes_the_same_queries_for_one_patient_or_many(
    consents, django_assert_num_queries
):
    def make(n):
        patients = [PatientFactory() for _ in range(n)]
        for index, patient in enumerate(patients):
            if index % 2:
                submitted_intake(
                    patient, screen_metal_allergy=True, screen_metal_allergy_details="nickel"
                )
                sign(patient, consents)
            else:
                IntakeFactory(patient=patient)
        return [p.pk for p in patients]

    one, many = make(1), make(12)
    with django_assert_num_queries(4) as few:
        intake_overview(one)
    with django_assert_num_queries(len(few.captured_queries)):
        result = intake_overview(many)
    assert len(result) == 12


def test_consent_is_current_only_with_every_document_at_its_current_version(patient, consents):
    assert not consent_is_current(patient)
    sign(patient, consents[:1])
    assert not consent_is_current(patient)
    sign(patient, consents[1:])
    assert consent_is_current(patient)
    ConsentVersionFactory(document=consents[1].document, number=2)
    assert not consent_is_current(patient)
    assert not intake_overview([patient.pk])[patient.pk].consent_current


def test_with_no_consent_published_nobody_has_consented(patient):
    # A fresh clinic that has not published its consent texts: check-in waits for them.
    assert not consent_is_current(patient)
    assert not intake_overview([patient.pk])[patient.pk].consent_current


def test_the_contract_booking_relies_on_has_exactly_these_fields():
    assert [f.name for f in dataclasses.fields(IntakeOverview)] == [
        "patient_id",
        "submitted",
        "draft_in_progress",
        "flagged_for_review",
        "flag_reasons",
        "consent_current",
    ]
    assert [f.name for f in dataclasses.fields(Prescription)] == [
        "assessment_id",
        "patient_id",
        "practitioner_id",
        "sessions",
        "minutes",
        "interval_days",
        "signed_at",
    ]
    assert [f.name for f in dataclasses.fields(CourseGate)] == [
        "allowed",
        "reason",
        "prescription",
    ]


def test_a_signed_assessment_after_the_submission_clears_the_flag(patient, practitioner):
    submitted_intake(patient, screen_immune=True, screen_immune_details="methotrexate")
    assert intake_overview([patient.pk])[patient.pk].flagged_for_review
    AssessmentFactory(patient=patient, author=practitioner)  # a draft reviews nothing yet
    assert intake_overview([patient.pk])[patient.pk].flagged_for_review

    sign_note_now(AssessmentNote.objects.get())
    overview = intake_overview([patient.pk])[patient.pk]
    assert not overview.flagged_for_review and overview.flag_reasons == ()
