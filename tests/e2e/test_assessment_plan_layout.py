"""The assessment note's plan section on a practitioner's desk screen (1440×900): the
combined-care checkboxes sit inside the form at its full width, before "Yes" is chosen (the
sessions hidden), after it, and without JavaScript (everything simply shown)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.e2e.conftest import check_accessibility, log_in_as_staff, no_browser_errors
from tests.intake.factories import AssessmentFactory

pytestmark = pytest.mark.django_db(transaction=True)

PRACTITIONER_DESK = {"width": 1440, "height": 900}


def _box(page, selector: str) -> dict:
    return page.locator(selector).bounding_box()


def _assert_combined_care_spans_the_form(page) -> None:
    form = _box(page, "form[data-autosave]")
    care = _box(page, "#div_id_combined_care fieldset")
    assert abs(care["x"] - form["x"]) < 1 and abs(care["width"] - form["width"]) < 1, (form, care)
    # The checkboxes flow in rows, not one word a line.
    assert care["height"] < 150, care
    assert page.get_by_label("Weight management").is_visible()


@pytest.fixture
def undecided(patient, practitioner, clinic):
    """An assessment draft with no decision yet."""
    return AssessmentFactory(
        patient=patient,
        author=practitioner,
        needling_appropriate=None,
        planned_sessions=None,
        session_minutes=None,
    )


def test_combined_care_is_full_width_before_and_after_yes(
    open_page, live_server, practitioner, undecided
):
    page = open_page(PRACTITIONER_DESK)
    log_in_as_staff(page, live_server, practitioner.user.email)
    page.goto(reverse("intake:assessment_edit", args=[undecided.pk]))
    assert not page.get_by_label("6 sessions").is_visible()  # no decision yet
    _assert_combined_care_spans_the_form(page)
    check_accessibility(page)
    page.locator("input[name=needling_appropriate][value=True]").check()
    assert page.get_by_label("6 sessions").is_visible()
    _assert_combined_care_spans_the_form(page)
    no_browser_errors(page)


def test_without_javascript_the_plan_is_simply_shown(
    open_page, live_server, practitioner, undecided
):
    page = open_page(PRACTITIONER_DESK, java_script_enabled=False)
    log_in_as_staff(page, live_server, practitioner.user.email)
    page.goto(reverse("intake:assessment_edit", args=[undecided.pk]))
    assert page.get_by_label("6 sessions").is_visible()
    _assert_combined_care_spans_the_form(page)
