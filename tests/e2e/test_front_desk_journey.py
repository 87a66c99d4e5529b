"""Journey 2: the front desk, on the counter tablet (1024 px), runs the day: the schedule with
its badges from the real intake, a phone booking from a free time on the grid (in a panel on
the same page), moving it by drag and drop, the online request to confirm, and a check-in
refused for an out-of-date consent until the patient signs the current one on the tablet, the
check-out of a session paid ahead, and a balance paid at the desk with its receipt emailed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.availability import SlotQuery, aware
from booking.billing.models import SessionDrawdown
from booking.desk.grid import clock
from booking.models import Appointment, Notification, Status
from booking.selectors import load_availability
from clinic.models import Location, Patient, Practitioner, Service, User
from tests.e2e.conftest import (
    TABLET,
    check_accessibility,
    next_visit_moved_to_within_the_hour,
    no_browser_errors,
    screenshot,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _marcus_comes_in_now() -> Appointment:
    """Marcus Reid (signed only the older needling consent) has his next session at Rockville
    moved to within the hour, whatever the day of the week, so that check-in is open."""
    return next_visit_moved_to_within_the_hour(patient__last_name="Reid")


def _free_for_an_assessment(
    day: dt.date,
    patient_last_name: str,
    *,
    away_from: dt.datetime | None = None,
    moving: Appointment | None = None,
) -> dt.datetime:
    """The first time on `day` at Leaside (other than `away_from`), on the hour or
    half hour, when Priya and the patient are free for a whole initial assessment (`moving`
    left out). The demo's week is laid out from "now", so which hours are free depends on the
    day the suite runs (at 8:00 on some days only 45 minutes are)."""
    location = Location.objects.get(slug="leaside")
    priya = Practitioner.objects.get(user__first_name="Priya")
    service = Service.objects.get(name="Initial assessment")
    start = aware(day, dt.time.min, location.zone)
    availability = load_availability(
        location=location,
        window_start=start,
        window_end=start + dt.timedelta(days=1),
        service=service,
        practitioner_ids=[priya.pk],
        patient=Patient.objects.get(last_name=patient_last_name),
        ignore_appointment_ids=(moving.pk,) if moving else (),
    )
    query = SlotQuery(
        window_start=start,
        window_end=start + dt.timedelta(days=1),
        length=dt.timedelta(minutes=service.default_minutes),
        now=timezone.now(),
        for_patient=False,
    )
    return next(
        slot.starts_at
        for slot in availability.slots(query, [priya.pk])
        if slot.starts_at.astimezone(location.zone).minute in (0, 30)
        and (away_from is None or abs(slot.starts_at - away_from) >= dt.timedelta(minutes=30))
    )


def _drag_to(page, appointment: Appointment, starts_at: dt.datetime) -> None:
    """Drag the appointment's box (taken by its middle) so that its top lands at `starts_at`
    in Priya's column. The drag events are dispatched, with a real DataTransfer and the
    pointer's positions, because the grid scrolls inside the page and a pointer cannot scroll
    it while dragging; what the page does with them is what it does for a mouse."""
    box = page.locator(f'.sched-appt[data-move$="/{appointment.pk}/move/drop/"]')
    column = page.locator(".sched-col", has=page.get_by_role("heading", name="Priya Raman"))
    body = column.locator(".sched-body")
    rows = int(body.get_attribute("data-rows"))
    first = int(body.get_attribute("data-first-minute"))
    local = starts_at.astimezone(Location.objects.get(slug="leaside").zone)
    taken = box.bounding_box()
    grid = body.bounding_box()
    grab = taken["height"] / 2
    row_height = grid["height"] / rows
    drop_y = grid["y"] + (local.hour * 60 + local.minute - first) / 5 * row_height + grab
    data = page.evaluate_handle("() => new DataTransfer()")
    box.dispatch_event("dragstart", {"dataTransfer": data, "clientY": taken["y"] + grab})
    body.dispatch_event("dragover", {"dataTransfer": data, "clientY": drop_y})
    body.dispatch_event("drop", {"dataTransfer": data, "clientY": drop_y})
    box.dispatch_event("dragend", {"dataTransfer": data})


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
    marcus = _marcus_comes_in_now()
    page = open_page(TABLET)
    _log_in(page, "frontdesk@example.org")
    page.get_by_role("link", name="Schedule").first.click()
    page.get_by_role("link", name="Leaside", exact=True).click()
    leaside = page.url

    # The week, with no week chosen (the working week): seven days side by side on the
    # tablet, none cut off or scrolled out of sight.
    page.get_by_role("link", name="Week", exact=True).click()
    page.get_by_role("heading", name="Leaside · week of").wait_for()
    box = page.evaluate(
        "() => { const t = document.querySelector('.week-table');"
        " const box = t.parentElement.getBoundingClientRect();"
        " return {table: t.scrollWidth, box: t.parentElement.clientWidth,"
        " right: box.right, window: document.documentElement.clientWidth,"
        " days: t.querySelectorAll('thead th').length}; }"
    )
    assert box["days"] == 8 and box["table"] <= box["box"] and box["right"] <= box["window"], box
    check_accessibility(page)
    screenshot(page, "front-desk-week")

    # The day of the flagged patient's assessment (the next working day): her badges, and
    # free time to book.
    day = next(
        a.local_starts_at.date()
        for a in Appointment.objects.filter(patient__last_name="Park").select_related("location")
    )
    page.goto(f"{leaside}?date={day.isoformat()}")
    page.get_by_text("Flagged for review").first.wait_for()
    check_accessibility(page)
    screenshot(page, "front-desk-day")

    # Ellen's block: her intake waits for the practitioner's review; the screening answers
    # themselves are for the practitioner, not the front desk (minimum necessary).
    page.get_by_role("link", name="Ellen Park").first.click()
    page.get_by_text("Flagged for review").first.wait_for()
    assert page.get_by_text("Fear of needles").count() == 0
    check_accessibility(page)
    page.get_by_role("link", name="Back to the day").click()

    # A phone call: book a free time with Priya for Robert Côté.
    free = _free_for_an_assessment(day, "Côté")
    when = clock(free.astimezone(Location.objects.get(slug="leaside").zone))
    day_url = page.url
    page.get_by_role("link", name=f"Book {when} with Priya Raman").click()
    panel = page.get_by_role("dialog")
    panel.get_by_label("Name, phone or email").fill("cote")
    panel.get_by_label("Name, phone or email").press("Enter")
    panel.get_by_role("link", name="Book for Robert").wait_for()
    check_accessibility(page)
    panel.get_by_role("link", name="Book for Robert").click()
    panel.get_by_role("button", name="Book this time").first.wait_for()
    check_accessibility(page)
    panel.get_by_role("button", name="Book this time").first.press("Enter")
    page.get_by_text("Booked: Robert Côté").wait_for()
    robert = Appointment.objects.filter(patient__last_name="Côté").latest("created_at")
    assert robert.starts_at == free
    assert page.url == day_url and not panel.is_visible()  # booked without leaving the day

    # Robert asks for later that day: drag his box down the column; the panel asks first.
    later = _free_for_an_assessment(day, "Côté", away_from=free, moving=robert)
    _drag_to(page, robert, later)
    panel.get_by_text("Move Robert Côté's appointment?").wait_for()
    check_accessibility(page)
    panel.get_by_role("button", name="Move it").click()
    page.get_by_text("Moved to").wait_for()
    robert.refresh_from_db()
    assert robert.starts_at == later
    assert robert.events.filter(kind="moved").exists()

    # The online request: confirm it from the queue.
    page.get_by_role("link", name="Requests").first.click()
    check_accessibility(page)
    page.get_by_role("button", name="Confirm Nadia Haddad's request").click()
    page.get_by_text("Confirmed: Nadia Haddad").wait_for()
    assert Appointment.objects.get(patient__last_name="Haddad").status == Status.CONFIRMED
    no_browser_errors(page)

    # Rockville's counter: Marcus arrives; his consent is an older version.
    counter = open_page(TABLET)
    _log_in(counter, "frontdesk.md@example.org")
    counter.goto(f"/appointments/{marcus.pk}/")
    counter.get_by_text("has not signed the current consent").wait_for()
    check_accessibility(counter)
    counter.get_by_role("button", name="Check in").click()
    counter.get_by_text("has not signed the current version").wait_for()
    assert Appointment.objects.get(pk=marcus.pk).status == Status.CONFIRMED
    counter.get_by_role("link", name="Sign the consent at the counter").click()
    counter.get_by_role("heading", name="Consent for Marcus Reid").wait_for()
    for box in counter.locator("input[type=checkbox][name^=agree_]").all():
        box.check()
    counter.get_by_label("Type your full name to sign").fill("Marcus Reid")
    counter.get_by_role("button", name="Sign").click()
    counter.get_by_text("Please hand the tablet back").wait_for()
    counter.get_by_role("link", name="Back to the appointment to check Marcus in").click()
    check_in = counter.get_by_role("button", name="Check in")
    check_in.focus()
    counter.keyboard.press("Enter")
    counter.get_by_text("Marcus Reid is checked in.").wait_for()
    assert Appointment.objects.get(pk=marcus.pk).status == Status.CHECKED_IN

    # Check-out after the session, in one step: his course was paid ahead, so the session is
    # drawn from the package and there is nothing to pay.
    counter.get_by_text("drawn from the course's package").wait_for()
    check_accessibility(counter)
    counter.get_by_role("button", name="Check out").click()
    counter.get_by_text("session is drawn from the course's package").wait_for()
    assert Appointment.objects.get(pk=marcus.pk).status == Status.COMPLETED
    assert SessionDrawdown.objects.filter(appointment=marcus).exists()
    no_browser_errors(counter)

    # Back at Leaside: Jordan pays the late-cancellation fee he owes, in cash, and gets the
    # receipt by email.
    jordan = Patient.objects.get(last_name="Miles")
    page.goto(f"/patients/{jordan.pk}/account/")
    page.get_by_text("Balance due").first.wait_for()
    page.get_by_role("link", name=re.compile(r"^LEA-")).first.click()
    check_accessibility(page)
    page.get_by_label("Amount").fill("40.00")
    page.get_by_label("Paid by").select_option("cash")
    page.get_by_role("button", name="Record the payment").click()
    page.get_by_text("Payment of 40.00 CAD recorded.").wait_for()
    page.get_by_text("Paid", exact=True).first.wait_for()
    assert Notification.objects.filter(patient=jordan, kind=Notification.Kind.RECEIPT).exists()
    screenshot(page, "front-desk-invoice")
    no_browser_errors(page)
