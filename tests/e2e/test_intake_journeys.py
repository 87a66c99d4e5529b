"""Journeys 2-3, intake: a practitioner assesses the flagged patient and signs; the front
desk has a patient sign the new consent on the counter tablet. Pages are checked with axe-core.

(A patient filling in the whole questionnaire on a phone is part of journey 1, in
test_patient_journey.py.)"""

from __future__ import annotations

import pytest

from clinic.demo import DEMO_PASSWORD
from intake.clinical.models import AssessmentNote
from tests.e2e.conftest import (
    TABLET,
    check_accessibility,
    no_browser_errors,
    screenshot,
    start_an_assessment_note,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_practitioner_assesses_the_flagged_patient_and_signs(demo, staff_page):
    page = staff_page("practitioner@example.org")
    page.goto("/practitioner/")
    page.get_by_role("link", name="Ellen Park").click()
    page.get_by_role("heading", name="Ellen Park").wait_for()
    check_accessibility(page)
    start_an_assessment_note(page)
    plan = page.get_by_text("Number of sessions")
    assert not plan.is_visible()  # the plan shows once needling is judged appropriate
    page.locator("input[name=diagnosis][value=plantar_fasciitis]").check()
    page.locator("input[name=diagnosis_side][value=left]").check()
    page.get_by_label("Acknowledged: Fear of needles or fainting with needles").check()
    # Needling despite a screening "yes": each says how it is addressed, or the note is not signed.
    page.get_by_label("How it is addressed (fear of needles or fainting with needles)").fill(
        "Treated lying down; few needles at the first session"
    )
    page.get_by_label("Acknowledged: Anticoagulant or antiplatelet medication").check()
    page.get_by_label("How it is addressed (anticoagulant or antiplatelet medication)").fill(
        "Pressure for two minutes at each site"
    )
    page.locator("input[name=needling_appropriate][value=True]").check()
    assert plan.is_visible()
    page.get_by_label("Reason for the decision").fill("Active trigger points; risks addressed.")
    page.get_by_label("6 sessions").check()
    page.get_by_label("30 minutes").check()
    page.get_by_text("Draft saved at").wait_for()  # autosaved while typing
    page.get_by_role("button", name="Save and sign…").click()

    page.get_by_role("heading", name="Sign the assessment note").wait_for()
    check_accessibility(page)
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Sign and lock").click()
    page.get_by_text("That is not your password. Nothing was signed.").first.wait_for()
    page.get_by_label("Your password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign and lock").click()
    page.get_by_text("Signed and locked").wait_for()
    check_accessibility(page)
    screenshot(page, "assessment-signed")
    note = AssessmentNote.objects.get(patient__last_name="Park")
    assert note.is_signed and page.get_by_text(note.fingerprint).is_visible()
    no_browser_errors(page)


def test_the_front_desk_has_a_patient_sign_the_new_consent_on_the_counter_tablet(demo, staff_page):
    page = staff_page("frontdesk.md@example.org", TABLET)
    page.goto("/intake/?show=all")
    page.get_by_role("heading", name="Intake questionnaires").wait_for()
    check_accessibility(page)
    # Looking him up by name: the name is posted, and stays through a change of tab.
    page.get_by_label("Patient name").fill("reid")
    page.get_by_label("Patient name").press("Enter")
    page.get_by_role("link", name="Reid, Marcus").wait_for()
    page.get_by_role("button", name="Submitted").click()
    page.get_by_role("link", name="Reid, Marcus").wait_for()
    assert "reid" not in page.url and page.locator("tbody tr").count() == 1
    check_accessibility(page)
    page.get_by_role("link", name="Reid, Marcus").click()
    page.get_by_role("heading", name="Marcus Reid").wait_for()
    assert page.get_by_text("Out of date").is_visible()
    page.get_by_role("link", name="Sign at the counter (tablet)").click()
    page.get_by_role("heading", name="Consent for Marcus Reid").wait_for()
    check_accessibility(page)
    for box in page.locator("input[type=checkbox][name^=agree_]").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("Marcus Reed")  # a typo
    page.get_by_role("button", name="Sign").click()
    page.get_by_text("This does not match the name on file (Marcus Reid)").first.wait_for()
    check_accessibility(page)
    page.get_by_label("Type your full name to sign").fill("MARCUS REID")
    for box in page.locator("input[type=checkbox][name^=agree_]").all():
        box.check()
    page.get_by_role("button", name="Sign").click()
    page.get_by_text("Please hand the tablet back").wait_for()
    assert page.get_by_text("has signed the current version of every consent").is_visible()
    no_browser_errors(page)
