"""Journey 1: a new patient, on a phone, signs up, finds a location that offers dry needling,
requests an assessment slot, fills in the whole intake across its steps — leaving after the
first step and resuming on another device — and signs the consent.

The person makes the mistakes people make on the way: an invalid field (the message is seen
and the other answers stay), a double click on "Request", the back button after booking, a
session that expires mid-form, a reload of a half-filled step. Key steps are done with the
keyboard alone; every page the journey visits is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from booking.models import Appointment
from intake.questionnaire.models import Intake
from tests.e2e.conftest import (
    PHONE,
    check_accessibility,
    log_in_as_patient,
    no_browser_errors,
    screenshot,
)

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "morgan.lee@example.org"
PASSWORD = "plantar-heel-2026"


def test_a_new_patient_signs_up_requests_an_assessment_and_fills_in_the_intake(demo, open_page):
    page = open_page(PHONE)
    sign_up(page)
    request_an_assessment(page)
    start_the_questionnaire(page)
    fill_in_the_contact_details(page)
    no_browser_errors(page)
    # Morgan leaves halfway: this phone's browser is closed, the answers so far are kept.
    page.context.close()
    assert Intake.objects.get(patient__user__email=EMAIL).steps_done == ["contact"]

    # ... and comes back on another device, which has to log in again.
    page = open_page(PHONE)
    resume_the_questionnaire(page, at_step=2)
    fill_in_the_complaint(page)
    fill_in_the_symptoms(page)
    fill_in_pain_and_goals_with_a_mistake(page)
    fill_in_the_risk_factors_after_the_session_expires(page)
    fill_in_the_treatments_reloading_halfway(page)
    answer_the_safety_questions(page)
    review_and_sign(page, signature="  morgan   LEE ")

    intake = Intake.objects.get(patient__user__email=EMAIL)
    assert intake.status == Intake.Status.SUBMITTED
    assert intake.flag_reasons == ("Metal allergy",)
    assert str(intake.height_cm) == "175.26"
    assert (intake.emergency_contact_name, intake.emergency_contact_phone) == (
        "Sam Lee",
        "416-555-0190",
    )
    assert intake.preferred_location.name.startswith("Leaside")
    no_browser_errors(page)


# --- Signing up and booking ------------------------------------------------------------------


def sign_up(page) -> None:
    page.goto("/")
    check_accessibility(page)
    page.get_by_role("link", name="Create an account").first.click()
    check_accessibility(page)
    assert page.evaluate("document.activeElement.id") == "id_first_name"

    # A mistake first: the message is on the field, which takes the focus, and the other
    # answers stay, the passwords too.
    page.get_by_label("First name").fill("Morgan")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Date of birth").fill("1976-03-14")
    page.get_by_label("Phone").fill("12")
    page.locator("#id_password1").fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("Enter a phone number").first.is_visible()
    assert page.get_by_label("Email address").input_value() == EMAIL
    assert page.locator("#id_password1").input_value() == PASSWORD
    assert page.get_by_label("Password confirmation").input_value() == PASSWORD
    assert page.evaluate("document.activeElement.id") == "id_phone"
    check_accessibility(page)
    page.get_by_label("Phone").fill("416-555-0177")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    check_accessibility(page)

    # Morgan opens the link in the email and confirms with the password just chosen.
    link = re.search(r"https?://[^/\s]+(/accounts/signup/confirm/\S+)", mail.outbox[-1].body)
    page.goto(link.group(1))
    page.get_by_role("heading", name="Confirm your account").wait_for()
    check_accessibility(page)
    page.get_by_label("The password you chose").fill(PASSWORD)
    page.get_by_role("button", name="Confirm my account").click()
    page.get_by_role("heading", name="Hello, Morgan").wait_for()
    check_accessibility(page)


def request_an_assessment(page) -> None:
    page.get_by_role("link", name="Request an assessment").first.click()
    check_accessibility(page)
    page.get_by_label("Your postal code, ZIP code or town").fill("M4G 1A1")
    # The keyboard alone: Enter submits the search.
    page.get_by_label("Your postal code, ZIP code or town").press("Enter")
    page.wait_for_url("**/book/?near=*")
    check_accessibility(page)
    first = page.locator("main li.card h3").first.inner_text()
    assert first.startswith("Leaside")
    page.get_by_role("link", name="See free times at Leaside").click()
    check_accessibility(page)
    screenshot(page, "patient-booking")

    # One day at a time: a few phone screens, not a wall of some 130 times, with the first free
    # time one tap away at the top.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 1600, f"the free-times page is {height} px tall on a phone"
    assert page.get_by_role("button", name=re.compile(r"^Next available")).bounding_box()["y"] < 844
    days = page.get_by_role("navigation", name="Days with free times").get_by_role("link")
    assert days.first.get_attribute("aria-current") == "date"
    assert re.search(r"\d+ times?$", days.nth(1).inner_text())

    # Another day, with the keyboard: its times replace the first day's.
    days.nth(1).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**day=*")
    assert days.nth(1).get_attribute("aria-current") == "date"
    check_accessibility(page)
    day = page.get_by_role("group", name=re.compile(r"free times?$"))
    assert days.nth(1).inner_text().split()[-2] == str(day.get_by_role("button").count())

    # In the clinic's teal, like its other buttons.
    teal = "rgb(11, 93, 107)"
    assert day.get_by_role("button").first.evaluate("b => getComputedStyle(b).color") == teal
    assert days.first.evaluate("a => getComputedStyle(a).borderColor") == teal

    # The chosen day opens at its times: Tab goes to the first, not through every day, and
    # Enter on the time itself holds it and opens the confirmation.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#day-times') !== null")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Confirm your request").wait_for()
    check_accessibility(page)
    button = page.get_by_role("button", name="Request this appointment")
    button.dblclick()  # a double click books once
    page.get_by_text("Your request is sent").wait_for()
    check_accessibility(page)
    assert Appointment.objects.filter(patient__user__email=EMAIL).count() == 1
    page.go_back()  # the back button after booking finds the same appointment, not a new form
    page.get_by_text("already requested").wait_for()
    check_accessibility(page)
    assert Appointment.objects.filter(patient__user__email=EMAIL).count() == 1


# --- The questionnaire, step by step ---------------------------------------------------------


def start_the_questionnaire(page) -> None:
    page.goto("/")
    page.get_by_role("heading", name="Hello, Morgan").wait_for()
    assert page.get_by_text("Not started").is_visible()
    page.get_by_role("link", name="Start your questionnaire").click()
    page.get_by_role("heading", name="Your questionnaire").wait_for()
    check_accessibility(page)
    page.get_by_role("button", name="Start the questionnaire").press("Enter")


def fill_in_the_contact_details(page) -> None:
    """Step 1, by keyboard: the name and date of birth from signing up are shown, the phone
    is filled in from the account, the location from the request; Morgan adds an emergency
    contact."""
    page.get_by_role("heading", name="Your contact details").wait_for()
    check_accessibility(page)
    on_file = page.get_by_text("Name and date of birth on file").inner_text()
    assert "Morgan Lee, 14 March 1976" in on_file
    assert page.locator("#id_phone").input_value() == "416-555-0177"
    # Proposed: where Morgan has just asked to be seen; a location without dry needling says so.
    location = page.get_by_label("Where would you like to be seen?")
    assert location.locator("option:checked").inner_text().startswith("Leaside")
    assert location.locator("option", has_text="(no dry needling)").count() >= 1
    page.get_by_label("Emergency contact name").focus()
    page.keyboard.type("Sam Lee")
    page.keyboard.press("Tab")
    page.keyboard.type("416-555-0190")
    page.keyboard.press("Enter")  # Enter in a field saves and continues
    page.get_by_role("heading", name="Your heel pain").wait_for()


def resume_the_questionnaire(page, at_step: int) -> None:
    """Log in (on a fresh device): the home page says where the questionnaire stopped."""
    log_in_as_patient(page, EMAIL, PASSWORD)
    page.get_by_role("heading", name="Hello, Morgan").wait_for()
    page.get_by_text(f"step {at_step} of 8").wait_for()
    check_accessibility(page)
    page.get_by_role("link", name="Continue your questionnaire").click()
    page.get_by_text(f"You are at step {at_step} of 8").wait_for()
    check_accessibility(page)
    page.get_by_role("link", name="Continue").click()


def fill_in_the_complaint(page) -> None:
    page.get_by_role("heading", name="Your heel pain").wait_for()
    check_accessibility(page)
    # On the phone the step list is folded into one line and opens on demand.
    steps = page.get_by_role("navigation", name="Questionnaire steps")
    assert steps.bounding_box()["height"] < 60
    symptoms = steps.get_by_role("link", name="3. Symptoms")
    assert not symptoms.is_visible()
    steps.get_by_text("Step 2 of 8").click()
    assert symptoms.is_visible()
    check_accessibility(page)
    page.get_by_label("Right").check()
    page.get_by_label("For how many weeks have you had this pain?").fill("10")
    page.get_by_label("Gradually").check()
    page.locator("#id_had_before_1").check()
    page.get_by_role("button", name="Save and continue").click()


def fill_in_the_symptoms(page) -> None:
    page.get_by_role("heading", name="Symptoms").wait_for()
    check_accessibility(page)
    for radio in page.locator("input[type=radio][value=True]").all():
        radio.check()
    page.get_by_role("button", name="Save and continue").click()


def fill_in_pain_and_goals_with_a_mistake(page) -> None:
    """An invalid answer: the message is seen and the other answers stay."""
    page.get_by_role("heading", name="Pain, daily life and goals").wait_for()
    check_accessibility(page)
    screenshot(page, "intake-step")
    # Each 0–10 scale fits one row on the phone, with its two ends named under it.
    for name in ("pain_first_steps", "pain_average", "pain_worst"):
        rows = {round(box["y"]) for box in _boxes(page.locator(f"input[name={name}]"))}
        assert len(rows) == 1, f"{name} wraps into {len(rows)} rows"
        ends = page.locator(f"#id_{name}_ends")
        assert ends.is_visible() and "no pain" in ends.inner_text()
        assert "worst imaginable" in ends.inner_text()
    assert (
        page.get_by_role("group", name="Pain with your first steps in the morning")
        .get_attribute("aria-describedby")
        .startswith("id_pain_first_steps_ends")
    )
    page.locator("#id_pain_first_steps_7").check()
    page.locator("#id_pain_average_5").check()
    page.locator("#id_pain_worst_3").check()  # a mistake: lower than the average
    page.get_by_label("How many minutes can you walk before the pain stops you?").fill("20")
    page.get_by_label("An activity that matters to you").fill("Walking the dog")
    page.locator("#id_activity_1_score_4").check()
    page.get_by_label("What would you like to be able to do again?").fill("Walk without pain")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_text("Your worst pain cannot be lower than your average pain").first.wait_for()
    check_accessibility(page)
    assert page.locator("#id_pain_average_5").is_checked()
    assert page.get_by_label("An activity that matters to you").input_value() == "Walking the dog"
    page.locator("#id_pain_worst_8").check()
    page.get_by_role("button", name="Save and continue").click()


def _boxes(locator) -> list[dict]:
    return [item.bounding_box() for item in locator.all()]


def fill_in_the_risk_factors_after_the_session_expires(page) -> None:
    page.get_by_role("heading", name="You and your feet").wait_for()
    check_accessibility(page)
    # The session ends mid-form (idle too long, or the phone cleared it): the next click asks
    # to log in again and comes back to this step, with the steps before it kept.
    page.context.clear_cookies(name="sessionid")
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Email address").wait_for()
    check_accessibility(page)
    log_in_as_patient(page, EMAIL, PASSWORD, at=None)
    page.get_by_role("heading", name="You and your feet").wait_for()
    assert Intake.objects.get(patient__user__email=EMAIL).pain_worst == 8
    # The units not chosen are hidden by the script (they are in the page without it).
    assert not page.get_by_label("Weight (pounds)").is_visible()
    page.get_by_label("Feet, inches and pounds").check()
    page.get_by_label("Height: feet").fill("5")
    page.get_by_label("and inches").fill("9")
    page.get_by_label("Weight (pounds)").fill("170")
    page.get_by_label("Neither (neutral)").check()
    # Standing time is asked here only (it was asked on the pain step too).
    page.get_by_label("How many hours a day do you spend standing?").fill("6")
    for name in ("high_impact_activity", "tight_calves"):
        page.locator(f"input[name={name}][value=False]").check()
    page.locator("input[name=unsupportive_footwear][value=True]").check()
    page.get_by_role("button", name="Save and continue").click()


def fill_in_the_treatments_reloading_halfway(page) -> None:
    page.get_by_role("heading", name="Treatments you have tried").wait_for()
    check_accessibility(page)
    # Reloading a half-filled step: the page comes back as it was saved; nothing breaks.
    page.locator("input[name=tried_injection][value=not_tried]").check()
    page.reload()
    page.get_by_role("heading", name="Treatments you have tried").wait_for()
    injection_date = page.get_by_label("Date of your last corticosteroid injection")
    assert not injection_date.is_visible()
    for radio in page.locator("input[type=radio][value=not_tried]").all():
        radio.check()
    page.locator("input[name=tried_injection][value=a_little]").check()
    assert injection_date.is_visible()  # details appear on the answer that needs them
    injection_date.fill("2026-01-15")
    page.get_by_role("button", name="Save and continue").click()


def answer_the_safety_questions(page) -> None:
    page.get_by_role("heading", name="Safety questions").wait_for()
    details = page.get_by_label("If yes, please give details (metal allergy)")
    for radio in page.locator("input[type=radio][value=False]").all():
        radio.check()
    assert not details.is_visible()
    page.locator("input[name=screen_metal_allergy][value=True]").check()
    assert details.is_visible()  # details appear on "yes"
    details.fill("Nickel: a rash from a watch strap")
    check_accessibility(page)
    page.get_by_role("button", name="Save and continue").click()


def review_and_sign(page, signature: str) -> None:
    """The review shows the answers; the typed name is matched whatever its case and spacing."""
    page.get_by_role("heading", name="Check your answers, consent and sign").wait_for()
    assert page.get_by_text("Nickel: a rash from a watch strap").first.is_visible()
    check_accessibility(page)
    for box in page.locator("input[type=checkbox][name^=agree_]").all():
        box.check()
    page.get_by_label("Type your full name to sign").fill(signature)
    screenshot(page, "intake-review")
    page.get_by_role("button", name="Sign and submit").press("Enter")
    page.get_by_text("the questionnaire is submitted").wait_for()
    check_accessibility(page)
