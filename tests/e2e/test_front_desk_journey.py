"""Journey 2: the front desk, on the counter tablet (1024 px), runs the day: the schedule with
its badges, a phone booking from a free time on the grid, the online request to confirm, a
check-in refused until the consent is signed — keyboard and plain links only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.models import Appointment, Status
from clinic.models import Patient, User
from tests.booking.conftest import FakeIntake
from tests.e2e.conftest import TABLET, check_accessibility, no_browser_errors, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(live_server, monkeypatch):
    call_command("seed_demo")
    # Intake's side, as booking.gates sees it: Ellen's screening waits for review.
    intake = FakeIntake()
    monkeypatch.setattr("booking.gates.intake_overview", intake.overview)
    monkeypatch.setattr("booking.gates.consent_is_current", intake.consent_is_current)
    intake.record(
        Patient.objects.get(last_name="Park"),
        submitted=True,
        consent_current=True,
        flagged_for_review=True,
        flag_reasons=("Fear of needles",),
    )
    return intake


def _log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("heelpain-demo")
    page.get_by_role("button", name="Log in").click()
    device = TOTPDevice.objects.get(user=User.objects.get(email=email))
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Code").fill(f"{code:0{device.digits}d}")
    page.get_by_role("button", name="Continue").click()


def test_the_front_desk_runs_the_day_on_the_counter_tablet(demo, open_page):
    page = open_page(TABLET)
    _log_in(page, "frontdesk@example.org")
    page.get_by_role("link", name="Schedule").first.click()
    page.get_by_role("link", name="Leaside", exact=True).click()
    leaside = page.url

    # The next working day: the request, the flagged patient and free time to book.
    day = next(
        a.local_starts_at.date()
        for a in Appointment.objects.filter(patient__last_name="Haddad").select_related("location")
    )
    page.goto(f"{leaside}?date={day.isoformat()}")
    page.get_by_text("Flagged for review").first.wait_for()
    check_accessibility(page)
    screenshot(page, "front-desk-day")

    # A phone call: book the free time at 8:00 with Priya for Robert Côté.
    page.get_by_role("link", name="Book 8:00 AM with Priya Raman").click()
    page.get_by_label("Name, phone or email").fill("cote")
    page.get_by_label("Name, phone or email").press("Enter")
    check_accessibility(page)
    page.get_by_role("link", name="Book for Robert").click()
    page.get_by_text("Picked on the schedule").wait_for()
    check_accessibility(page)
    page.get_by_role("button", name="Book this time").first.press("Enter")
    page.get_by_text("Booked: Robert Côté").wait_for()
    robert = Appointment.objects.filter(patient__last_name="Côté").latest("created_at")
    assert robert.local_starts_at.date() == day and robert.local_starts_at.hour == 8

    # The online request: confirm it from the queue.
    page.get_by_role("link", name="Requests").first.click()
    check_accessibility(page)
    page.get_by_role("button", name="Confirm Nadia Haddad's request").click()
    page.get_by_text("Confirmed: Nadia Haddad").wait_for()
    assert Appointment.objects.get(patient__last_name="Haddad").status == Status.CONFIRMED

    # Check-in is refused until the consent is signed; then it goes through. (The demo has
    # Robert at the counter today unless Leaside is closed today.)
    today = Appointment.objects.filter(
        patient__last_name="Côté", starts_at__lt=robert.starts_at
    ).first()
    if today is not None:
        page.goto(f"/appointments/{today.pk}/")
        check_accessibility(page)
        page.get_by_role("button", name="Check in").click()
        page.get_by_text("has not signed the current version").wait_for()
        demo.ready(today.patient)  # signed at the counter
        page.get_by_role("button", name="Check in").click()
        page.get_by_text("Robert Côté is checked in.").wait_for()
    no_browser_errors(page)
