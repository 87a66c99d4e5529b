"""Screening: any "yes" marks the patient for practitioner review, with the reasons listed,
wherever staff see the patient."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.questionnaire.models import Intake
from intake.questionnaire.questions import SCREENING
from intake.questionnaire.selectors import intake_overview
from tests.intake.factories import IntakeFactory, complete_answers, submitted_intake

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("question", SCREENING, ids=lambda q: q.field)
def test_each_yes_flags_the_patient_with_its_reason(patient, question):
    submitted_intake(patient, **{question.field: True, f"{question.field}_details": "details"})

    overview = intake_overview([patient.pk])[patient.pk]

    assert overview.flagged_for_review
    assert overview.flag_reasons == (question.short,)


def test_all_no_answers_flag_nothing(patient):
    submitted_intake(patient)
    overview = intake_overview([patient.pk])[patient.pk]
    assert overview.submitted and not overview.flagged_for_review
    assert overview.flag_reasons == ()


def test_several_yes_answers_list_every_reason_in_the_questionnaires_order(patient):
    submitted_intake(
        patient,
        screen_pregnancy=True,
        screen_pregnancy_details="12 weeks",
        screen_needle_fear=True,
        screen_needle_fear_details="fainted once",
    )
    reasons = intake_overview([patient.pk])[patient.pk].flag_reasons
    assert reasons == ("Fear of needles or fainting with needles", "Pregnancy")


def test_a_draft_with_a_yes_flags_nothing_until_it_is_submitted(patient):
    IntakeFactory(patient=patient, **complete_answers(patient, screen_immune=True))
    overview = intake_overview([patient.pk])[patient.pk]
    assert overview.draft_in_progress and not overview.flagged_for_review


def test_a_superseded_yes_no_longer_flags(patient):
    old = submitted_intake(patient, screen_lymphoedema=True, screen_lymphoedema_details="left leg")
    Intake.objects.filter(pk=old.pk).update(status="superseded", superseded_at=timezone.now())
    submitted_intake(patient)
    assert not intake_overview([patient.pk])[patient.pk].flagged_for_review


def test_the_flag_and_reasons_show_on_the_list_the_chart_and_the_practitioners_home(
    login, front_desk, practitioner, patient
):
    submitted_intake(
        patient, screen_anticoagulants=True, screen_anticoagulants_details="warfarin 5 mg"
    )
    reason = "Anticoagulant or antiplatelet medication"

    # The front desk sees the flag; the reasons are answers, for the practitioner.
    listed = login(front_desk).get(reverse("intake:intake_list")).content.decode()
    assert "For practitioner review" in listed and reason not in listed
    chart = login(front_desk).get(reverse("intake:patient_chart", args=[patient.pk]))
    assert reason not in chart.content.decode()
    assert "No dry-needling course can be booked" in chart.content.decode()
    listed = login(practitioner.user).get(reverse("intake:intake_list")).content.decode()
    assert "For practitioner review" in listed and reason in listed
    chart = login(practitioner.user).get(reverse("intake:patient_chart", args=[patient.pk]))
    assert reason in chart.content.decode()
    home = login(practitioner.user).get(reverse("clinic:practitioner_home")).content.decode()
    assert "Waiting for your review" in home and reason in home and patient.full_name in home


def test_the_summary_puts_the_flags_and_their_details_at_the_top(login, practitioner, patient):
    intake = submitted_intake(
        patient, screen_bleeding_disorder=True, screen_bleeding_disorder_details="von Willebrand"
    )
    html = login(practitioner.user).get(reverse("intake:intake_detail", args=[intake.pk]))
    html = html.content.decode()
    assert html.index("Bleeding disorder") < html.index("Pain (0–10)")
    assert "von Willebrand" in html
