"""The demo story's intakes: one of each state, and the demo patient can finish theirs in the
browser."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.demo import DEMO_PASSWORD
from clinic.models import Patient, User
from intake.clinical.models import AssessmentNote, SessionNote
from intake.clinical.selectors import course_gate
from intake.questionnaire.models import ConsentVersion, Intake
from intake.questionnaire.questions import QUESTION_STEPS
from intake.questionnaire.selectors import intake_overview
from tests.intake.factories import assessment_data, step_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db, seeded_demo):
    return {p.last_name: p for p in Patient.objects.all()}


def test_the_demo_has_an_intake_in_each_state(demo):
    overview = intake_overview(p.pk for p in demo.values())
    jordan, ellen = overview[demo["Miles"].pk], overview[demo["Park"].pk]
    marcus, grace = overview[demo["Reid"].pk], overview[demo["Liu"].pk]
    assert jordan.draft_in_progress and not jordan.submitted
    assert ellen.submitted and ellen.flagged_for_review
    assert ellen.flag_reasons == (
        "Fear of needles or fainting with needles",
        "Anticoagulant or antiplatelet medication",
    )
    assert marcus.submitted and not marcus.consent_current  # signed only the older text
    assert grace.submitted and grace.consent_current
    assert not overview[demo["Côté"].pk].submitted


def test_consent_has_a_current_and_an_older_version(demo):
    numbers = ConsentVersion.objects.published().values_list("document__kind", "number")
    assert set(numbers) == {("dry_needling", 1), ("dry_needling", 2), ("privacy", 1)}
    assert {v.number for v in ConsentVersion.objects.current()} == {1, 2}


def _as_staff(client, email):
    """Staff log in with a second factor (tested in tests/clinic); here the session has it."""
    client.force_login(User.objects.get(email=email))
    return client


def test_the_flagged_demo_patient_waits_for_review_on_the_practitioners_home(client, demo):
    _as_staff(client, "practitioner@example.org")
    html = client.get(reverse("clinic:practitioner_home")).content.decode()
    assert "Ellen Park" in html and "Anticoagulant or antiplatelet medication" in html


def test_the_demo_patient_completes_their_intake_in_the_browser(client, demo):
    jordan = demo["Miles"]
    client.post(reverse("login"), {"username": "patient@example.org", "password": DEMO_PASSWORD})
    page = client.get(reverse("intake:my_intake")).content.decode()
    assert "You are at step 2 of 8" in page
    for step in QUESTION_STEPS[1:]:
        revision = Intake.objects.get(patient=jordan).revision
        response = client.post(
            reverse("intake:step", args=[step.slug]),
            step_data(jordan, step.slug, revision=revision),
        )
        assert response.status_code == 302
    draft = Intake.objects.get(patient=jordan)
    versions = list(ConsentVersion.objects.current())
    response = client.post(
        reverse("intake:review"),
        {
            "revision": draft.revision,
            "consent_versions": ",".join(str(v.pk) for v in versions),
            "signed_name": "jordan miles",
            **{f"agree_{v.document.kind}": "on" for v in versions},
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Intake.Status.SUBMITTED


def test_the_mid_course_and_finished_patients_have_signed_notes(demo):
    marcus, grace = demo["Reid"], demo["Liu"]
    for patient, author, sessions in ((marcus, "Okafor", 3), (grace, "Kim", 6)):
        assessment = AssessmentNote.objects.get(patient=patient)
        assert assessment.is_signed and assessment.fingerprint_verified
        assert assessment.author.user.last_name == author
        gate = course_gate(patient)
        assert gate.allowed
        assert (gate.prescription.sessions, gate.prescription.minutes) == (6, 30)
        assert gate.prescription.interval_days == 7
        notes = SessionNote.objects.filter(patient=patient).order_by("session_number")
        assert [n.session_number for n in notes] == list(range(1, sessions + 1))
        assert all(n.is_signed and n.fingerprint_verified for n in notes)
        assert all(n.appointment_id is not None for n in notes)  # its booked session
    pains = list(
        SessionNote.objects.filter(patient=grace)
        .order_by("session_number")
        .values_list("pre_session_pain", flat=True)
    )
    assert pains == sorted(pains, reverse=True) and pains[0] > pains[-1]


def test_a_practitioner_assesses_the_flagged_patient_in_the_browser_and_signs(client, demo):
    ellen = demo["Park"]
    _as_staff(client, "practitioner@example.org")
    chart = client.get(reverse("intake:patient_chart", args=[ellen.pk])).content.decode()
    assert "For practitioner review" in chart

    response = client.post(reverse("intake:assessment_start", args=[ellen.pk]))
    note = AssessmentNote.objects.get(patient=ellen)
    assert response.url == reverse("intake:assessment_edit", args=[note.pk])
    data = assessment_data(
        revision=note.revision,
        subjective=note.subjective,
        diagnosis_side="left",
        acknowledged={
            "screen_needle_fear": "Treated lying down",
            "screen_anticoagulants": "Apixaban: pressure 2 min per site, fewer needles",
        },
    )
    response = client.post(
        reverse("intake:assessment_edit", args=[note.pk]), data | {"action": "sign"}
    )
    assert response.url == reverse("intake:assessment_sign", args=[note.pk])
    note.refresh_from_db()
    response = client.post(
        reverse("intake:assessment_sign", args=[note.pk]),
        {"password": DEMO_PASSWORD, "revision": note.revision},
    )
    note.refresh_from_db()
    assert note.is_signed
    assert not intake_overview([ellen.pk])[ellen.pk].flagged_for_review
    assert course_gate(ellen).allowed
