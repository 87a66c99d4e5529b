"""Submitting the questionnaire: everything checked again, read-only afterwards, corrections
that supersede and keep history, double submissions and stale tabs, staff on the phone."""

from __future__ import annotations

import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from clinic.models import AccessLog
from intake.questionnaire.models import ConsentSignature, Intake
from intake.questionnaire.questions import QUESTION_STEPS
from tests.intake.factories import draft_with_answers, step_data, submitted_intake

pytestmark = pytest.mark.django_db


def _sign_data(patient, versions, revision, **overrides):
    data = {
        "revision": str(revision),
        "consent_versions": ",".join(str(v.pk) for v in versions),
        "signed_name": patient.full_name,
        **{f"agree_{v.document.kind}": "on" for v in versions},
    }
    return data | overrides


def test_a_patient_fills_in_every_step_signs_and_submits(login, patient, consents):
    client = login(patient.user)
    response = client.post(reverse("intake:start"))
    assert response.url == reverse("intake:step", args=["contact"])

    for step in QUESTION_STEPS:
        revision = Intake.objects.get(patient=patient).revision
        response = client.post(
            reverse("intake:step", args=[step.slug]),
            step_data(patient, step.slug, revision=revision),
        )
        assert response.status_code == 302, response.content.decode()[:3000]
    assert response.url == reverse("intake:review")

    draft = Intake.objects.get(patient=patient)
    review = client.get(reverse("intake:review")).content.decode()
    assert "Sign and submit" in review and "Some steps are not complete" not in review
    assert consents[0].paragraphs[0] in review

    response = client.post(
        reverse("intake:review"),
        _sign_data(patient, consents, draft.revision, signed_name="  jordan   MILES "),
    )

    submitted = Intake.objects.get(patient=patient)
    assert response.url == reverse("intake:intake_detail", args=[submitted.pk])
    assert submitted.status == Intake.Status.SUBMITTED
    assert submitted.submitted_at is not None and submitted.submitted_by == patient.user
    signatures = ConsentSignature.objects.filter(patient=patient, intake=submitted)
    assert {s.version for s in signatures} == set(consents)
    assert {s.signed_name for s in signatures} == {"jordan   MILES"}
    patient.refresh_from_db()
    assert patient.emergency_contact_name == "Sam Miles"  # contact answers reach the record
    assert AccessLog.objects.filter(
        patient=patient, record_type="intake.intake", action=AccessLog.Action.CREATE
    ).exists()


def test_submission_checks_every_step_again(login, patient, consents):
    draft = draft_with_answers(patient, pain_worst=None)  # marked done, but not complete
    response = login(patient.user).post(
        reverse("intake:review"), _sign_data(patient, consents, draft.revision)
    )
    assert response.url == reverse("intake:step", args=["pain"])
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_signature_that_does_not_match_is_refused_and_nothing_is_lost(login, patient, consents):
    draft = draft_with_answers(patient)
    response = login(patient.user).post(
        reverse("intake:review"),
        _sign_data(patient, consents, draft.revision, signed_name="Jordan Smith"),
    )
    assert response.status_code == 200
    assert "This does not match the name on file (Jordan Miles)" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft and draft.pain_first_steps == 7
    assert not ConsentSignature.objects.exists()


def test_nothing_is_submitted_while_the_clinic_has_no_consent_published(login, patient):
    draft = draft_with_answers(patient)
    client = login(patient.user)
    assert (
        "has not published its consent forms"
        in client.get(reverse("intake:review")).content.decode()
    )
    response = client.post(reverse("intake:review"), _sign_data(patient, [], draft.revision))
    assert response.status_code == 200
    assert "has not published its consent forms yet" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft and not ConsentSignature.objects.exists()


def test_consent_must_be_ticked(login, patient, consents):
    draft = draft_with_answers(patient)
    data = _sign_data(patient, consents, draft.revision)
    del data["agree_privacy"]
    response = login(patient.user).post(reverse("intake:review"), data)
    assert "Tick this box to agree" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_double_submitted_form_submits_once(login, patient, consents):
    draft = draft_with_answers(patient)
    client = login(patient.user)
    data = _sign_data(patient, consents, draft.revision)
    first = client.post(reverse("intake:review"), data)
    second = client.post(reverse("intake:review"), data, follow=True)

    assert Intake.objects.filter(patient=patient).count() == 1
    assert ConsentSignature.objects.count() == len(consents)
    submitted = Intake.objects.get(patient=patient)
    assert first.url == reverse("intake:intake_detail", args=[submitted.pk])
    assert second.redirect_chain[-1][0] == reverse("intake:intake_detail", args=[submitted.pk])
    assert "was submitted on" in second.content.decode()


def test_a_stale_tab_cannot_overwrite_newer_answers_of_a_step(login, patient, draft):
    client = login(patient.user)
    opened_at = draft.revision  # both tabs open the pain step
    newer = step_data(patient, "pain", revision=opened_at, pain_first_steps="4")
    assert client.post(reverse("intake:step", args=["pain"]), newer).status_code == 302

    older = step_data(patient, "pain", revision=opened_at, pain_first_steps="6")
    response = client.post(reverse("intake:step", args=["pain"]), older)

    assert response.status_code == 409
    assert "changed in another tab or on another device" in response.content.decode()
    draft.refresh_from_db()
    assert draft.pain_first_steps == 4
    # The page now shows the newer answers and the current revision.
    html = response.content.decode()
    assert re.search(r'name="pain_first_steps" value="4"[^>]*checked', html)
    assert not re.search(r'name="pain_first_steps" value="6"[^>]*checked', html)
    assert f'name="revision" value="{draft.revision}"' in html


def test_a_stale_tab_may_save_a_different_step(login, patient, draft):
    client = login(patient.user)
    opened_at = draft.revision
    client.post(
        reverse("intake:step", args=["pain"]), step_data(patient, "pain", revision=opened_at)
    )
    response = client.post(
        reverse("intake:step", args=["symptoms"]),
        step_data(patient, "symptoms", revision=opened_at),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert set(draft.steps_done) == {"pain", "symptoms"}


def test_a_damaged_revision_counts_as_stale(login, patient, draft):
    client = login(patient.user)
    client.post(reverse("intake:step", args=["pain"]), step_data(patient, "pain", revision=0))
    data = step_data(patient, "pain", revision=0) | {"revision": "abc"}
    assert client.post(reverse("intake:step", args=["pain"]), data).status_code == 409


def test_a_review_page_opened_before_a_change_elsewhere_must_be_reviewed_again(
    login, patient, consents
):
    draft = draft_with_answers(patient)
    client = login(patient.user)
    seen = draft.revision
    client.post(
        reverse("intake:step", args=["pain"]),
        step_data(patient, "pain", revision=seen, pain_worst="10"),
    )
    response = client.post(reverse("intake:review"), _sign_data(patient, consents, seen))
    assert response.status_code == 409
    assert "Check them below, then sign and submit again" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_draft and draft.pain_worst == 10


def test_submitted_answers_are_read_only_for_the_patient(login, patient):
    intake = submitted_intake(patient)
    client = login(patient.user)
    response = client.post(
        reverse("intake:step", args=["pain"]),
        step_data(patient, "pain", revision=intake.revision, pain_worst="2"),
    )
    assert response.url == reverse("intake:intake_detail", args=[intake.pk])
    intake.refresh_from_db()
    assert intake.pain_worst == 8


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE intake_intake SET pain_worst = 1",
        "UPDATE intake_intake SET status = 'draft', submitted_at = NULL",
        "DELETE FROM intake_intake",
    ],
)
def test_the_database_refuses_to_change_a_submitted_questionnaire(patient, sql):
    intake = submitted_intake(patient)
    with pytest.raises(DatabaseError, match="locked"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    intake.refresh_from_db()
    assert intake.pain_worst == 8 and intake.status == Intake.Status.SUBMITTED


def test_the_database_lets_a_draft_change(patient, draft):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE intake_intake SET pain_worst = 3 WHERE id = %s", [draft.pk])
    draft.refresh_from_db()
    assert draft.pain_worst == 3


def test_a_correction_supersedes_the_submission_and_both_stay(login, patient, consents):
    original = submitted_intake(patient, goals="Run again")
    client = login(patient.user)
    response = client.post(reverse("intake:start"))
    correction = Intake.objects.get(patient=patient, status=Intake.Status.DRAFT)
    assert correction.supersedes == original
    assert correction.goals == "Run again"  # starts from the submitted answers
    assert response.url == reverse("intake:review")  # every step is already done

    client.post(
        reverse("intake:step", args=["pain"]),
        step_data(patient, "pain", revision=correction.revision, goals="Run 5 km again"),
    )
    correction.refresh_from_db()
    client.post(reverse("intake:review"), _sign_data(patient, consents, correction.revision))

    original.refresh_from_db()
    correction.refresh_from_db()
    assert original.status == Intake.Status.SUPERSEDED and original.superseded_at
    assert original.goals == "Run again"
    assert correction.status == Intake.Status.SUBMITTED and correction.goals == "Run 5 km again"
    html = client.get(reverse("intake:intake_detail", args=[correction.pk])).content.decode()
    assert reverse("intake:intake_detail", args=[original.pk]) in html
    html = client.get(reverse("intake:intake_detail", args=[original.pk])).content.decode()
    assert "Replaced by a correction" in html


def test_starting_twice_gives_the_same_draft(login, patient):
    client = login(patient.user)
    client.post(reverse("intake:start"))
    client.post(reverse("intake:start"))
    assert Intake.objects.filter(patient=patient).count() == 1


def test_front_desk_fills_in_on_the_phone_and_the_patient_signs_consent_later(
    login, front_desk, patient, consents
):
    client = login(front_desk)
    response = client.post(reverse("intake:staff_start", args=[patient.pk]))
    assert response.url == reverse("intake:staff_step", args=[patient.pk, "contact"])
    for step in QUESTION_STEPS:
        revision = Intake.objects.get(patient=patient).revision
        client.post(
            reverse("intake:staff_step", args=[patient.pk, step.slug]),
            step_data(patient, step.slug, revision=revision),
        )
    draft = Intake.objects.get(patient=patient)
    assert draft.started_by == front_desk

    review_url = reverse("intake:staff_review", args=[patient.pk])
    response = client.post(review_url, {"revision": draft.revision})
    assert "Confirm that the patient agreed with these answers." in response.content.decode()

    client.post(review_url, {"revision": draft.revision, "read_back_to_patient": "on"})
    draft.refresh_from_db()
    assert draft.status == Intake.Status.SUBMITTED
    assert draft.submitted_by == front_desk and draft.read_back_to_patient
    assert not ConsentSignature.objects.filter(patient=patient).exists()


def test_pages_of_a_submitted_questionnaire_cannot_be_reopened_by_staff(
    login, front_desk, practitioner, patient
):
    intake = submitted_intake(patient)
    response = login(practitioner.user).get(reverse("intake:staff_step", args=[patient.pk, "pain"]))
    assert response.url == reverse("intake:intake_detail", args=[intake.pk])
    # The front desk does not read the answers: back to the patient's chart.
    response = login(front_desk).get(reverse("intake:staff_step", args=[patient.pk, "pain"]))
    assert response.url == reverse("intake:patient_chart", args=[patient.pk])
