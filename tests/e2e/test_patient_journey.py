"""Journey 1: a new patient, on a phone, signs up, finds a location that offers dry needling
and requests an assessment slot."""

from __future__ import annotations

import pytest

from booking.models import Appointment
from tests.e2e.conftest import PHONE, check_accessibility, no_browser_errors, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_patient_signs_up_and_requests_an_assessment(demo, open_page):
    page = open_page(PHONE)
    page.goto("/")
    check_accessibility(page)
    page.get_by_role("link", name="Create an account").first.click()
    check_accessibility(page)

    # A mistake first: the message is on the field and the other answers stay.
    page.get_by_label("First name").fill("Morgan")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Email address").fill("morgan.lee@example.org")
    page.get_by_label("Date of birth").fill("1976-03-14")
    page.get_by_label("Phone").fill("12")
    page.locator("#id_password1").fill("plantar-heel-2026")
    page.get_by_label("Password confirmation").fill("plantar-heel-2026")
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("Enter a phone number").first.is_visible()
    assert page.get_by_label("Email address").input_value() == "morgan.lee@example.org"
    page.get_by_label("Phone").fill("416-555-0177")
    page.locator("#id_password1").fill("plantar-heel-2026")
    page.get_by_label("Password confirmation").fill("plantar-heel-2026")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Hello, Morgan").wait_for()

    page.get_by_role("link", name="Request an assessment").first.click()
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

    # Choose the first free time with the keyboard, then hold it.
    radio = page.locator("input[name=slot]").first
    radio.focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Hold this time").press("Enter")
    page.get_by_role("heading", name="Confirm your request").wait_for()
    check_accessibility(page)
    button = page.get_by_role("button", name="Request this appointment")
    button.dblclick()  # a double click books once
    page.get_by_text("Your request is sent").wait_for()
    assert Appointment.objects.filter(patient__user__email="morgan.lee@example.org").count() == 1
    page.go_back()  # the back button after booking finds the same appointment, not a new form
    page.get_by_text("already requested").wait_for()
    assert Appointment.objects.filter(patient__user__email="morgan.lee@example.org").count() == 1
    no_browser_errors(page)
