"""The course booking table on a desk screen (1440×900), with a conflict whose alternatives
take room: no menu cuts its choice short ("Leasic", "Priya Rama"), and each date field has
its weekday in words beside it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking, a_colleague
from tests.e2e.conftest import check_accessibility, log_in_as_staff, no_browser_errors
from tests.intake.factories import signed_assessment

pytestmark = pytest.mark.django_db(transaction=True)

PRACTITIONER_DESK = {"width": 1440, "height": 900}

# For each menu of the table: its chosen entry, the width that text needs in the menu's font,
# and the room the menu leaves for it (its width less the padding and the arrow).
MENU_ROOM = """() => Array.from(document.querySelectorAll('.course-sessions select')).map(s => {
  const style = getComputedStyle(s);
  const pen = document.createElement('canvas').getContext('2d');
  pen.font = style.font;
  const text = s.options[s.selectedIndex].text;
  const room = s.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [text, pen.measureText(text).width, room];
})"""


def test_the_course_table_shows_whole_names_and_weekdays(
    open_page, live_server, clinic, patient, practitioner
):
    signed_assessment(patient, practitioner)
    priya = a_colleague(clinic)
    priya.user.first_name, priya.user.last_name = "Priya", "Ramanathan"
    priya.user.save()
    first = next_weekday(clinic.location, 1, 10)
    # Priya is busy at the third session's time (another patient's assessment): its row lists
    # alternatives.
    a_booking(clinic, first + dt.timedelta(weeks=2), practitioner=priya)

    page = open_page(PRACTITIONER_DESK)
    log_in_as_staff(page, live_server, practitioner.user.email)
    page.goto(reverse("booking:course_book", args=[patient.pk]))
    page.get_by_label("Date").fill(first.date().isoformat())
    page.get_by_label("Practitioner").select_option(label="Priya Ramanathan")
    page.get_by_role("button", name="Propose the sessions").click()
    page.get_by_text("Nearest free:").wait_for()

    menus = page.evaluate(MENU_ROOM)
    assert len(menus) == 12  # a location and a practitioner menu for each of 6 sessions
    assert {text for text, _, _ in menus} == {clinic.location.name, "Priya Ramanathan"}
    cut = [(text, need, room) for text, need, room in menus if need > room]
    assert cut == [], cut
    third = first + dt.timedelta(weeks=2)
    day = page.locator("#id_session-2-date-day")
    assert day.inner_text() == f"{third:%a} {third.day} {third:%b %Y}"
    assert page.get_by_label("Session 3 date").get_attribute("aria-describedby") == (
        "id_session-2-date-day"
    )
    check_accessibility(page)
    no_browser_errors(page)
