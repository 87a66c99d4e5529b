"""Journey: on a day with six practitioners (their columns fit a 1024 px tablet side by side), a
walk-in who is not yet a patient, booked from a free box without leaving the day
view — search finds nobody, add them in the panel, confirm, and the grid shows them; the
counter tablet's panel is checked with axe at each step, and a wrong date of birth is
answered in the panel without losing what was typed."""

from __future__ import annotations

import pytest

from booking.models import Appointment
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_clinic, a_colleague
from tests.e2e.conftest import TABLET, check_accessibility, no_browser_errors, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_new_patient_is_added_and_booked_in_the_panel(staff_page, live_server):
    clinic = a_clinic()
    for _ in range(5):  # six practitioners working that day: their columns share the width
        a_colleague(clinic)
    desk = UserFactory(role="front_desk", email="desk@example.org")
    desk.locations.add(clinic.location)
    day = next_weekday(clinic.location, 1, 9).date()
    page = staff_page("desk@example.org", TABLET)
    page.goto(f"/schedule/locations/{clinic.location.slug}/?date={day.isoformat()}")
    day_url = page.url
    grid = page.locator(".sched")
    assert page.locator(".sched-col").count() == 6
    assert grid.evaluate("g => g.scrollWidth <= g.clientWidth")  # no sideways scrolling at 1024

    page.get_by_role("link", name=f"Book 11:00 AM with {clinic.practitioner.name}").first.click()
    panel = page.get_by_role("dialog")
    panel.get_by_label("Name, phone or email").fill("Zoe Quint")
    panel.get_by_label("Name, phone or email").press("Enter")
    panel.get_by_text("No patient found").wait_for()
    check_accessibility(page)
    panel.get_by_role("button", name="New patient: add them with the minimum details").click()
    panel.get_by_role("heading", name=f"New patient at {clinic.location.name}").wait_for()
    assert panel.get_by_label("First name").input_value() == "Zoe"  # from the search
    panel.get_by_label("Date of birth").fill("2999-01-01")
    panel.get_by_label("Phone").fill("416-555-0199")
    panel.get_by_role("button", name="Add the patient").click()
    panel.locator(".invalid-feedback, .alert-danger, .text-danger").first.wait_for()
    assert panel.get_by_label("Phone").input_value() == "416-555-0199"  # nothing typed lost
    check_accessibility(page)
    panel.get_by_label("Date of birth").fill("1979-04-02")
    panel.get_by_role("button", name="Add the patient").click()
    panel.get_by_role("button", name="Book this time").first.wait_for()
    check_accessibility(page)
    screenshot(page, "front-desk-book-in-place")
    panel.get_by_role("button", name="Book this time").first.click()
    page.get_by_text("Booked: Zoe Quint").wait_for()
    assert page.url == day_url
    page.locator(".sched-appt", has_text="Zoe Quint").wait_for()  # the grid drawn again
    booked = Appointment.objects.get(patient__last_name="Quint")
    assert booked.local_starts_at.hour == 11

    # From the panel, a page made to stand alone (the waitlist) opens as a page of its own.
    page.get_by_role("link", name=f"Book 2:00 PM with {clinic.practitioner.name}").first.click()
    panel.get_by_label("Name, phone or email").fill("Quint")
    panel.get_by_label("Name, phone or email").press("Enter")
    panel.get_by_role("link", name="Book for Zoe").click()
    panel.get_by_role("link", name="Put on the waitlist").click()
    page.wait_for_url("**/waitlist/**")
    assert page.locator("header").count() == 1 and not panel.is_visible()
    no_browser_errors(page)
