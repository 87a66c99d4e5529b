"""The patient chart: practitioners see the intake with its flags, the assessments, session
notes in order with adverse events highlighted and the course's progress; the front desk sees
that notes exist and the decision, never their clinical content."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.intake.factories import session_note, sign_note_now, submitted_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(patient, prescribed):
    submitted_intake(patient, pain_first_steps=8, pain_worst=9)
    for number, pain in ((1, 7), (2, 5)):
        sign_note_now(session_note(prescribed, number, pre_session_pain=pain))
    session_note(
        prescribed,
        3,
        pre_session_pain=4,
        adverse_events=["bruising"],
        adverse_event_severity="mild",
        adverse_event_action="Ice",
    )
    return prescribed


def _chart(client, patient) -> str:
    return client.get(reverse("intake:patient_chart", args=[patient.pk])).content.decode()


def test_a_practitioner_sees_the_whole_course(login, practitioner, patient, course):
    html = _chart(login(practitioner.user), patient)
    assert "Sessions recorded and signed: <strong>2 of 6</strong>" in html
    assert "dry needling appropriate — 6 sessions of 30 minutes, weekly" in html
    assert "Active trigger points" in html  # the decision's reason
    assert "Soleus right: 2 needles, twitch response" in html
    assert 'class="table-warning"' in html and "<strong>Bruising</strong> (mild)" in html
    assert 'role="img"' in html and "Pain over the course" in html  # the pain chart
    assert reverse("intake:session_note_start", args=[patient.pk]) in html
    assert reverse("intake:assessment_detail", args=[course.pk]) in html


def test_before_the_course_is_booked_no_session_note_is_offered(
    login, practitioner, patient, prescribed
):
    html = _chart(login(practitioner.user), patient)
    assert reverse("intake:session_note_start", args=[patient.pk]) not in html
    assert "Book the course first" in html


def test_the_front_desk_sees_notes_exist_and_the_decision_but_no_clinical_content(
    login, front_desk, patient, course
):
    html = _chart(login(front_desk), patient)
    assert "Assessment by" in html and "Signed" in html
    assert "dry needling appropriate — 6 sessions of 30 minutes, weekly" in html
    assert "Course booked:" in html
    for clinical in ("Active trigger points", "Soleus", "Bruising", "Pain over the course"):
        assert clinical not in html
    assert reverse("intake:assessment_detail", args=[course.pk]) not in html
    note = course.session_notes.first()
    response = login(front_desk).get(reverse("intake:session_note_detail", args=[note.pk]))
    assert response.status_code == 403


def test_the_chart_says_why_a_course_cannot_be_booked(login, front_desk, patient):
    submitted_intake(patient, screen_metal_allergy=True, screen_metal_allergy_details="nickel")
    html = _chart(login(front_desk), patient)
    assert "Cannot be booked yet" in html
    assert "Screening answers wait for practitioner review at the assessment." in html
    assert "Metal allergy" not in html and "nickel" not in html  # the front desk's view


def test_the_practitioners_home_lists_their_unsigned_notes(login, practitioner, assessment):
    html = login(practitioner.user).get(reverse("clinic:practitioner_home")).content.decode()
    assert "Your notes to sign" in html
    assert reverse("intake:assessment_edit", args=[assessment.pk]) in html


def test_a_finished_course_says_so(login, practitioner, patient, prescribed):
    for number in range(1, 7):
        sign_note_now(session_note(prescribed, number))
    html = _chart(login(practitioner.user), patient)
    assert "Course complete" in html and "<strong>6 of 6</strong>" in html


def test_the_screening_answers_stay_on_the_chart_after_review(login, practitioner, patient):
    from tests.intake.factories import signed_assessment

    submitted_intake(patient, screen_anticoagulants=True, screen_anticoagulants_details="Apixaban")
    html = _chart(login(practitioner.user), patient)
    assert "For practitioner review" in html
    signed_assessment(patient, practitioner)  # the flags acknowledged, needling appropriate
    html = _chart(login(practitioner.user), patient)
    assert "For practitioner review" not in html
    assert "<strong>Anticoagulant or antiplatelet medication</strong> (reviewed)" in html


def test_a_second_course_counts_only_its_own_sessions(login, practitioner, patient, prescribed):
    from tests.intake.factories import signed_assessment

    submitted_intake(patient)
    for number in range(1, 7):
        sign_note_now(session_note(prescribed, number))
    second = signed_assessment(patient, practitioner, planned_sessions=4)
    sign_note_now(session_note(second, 1))
    html = _chart(login(practitioner.user), patient)
    assert "<strong>1 of 4</strong>" in html and "Course complete" not in html
