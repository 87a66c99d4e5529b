"""Hostile input in intake's free text — the questionnaire, clinical notes, check-ins: stored as
typed, shown back escaped to patients and staff, never run as SQL or as a template, never a
500. (Booking's fields and search boxes: tests/booking/test_injection_corpus.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic.models import Patient
from intake.clinical.models import AssessmentNote, OutcomeSurvey
from intake.questionnaire.models import Intake
from tests.booking.factories import a_clinic, a_course
from tests.booking.test_injection_corpus import CORPUS, _escaped
from tests.intake.factories import a_survey_answer, signed_assessment, step_data, submitted_intake

pytestmark = pytest.mark.django_db


def _shown_as_typed(html: str, payload: str) -> bool:
    """On the page as the patient typed it: markup escaped, template syntax as plain text."""
    return _escaped(html, payload) and escape(payload) in html


@pytest.mark.parametrize("payload", CORPUS)
def test_questionnaire_answers_are_stored_as_typed_and_shown_escaped(
    login, patient, draft, practitioner, payload
):
    client = login(patient.user)
    response = client.post(
        reverse("intake:step", args=["pain"]),
        step_data(patient, "pain", revision=draft.revision, goals=payload, activity_1=payload),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.goals, draft.activity_1) == (payload, payload)
    assert _shown_as_typed(client.get(reverse("intake:review")).content.decode(), payload)
    assert Patient.objects.filter(pk=patient.pk).exists()  # nothing dropped, nothing deleted

    submitted = submitted_intake(
        patient, goals=payload, screen_other=True, screen_other_details=payload
    )
    staff = login(practitioner.user)
    for url in (
        reverse("intake:intake_detail", args=[submitted.pk]),
        reverse("intake:patient_chart", args=[patient.pk]),
    ):
        page = staff.get(url)
        assert page.status_code == 200
        assert _shown_as_typed(page.content.decode(), payload)
    assert Intake.objects.filter(patient=patient).count() == 2


@pytest.mark.parametrize("payload", CORPUS)
def test_clinical_notes_show_their_free_text_escaped(login, patient, practitioner, payload):
    submitted_intake(patient)
    note = signed_assessment(
        patient, practitioner, decision_reason=payload, home_exercises=payload, subjective=payload
    )
    html = (
        login(practitioner.user)
        .get(reverse("intake:assessment_detail", args=[note.pk]))
        .content.decode()
    )
    assert _shown_as_typed(html, payload)
    assert AssessmentNote.objects.get(pk=note.pk).decision_reason == payload


@pytest.mark.parametrize("payload", CORPUS)
def test_check_in_comments_reach_the_practitioner_escaped(
    login, location, patient, practitioner, payload
):
    clinic = a_clinic(location=location, practitioner=practitioner)
    course = a_course(
        clinic,
        patient,
        statuses=["completed", "completed", "confirmed", "confirmed", "confirmed", "confirmed"],
        first_start=timezone.now() - dt.timedelta(days=13),
        interval=dt.timedelta(days=7, hours=1),
    )
    session = course.appointments.get(session_number=2)
    a_survey_answer(session, worrying=True, worrying_details=payload)
    html = (
        login(practitioner.user)
        .get(reverse("intake:patient_chart", args=[patient.pk]))
        .content.decode()
    )
    assert _shown_as_typed(html, payload)
    assert OutcomeSurvey.objects.get().worrying_details == payload


@pytest.mark.parametrize("kind", ["assessment", "session_note"])
def test_a_location_with_a_nul_character_starting_a_note_is_no_location_not_a_500(
    login, patient, practitioner, kind
):
    """The start page's `location` comes back in the form; one forged with a NUL character
    (which PostgreSQL cannot compare) names no location, as an unknown one does."""
    client = login(practitioner.user)
    response = client.post(
        reverse(f"intake:{kind}_start", args=[patient.pk]), {"location": "leaside\x00"}
    )
    assert response.status_code == 302
