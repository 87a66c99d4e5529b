"""Journeys 2-4, intake: the demo patient finishes the questionnaire on a phone with
JavaScript on; a practitioner assesses the flagged patient and signs; the front desk has a
patient sign the new consent on the counter tablet. Pages are checked with axe-core."""

from __future__ import annotations

import pytest

from clinic.demo import DEMO_PASSWORD
from intake.models import AssessmentNote, Intake
from tests.e2e.conftest import (
    DESK,
    PHONE,
    TABLET,
    check_accessibility,
    log_in_as_patient,
    log_in_as_staff,
    no_browser_errors,
    screenshot,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_patient_finishes_the_questionnaire_on_a_phone(demo, open_page):
    page = open_page(PHONE)
    log_in_as_patient(page, "patient@example.org", DEMO_PASSWORD)
    page.get_by_text("step 2 of 8").wait_for()
    page.get_by_role("link", name="Continue your questionnaire").click()
    page.get_by_role("link", name="Continue").click()

    page.get_by_role("heading", name="Your heel pain").wait_for()
    check_accessibility(page)
    page.get_by_label("Right").check()
    page.get_by_label("For how many weeks have you had this pain?").fill("10")
    page.get_by_label("Gradually").check()
    page.locator("#id_had_before_1").check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="Symptoms").wait_for()
    for radio in page.locator("input[type=radio][value=True]").all():
        radio.check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="Pain, daily life and goals").wait_for()
    screenshot(page, "intake-step")
    page.locator("#id_pain_first_steps_7").check()
    page.locator("#id_pain_average_5").check()
    page.locator("#id_pain_worst_3").check()  # a mistake: lower than the average
    page.get_by_label("How many minutes can you walk before the pain stops you?").fill("20")
    page.get_by_label("How many hours a day do you spend standing?").fill("6")
    page.get_by_label("An activity that matters to you").fill("Walking the dog")
    page.locator("#id_activity_1_score_4").check()
    page.get_by_label("What would you like to be able to do again?").fill("Walk without pain")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_text("Your worst pain cannot be lower than your average pain").first.wait_for()
    check_accessibility(page)
    page.locator("#id_pain_worst_8").check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="You and your feet").wait_for()
    # The session ends mid-form (idle too long, or the phone cleared it): the next click asks
    # to log in again and comes back to this step, with the steps before it kept.
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Email address").wait_for()
    log_in_as_patient(page, "patient@example.org", DEMO_PASSWORD, at=None)
    page.get_by_role("heading", name="You and your feet").wait_for()
    assert Intake.objects.get(patient__user__email="patient@example.org").pain_worst == 8
    # The units not chosen are hidden by the script (they are in the page without it).
    assert not page.get_by_label("Weight (pounds)").is_visible()
    page.get_by_label("Feet, inches and pounds").check()
    page.get_by_label("Height: feet").fill("5")
    page.get_by_label("and inches").fill("9")
    page.get_by_label("Weight (pounds)").fill("170")
    page.get_by_label("Neither (neutral)").check()
    for name in ("high_impact_activity", "long_hours_standing", "tight_calves"):
        page.locator(f"input[name={name}][value=False]").check()
    page.locator("input[name=unsupportive_footwear][value=True]").check()
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="Treatments you have tried").wait_for()
    # Reloading a half-filled step: the page comes back as it was saved; nothing breaks.
    page.locator("input[name=tried_injection][value=not_tried]").check()
    page.reload()
    page.get_by_role("heading", name="Treatments you have tried").wait_for()
    injection_date = page.get_by_label("Date of your last corticosteroid injection")
    assert not injection_date.is_visible()
    for radio in page.locator("input[type=radio][value=not_tried]").all():
        radio.check()
    page.locator("input[name=tried_injection][value=a_little]").check()
    assert injection_date.is_visible()
    injection_date.fill("2026-01-15")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="Safety questions").wait_for()
    details = page.get_by_label("If yes, please give details (metal allergy)")
    for radio in page.locator("input[type=radio][value=False]").all():
        radio.check()
    assert not details.is_visible()
    page.locator("input[name=screen_metal_allergy][value=True]").check()
    assert details.is_visible()
    details.fill("Nickel: a rash from a watch strap")
    check_accessibility(page)
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_role("heading", name="Check your answers, consent and sign").wait_for()
    assert page.get_by_text("Nickel: a rash from a watch strap").first.is_visible()
    check_accessibility(page)
    for box in page.locator("input[type=checkbox][name^=agree_]").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill("jordan  miles")
    screenshot(page, "intake-review")
    page.get_by_role("button", name="Sign and submit").click()
    page.get_by_text("the questionnaire is submitted").wait_for()
    check_accessibility(page)
    intake = Intake.objects.get(patient__user__email="patient@example.org")
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.flag_reasons == ("Metal allergy",)
    assert str(intake.height_cm) == "175.26"
    no_browser_errors(page)


def test_a_practitioner_assesses_the_flagged_patient_and_signs(
    demo,
    open_page,
    live_server,
):
    page = open_page(DESK)
    log_in_as_staff(page, live_server, "practitioner@example.org")
    page.goto("/practitioner/")
    page.get_by_role("link", name="Ellen Park").click()
    page.get_by_role("heading", name="Ellen Park").wait_for()
    check_accessibility(page)
    page.get_by_role("link", name="Start or resume an assessment note").click()
    page.get_by_role("button", name="Start the assessment note").click()

    page.get_by_role("heading", name="Assessment note").wait_for()
    check_accessibility(page)
    plan = page.get_by_text("Number of sessions")
    assert not plan.is_visible()  # the plan shows once needling is judged appropriate
    page.locator("input[name=diagnosis][value=plantar_fasciitis]").check()
    page.locator("input[name=diagnosis_side][value=left]").check()
    page.get_by_label("Acknowledged: Fear of needles or fainting with needles").check()
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


def test_the_front_desk_has_a_patient_sign_the_new_consent_on_the_counter_tablet(
    demo,
    open_page,
    live_server,
):
    page = open_page(TABLET)
    log_in_as_staff(page, live_server, "frontdesk.md@example.org")
    page.goto("/intake/?show=all")
    page.get_by_role("heading", name="Intake questionnaires").wait_for()
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
