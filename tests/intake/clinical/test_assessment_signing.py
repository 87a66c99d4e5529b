"""Signing a note: the author re-enters their password, the note must be complete, a
fingerprint of the content is stored and shown, and PostgreSQL locks the row for good."""

from __future__ import annotations

import hashlib

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from clinic.models import AccessLog
from intake.clinical.models import AssessmentNote, SessionNote, canonical_json
from intake.questionnaire.selectors import intake_overview
from tests.factories import PASSWORD
from tests.intake.factories import (
    AssessmentFactory,
    assessment_data,
    session_note,
    sign_note_now,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


def _sign(client, note, password=PASSWORD, revision=None, follow=False):
    return client.post(
        reverse("intake:assessment_sign", args=[note.pk]),
        {"password": password, "revision": note.revision if revision is None else revision},
        follow=follow,
    )


def test_the_author_signs_with_their_password_and_the_fingerprint_is_stored_and_shown(
    login, practitioner, assessment
):
    client = login(practitioner.user)
    page = client.get(reverse("intake:assessment_sign", args=[assessment.pk])).content.decode()
    assert "Sign and lock" in page and "Active trigger points" in page

    response = _sign(client, assessment)

    assessment.refresh_from_db()
    assert response.url == reverse("intake:assessment_detail", args=[assessment.pk])
    assert assessment.is_signed
    assert len(assessment.fingerprint) == 64
    expected = hashlib.sha256(canonical_json(assessment.signed_content()).encode()).hexdigest()
    assert assessment.fingerprint == expected
    detail = client.get(response.url).content.decode()
    assert assessment.fingerprint in detail and "Verified" in detail
    assert AccessLog.objects.filter(action=AccessLog.Action.SIGN, record_id=str(assessment.pk))


def test_a_wrong_password_signs_nothing(login, practitioner, assessment):
    response = _sign(login(practitioner.user), assessment, password="not-my-password")
    assert response.status_code == 200
    assert "That is not your password" in response.content.decode()
    assessment.refresh_from_db()
    assert not assessment.is_signed and assessment.fingerprint == ""


def test_wrong_passwords_at_signing_count_as_failed_logins_and_lock_the_account(
    login, practitioner, assessment
):
    client = login(practitioner.user)
    for _ in range(5):
        _sign(client, assessment, password="guess")
    # Locked now: even the right password signs nothing (the login's lockout page), and
    # logging in again is refused.
    locked = _sign(client, assessment)
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.content.decode()
    assessment.refresh_from_db()
    assert not assessment.is_signed
    relogin = Client().post(
        reverse("login"), {"username": practitioner.user.email, "password": PASSWORD}
    )
    assert relogin.status_code == 429


def test_nobody_signs_someone_elses_note(login, other_practitioner, assessment):
    response = _sign(login(other_practitioner.user), assessment)
    assert response.status_code == 403
    assert "Only the note&#x27;s author" in response.content.decode()
    assessment.refresh_from_db()
    assert not assessment.is_signed


def test_an_incomplete_note_lists_what_is_missing_and_is_not_signed(login, practitioner, patient):
    note = AssessmentFactory(
        patient=patient,
        author=practitioner,
        needling_appropriate=None,
        decision_reason="",
        diagnosis_side="",
    )
    client = login(practitioner.user)
    page = client.get(reverse("intake:assessment_sign", args=[note.pk])).content.decode()
    assert "Decide whether dry needling is appropriate." in page
    assert "Say which side." in page
    assert 'name="password"' not in page  # no signing until complete

    _sign(client, note)
    note.refresh_from_db()
    assert not note.is_signed


def test_every_screening_flag_must_be_acknowledged_before_signing(
    login, practitioner, patient, assessment
):
    submitted_intake(
        patient,
        screen_needle_fear=True,
        screen_needle_fear_details="fainted once",
        screen_pregnancy=True,
        screen_pregnancy_details="10 weeks",
    )
    client = login(practitioner.user)
    page = client.get(reverse("intake:assessment_sign", args=[assessment.pk])).content.decode()
    assert "Acknowledge the screening answer “Pregnancy”." in page

    client.post(
        reverse("intake:assessment_edit", args=[assessment.pk]),
        assessment_data(
            revision=0,
            needling_appropriate=False,
            decision_reason="Pregnant: not in the first trimester.",
            acknowledged={
                "screen_needle_fear": "Lying down for sessions",
                "screen_pregnancy": "Discussed; deferred until after pregnancy",
            },
        ),
    )
    assessment.refresh_from_db()
    assert _sign(client, assessment).status_code == 302
    assessment.refresh_from_db()
    assert assessment.is_signed
    assert assessment.flag_acknowledgements["screen_pregnancy"].startswith("Discussed")
    # Reviewed: the patient is no longer waiting for review.
    assert not intake_overview([patient.pk])[patient.pk].flagged_for_review


def test_needling_despite_a_screening_answer_says_how_that_answer_is_addressed(
    login, practitioner, patient, assessment
):
    """A screening "yes" (here anticoagulants) ticked as acknowledged with nothing written, and
    dry needling recorded as appropriate: the note is not signed until it says how the risk is
    handled, since that line is what lets the course be booked. Deciding against needling, the
    decision's reason is enough."""
    submitted_intake(
        patient, screen_anticoagulants=True, screen_anticoagulants_details="Apixaban 5 mg"
    )
    client = login(practitioner.user)
    client.post(
        reverse("intake:assessment_edit", args=[assessment.pk]),
        assessment_data(revision=0, acknowledged={"screen_anticoagulants": "  "}),
    )
    assessment.refresh_from_db()
    assert "screen_anticoagulants" in assessment.flag_acknowledgements

    response = _sign(client, assessment)
    assert response.status_code == 200
    assert "say how it is addressed" in response.content.decode()
    assessment.refresh_from_db()
    assert not assessment.is_signed

    client.post(
        reverse("intake:assessment_edit", args=[assessment.pk]),
        assessment_data(
            revision=assessment.revision,
            needling_appropriate=False,
            decision_reason="On apixaban: shockwave and stretching instead.",
            acknowledged={"screen_anticoagulants": ""},
        ),
    )
    assessment.refresh_from_db()
    assert _sign(client, assessment).status_code == 302


def test_a_sign_page_opened_before_a_later_save_cannot_sign_unseen_changes(
    login, practitioner, assessment
):
    client = login(practitioner.user)
    opened_at = assessment.revision
    client.post(
        reverse("intake:assessment_edit", args=[assessment.pk]),
        assessment_data(revision=opened_at, decision_reason="Changed in another tab"),
    )
    response = _sign(client, assessment, revision=opened_at)
    assert "The note was changed after you opened this page" in response.content.decode()
    assessment.refresh_from_db()
    assert not assessment.is_signed


def test_a_crafted_post_cannot_edit_a_signed_note(login, practitioner, assessment):
    sign_note_now(assessment)
    client = login(practitioner.user)
    response = client.post(
        reverse("intake:assessment_edit", args=[assessment.pk]),
        assessment_data(revision=assessment.revision, decision_reason="Rewritten history"),
        follow=True,
    )
    assert "Not saved. This note is signed and locked" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.decision_reason != "Rewritten history"
    autosave = client.post(
        reverse("intake:assessment_edit", args=[assessment.pk]),
        assessment_data(revision=assessment.revision),
        headers={"X-Autosave": "1"},
    )
    assert autosave.status_code == 409


def test_signing_twice_is_refused_politely(login, practitioner, assessment):
    sign_note_now(assessment)
    response = _sign(login(practitioner.user), assessment, follow=False)
    assert response.url == reverse("intake:assessment_detail", args=[assessment.pk])


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE intake_assessmentnote SET needling_appropriate = false",
        "UPDATE intake_assessmentnote SET signed_at = NULL, fingerprint = ''",
        "DELETE FROM intake_assessmentnote",
    ],
)
def test_the_database_refuses_to_change_a_signed_assessment(assessment, sql):
    sign_note_now(assessment)
    with pytest.raises(DatabaseError, match="locked"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assessment.refresh_from_db()
    assert assessment.is_signed and assessment.needling_appropriate is True
    assert assessment.fingerprint_verified


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE intake_treatmentnote SET pre_session_pain = 0",
        "DELETE FROM intake_treatmentnote",
    ],
)
def test_the_database_refuses_to_change_a_signed_session_note(prescribed, sql):
    note = sign_note_now(session_note(prescribed))
    with pytest.raises(DatabaseError, match="locked"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert SessionNote.objects.get(pk=note.pk).pre_session_pain == 5


def test_the_database_lets_a_draft_note_change(assessment):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE intake_assessmentnote SET decision_reason = 'draft edit'")
        cursor.execute("DELETE FROM intake_assessmentnote")
    assert not AssessmentNote.objects.exists()


def test_a_changed_fingerprint_shows_as_not_matching(login, practitioner, assessment):
    sign_note_now(assessment)
    assessment.decision_reason = "tampered in memory"
    assert not assessment.fingerprint_verified
