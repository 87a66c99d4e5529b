"""Writing an assessment note: started from the patient's questionnaire, saved as a draft as
the practitioner types, resumed later, and two tabs never silently overwriting each other."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLog
from intake.clinical.models import AssessmentNote
from intake.zones import patient_zone
from tests.booking.factories import AppointmentFactory
from tests.intake.factories import assessment_data, submitted_intake

pytestmark = pytest.mark.django_db


def _edit(note):
    return reverse("intake:assessment_edit", args=[note.pk])


def test_starting_fills_the_subjective_and_goals_from_the_questionnaire(
    login, practitioner, patient
):
    intake = submitted_intake(
        patient,
        pain_first_steps=7,
        goals="Walk the dog without pain\nRun 5 km again",
        screen_anticoagulants=True,
        screen_anticoagulants_details="warfarin",
    )
    client = login(practitioner.user)
    url = reverse("intake:assessment_start", args=[patient.pk])
    assert "Start the assessment note" in client.get(url).content.decode()

    response = client.post(url, {"location": "leaside"})

    note = AssessmentNote.objects.get(patient=patient)
    assert response.url == _edit(note)
    assert note.intake == intake and note.author == practitioner
    assert note.location.slug == "leaside"
    assert "first steps 7" in note.subjective
    assert "Screening: Anticoagulant or antiplatelet medication: warfarin" in note.subjective
    assert [goal["goal"] for goal in note.goals] == ["Walk the dog without pain", "Run 5 km again"]
    page = client.get(_edit(note)).content.decode()
    assert "Acknowledged: Anticoagulant or antiplatelet medication" in page
    assert "The patient wrote: “warfarin”" in page


def test_starting_again_resumes_the_draft_and_links_the_appointment(login, practitioner, patient):
    visit = AppointmentFactory(patient=patient)
    client = login(practitioner.user)
    url = reverse("intake:assessment_start", args=[patient.pk])
    client.post(url)
    client.post(url + f"?appointment={visit.pk}", {"appointment": str(visit.pk)})
    note = AssessmentNote.objects.get(patient=patient)
    assert note.appointment_id == visit.pk
    assert "You have a draft assessment note" in client.get(url).content.decode()


def test_a_draft_saves_and_resumes(login, practitioner, assessment):
    client = login(practitioner.user)
    data = assessment_data(revision=assessment.revision, subjective="Edited", dorsiflexion_left=3)
    response = client.post(_edit(assessment), data | {"action": "save"})

    assert response.url == _edit(assessment)
    assessment.refresh_from_db()
    assert (assessment.subjective, assessment.dorsiflexion_left) == ("Edited", 3)
    assert assessment.revision == 1 and not assessment.is_signed
    page = client.get(_edit(assessment)).content.decode()
    assert "Edited" in page and 'name="revision" value="1"' in page
    assert AccessLog.objects.filter(action=AccessLog.Action.CHANGE, record_id=str(assessment.pk))


def test_a_half_written_draft_can_be_saved(login, practitioner, assessment):
    data = {"revision": "0", "subjective": "Only this so far", "action": "save"}
    login(practitioner.user).post(_edit(assessment), data)
    assessment.refresh_from_db()
    assert assessment.subjective == "Only this so far"
    assert assessment.needling_appropriate is None and assessment.planned_sessions is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("planned_sessions", "3", "A course has 4, 5 or 6 sessions."),
        ("planned_sessions", "7", "A course has 4, 5 or 6 sessions."),
        ("session_minutes", "25", "A session lasts 15, 20 or 30 minutes."),
        ("session_minutes", "45", "A session lasts 15, 20 or 30 minutes."),
        ("interval_days", "5", "Choose twice a week, weekly or every two weeks."),
        ("dorsiflexion_left", "90", "Enter −30 to 60 degrees."),
        ("trigger_points", ["biceps:left"], "Select a valid choice"),
    ],
)
def test_invalid_values_are_refused_on_the_field_and_nothing_is_lost(
    login, practitioner, assessment, field, value, message
):
    data = assessment_data(revision=0, subjective="Typed before the mistake", **{field: value})
    response = login(practitioner.user).post(_edit(assessment), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert "Typed before the mistake" in html  # what was typed is still in the form
    assessment.refresh_from_db()
    assert assessment.revision == 0 and assessment.subjective != "Typed before the mistake"


def test_a_goal_is_not_targeted_before_the_assessment(login, practitioner, assessment):
    """A target date typed in the wrong year (1990 for 2029) is said on the field: a goal is
    met after the assessment that sets it, never before."""
    client = login(practitioner.user)
    past = assessment_data(revision=0, goals=[{"goal": "Walk the dog", "target": "1990-03-01"}])
    response = client.post(_edit(assessment), past)
    assert response.status_code == 200
    assert "A goal&#x27;s target date cannot be before the assessment" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.revision == 0

    day = timezone.localdate(assessment.created_at, patient_zone(assessment.patient))
    same_day = assessment_data(revision=0, goals=[{"goal": "Walk", "target": day.isoformat()}])
    assert client.post(_edit(assessment), same_day).status_code == 302


def test_not_appropriate_clears_the_sessions_and_minutes(login, practitioner, assessment):
    data = assessment_data(revision=0, needling_appropriate=False)
    login(practitioner.user).post(_edit(assessment), data)
    assessment.refresh_from_db()
    assert assessment.needling_appropriate is False
    assert assessment.planned_sessions is None and assessment.session_minutes is None


def test_two_tabs_saving_one_draft_are_detected_not_overwritten(login, practitioner, assessment):
    client = login(practitioner.user)
    both_opened_at = assessment.revision
    first = assessment_data(revision=both_opened_at, subjective="Written in tab one")
    assert client.post(_edit(assessment), first).status_code == 302

    second = assessment_data(
        revision=both_opened_at, subjective="Written in tab two", planned_sessions="4"
    )
    response = client.post(_edit(assessment), second)

    assert response.status_code == 409
    html = response.content.decode()
    assert "saved from another tab or window" in html
    assert "Written in tab two" in html  # tab two's work is on the page, not lost
    assert "<strong>Subjective, Number of sessions</strong>" in html  # which fields differ
    assessment.refresh_from_db()
    assert assessment.subjective == "Written in tab one" and assessment.planned_sessions == 6

    # Saving again from this page now replaces the other version, knowingly.
    again = second | {"revision": str(assessment.revision)}
    assert client.post(_edit(assessment), again).status_code == 302
    assessment.refresh_from_db()
    assert assessment.subjective == "Written in tab two"


def test_autosave_answers_in_json(login, practitioner, assessment):
    client = login(practitioner.user)
    saved = client.post(
        _edit(assessment),
        assessment_data(revision=0, subjective="Autosaved"),
        headers={"X-Autosave": "1"},
    )
    assert saved.status_code == 200 and saved.json()["revision"] == 1

    stale = client.post(_edit(assessment), assessment_data(revision=0), headers={"X-Autosave": "1"})
    assert stale.status_code == 409
    assert "another tab" in stale.json()["error"]

    invalid = client.post(
        _edit(assessment),
        assessment_data(revision=1, planned_sessions="9"),
        headers={"X-Autosave": "1"},
    )
    assert invalid.status_code == 400 and "planned_sessions" in invalid.json()["errors"]
    assessment.refresh_from_db()
    assert assessment.subjective == "Autosaved" and assessment.revision == 1


def test_the_edit_page_loads_the_autosave_script_from_the_app(login, practitioner, assessment):
    html = login(practitioner.user).get(_edit(assessment)).content.decode()
    assert '<script src="/static/js/note-autosave.js" defer></script>' in html
    assert "data-autosave" in html and "<script>" not in html


def test_only_the_author_edits_a_draft(login, other_practitioner, assessment):
    client = login(other_practitioner.user)
    response = client.post(_edit(assessment), assessment_data(revision=0, subjective="Not mine"))
    assert response.status_code == 403
    assert "Only the note&#x27;s author" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.subjective != "Not mine"


def test_the_author_discards_a_draft(login, practitioner, assessment, patient):
    response = login(practitioner.user).post(
        reverse("intake:assessment_discard", args=[assessment.pk])
    )
    assert response.url == reverse("intake:patient_chart", args=[patient.pk])
    assert not AssessmentNote.objects.exists()
    deleted = AccessLog.objects.get(action=AccessLog.Action.DELETE, patient=patient)
    assert (deleted.record_type, deleted.record_id) == ("intake.assessmentnote", str(assessment.pk))


def test_someone_else_cannot_discard_a_draft(login, other_practitioner, assessment):
    url = reverse("intake:assessment_discard", args=[assessment.pk])
    assert login(other_practitioner.user).post(url).status_code == 403
    assert AssessmentNote.objects.filter(pk=assessment.pk).exists()
