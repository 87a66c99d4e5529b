"""Journey 5, at a desk: the clinic manager reads the results dashboard beside the articles'
figures, then the audit trail of who opened a patient's record — including a practitioner who
has just opened it in another browser — and exports it for the patient."""

from __future__ import annotations

import pytest

from clinic.models import AccessLog, Patient
from tests.e2e.conftest import check_accessibility, no_browser_errors, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_manager_reads_the_results_and_who_opened_a_patients_record(demo, staff_page):
    grace = Patient.objects.get(last_name="Liu")  # finished her course at Largo with Laura Kim

    # Laura Kim opens Grace's chart at her desk.
    kim = staff_page("l.kim@example.org")
    kim.goto(f"/intake/patients/{grace.pk}/")
    kim.get_by_role("heading", name="Grace Liu").wait_for()
    kim.get_by_role("heading", name="Pain over the course").wait_for()
    kim.get_by_text("First-step pain:").wait_for()
    check_accessibility(kim)
    screenshot(kim, "patient-chart")

    page = staff_page("manager@example.org")
    page.goto("/manager/")
    page.get_by_role("link", name="Results").first.click()
    page.get_by_role("heading", name="The clinic's results").wait_for()
    outcomes = page.get_by_role("table").filter(has_text="Articles (for reference)")
    assert "Improved pain and mobility" in outcomes.inner_text()
    assert "70%" in outcomes.inner_text()  # the articles' reference line
    assert page.get_by_text("Started in the period", exact=True).is_visible()
    check_accessibility(page)
    screenshot(page, "manager-results")

    # Only Largo, chosen with the keyboard.
    page.get_by_label("Location", exact=True).select_option(label="Largo")
    page.get_by_label("Location", exact=True).focus()
    page.keyboard.press("Tab")  # to the practitioner
    page.keyboard.press("Tab")  # to "Show"
    page.keyboard.press("Enter")
    page.wait_for_url("**location=*")
    page.get_by_role("heading", name="The clinic's results").wait_for()
    assert "Nothing to report" not in page.content()

    # The audit trail, filtered to Grace.
    page.get_by_role("link", name="Access log").first.click()
    page.get_by_role("heading", name="Access log of health information").wait_for()
    check_accessibility(page)
    patient = page.get_by_label("Patient (name or record number)")
    patient.fill("Grace Liu")
    patient.press("Enter")
    page.get_by_text("Access report for Grace Liu").wait_for()
    # Her record's views, changes and exports first; the lists that showed her come after.
    accesses = page.locator("table").first.locator("tbody tr")
    rows = accesses.filter(has_text="Laura Kim")
    assert rows.count() >= 1
    assert "View" in rows.first.inner_text()
    assert accesses.filter(has_text="Liu").count() == accesses.count()  # only Grace's record
    page.get_by_role("heading", name="Shown in lists").wait_for()
    check_accessibility(page)
    screenshot(page, "manager-access-log")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as CSV").click()
    report = open(download.value.path(), encoding="utf-8").read()
    assert "l.kim@example.org" in report and "Grace Liu" in report
    # The export itself is recorded.
    assert AccessLog.objects.filter(
        patient=grace, actor__email="manager@example.org", action=AccessLog.Action.EXPORT
    ).exists()
    no_browser_errors(page)
    no_browser_errors(kim)
