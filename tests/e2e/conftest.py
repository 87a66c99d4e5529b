"""Browser journeys: Playwright driving Debian's Chromium against the app served by the test
run itself (pytest-django's live server) on PostgreSQL.

No browser is downloaded at test time. If Chromium is not installed the journeys are
skipped with a loud reason at the end of the run (`apt-get install chromium` to run them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = (
    ROOT / "docs" / "screenshots" if os.environ.get("SCREENSHOTS") else ROOT / "test-artifacts"
)
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}
DESK = {"width": 1280, "height": 900}
SKIPPED: list[str] = []


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = (
            f"BROWSER JOURNEYS SKIPPED: Chromium not found at {CHROMIUM}. Install it with "
            "`apt-get install chromium` (or set CHROMIUM_PATH) to run them."
        )
        SKIPPED.append(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def open_page(browser, live_server):
    """`open_page(viewport, **context_options)` gives a fresh browser page (its own cookies)
    at a viewport size; options go to Playwright's `new_context` (e.g. `timezone_id`)."""
    contexts = []

    def _open(viewport=DESK, **options):
        # Bootstrap drops its transitions for people who ask for less motion: axe then never
        # measures a colour half-way through one (a button fading into its hover colour under
        # the pointer left by the last click read as too little contrast, now and then).
        options.setdefault("reduced_motion", "reduce")
        context = browser.new_context(
            viewport=viewport,
            base_url=live_server.url,
            locale="en-CA",
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.js_errors = errors
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def demo(live_server):
    """The demo clinic (`manage.py seed_demo`) in the live server's database."""
    from django.core.management import call_command

    call_command("seed_demo")


def log_in_as_staff(page, live_server, email: str) -> None:
    """Staff log in with a second factor (its own journey is in tests/e2e/
    test_front_desk_journey.py and tests/clinic): the browser gets a session that has it."""
    from clinic.models import User
    from tests.conftest import VerifiedClient

    client = VerifiedClient()
    client.force_login(User.objects.get(email=email))
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.fixture
def staff_page(open_page, live_server):
    """`staff_page(email, viewport=DESK)`: a fresh page already logged in as that member of
    staff (see `log_in_as_staff`)."""

    def _staff_page(email: str, viewport=DESK, **options):
        page = open_page(viewport, **options)
        log_in_as_staff(page, live_server, email)
        return page

    return _staff_page


def a_patient_ready_to_assess(location, **fields):
    """A patient registered at `location` (also their preferred one) with a submitted
    questionnaire (no safety flags) and the current consents signed; `fields` go to
    PatientFactory (names, email, phone)."""
    from intake.questionnaire.models import ConsentVersion
    from tests.factories import PatientFactory
    from tests.intake.factories import sign, submitted_intake

    patient = PatientFactory(locations=[location], preferred_location=location, **fields)
    submitted_intake(patient)
    sign(patient, list(ConsentVersion.objects.current()))
    return patient


def moved_to_within_the_hour(visit):
    """`visit` moved to start 20 minutes from now, or each half hour later until it is clear (by
    an hour either side) of its practitioner's, its room's and its patient's other bookings:
    check-in is open, whatever the day of the week and the instant the suite runs at."""
    import datetime as dt

    from django.db.models import Q
    from django.utils import timezone

    from booking.models import ACTIVE_STATUSES, Appointment

    length = visit.ends_at - visit.starts_at
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=20)
    while Appointment.objects.filter(
        Q(practitioner=visit.practitioner) | Q(room=visit.room) | Q(patient=visit.patient),
        status__in=ACTIVE_STATUSES,
        starts_at__lt=start + length + dt.timedelta(minutes=60),
        blocks_until__gt=start - dt.timedelta(minutes=60),
    ).exclude(pk=visit.pk):
        start += dt.timedelta(minutes=30)
    visit.starts_at, visit.ends_at = start, start + length
    visit.blocks_until = start + length + dt.timedelta(minutes=visit.location.buffer_minutes)
    visit.save(update_fields=["starts_at", "ends_at", "blocks_until"])
    return visit


def next_visit_moved_to_within_the_hour(**where):
    """The next confirmed visit matching `where` (`patient__last_name="Reid"`, …), moved to
    within the hour by `moved_to_within_the_hour`."""
    from django.utils import timezone

    from booking.models import Appointment, Status

    visit = (
        Appointment.objects.filter(status=Status.CONFIRMED, starts_at__gt=timezone.now(), **where)
        .order_by("starts_at")
        .first()
    )
    return moved_to_within_the_hour(visit)


def start_an_assessment_note(page) -> None:
    """From a patient's chart, start (or resume) an assessment note and check its page."""
    page.get_by_role("link", name="Start or resume an assessment note").click()
    page.get_by_role("button", name="Start the assessment note").click()
    page.get_by_role("heading", name="Assessment note").wait_for()
    check_accessibility(page)


def log_in_as_patient(page, email: str, password: str, at: str | None = "/accounts/login/") -> None:
    """Log in on the login page (`at=None`: on the login page the browser is already on)."""
    if at:
        page.goto(at)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def check_accessibility(page) -> None:
    """Run axe-core in the page (served from the app's own origin, so the CSP stays on) and
    fail on any WCAG 2.1 A or AA violation."""
    from playwright.sync_api import Error as PlaywrightError

    # A click or an Enter that navigates returns before the next page has loaded; axe must
    # check the page the person ends up on, not the one being replaced (under load the old
    # document can vanish mid-check). So wait for the load, and start again if the page
    # changed under the check.
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
            result = page.evaluate(
                "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
                "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
            )
            break
        except PlaywrightError:
            if attempt == 2:
                raise
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]
    assert problems == [], f"Accessibility violations on {page.url}:\n" + "\n".join(problems)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # The schedule grid scrolls inside the window (its height follows the window's): for the
    # picture, a window tall enough to show the whole grid, then the window as it was.
    viewport = page.viewport_size
    hidden = page.evaluate(
        "() => { const s = document.querySelector('.sched');"
        " return s ? s.scrollHeight - s.clientHeight : 0; }"
    )
    if hidden > 0:
        page.set_viewport_size({**viewport, "height": viewport["height"] + hidden})
    # A full-page picture of a long page can take a while on a busy machine: it is a record of
    # the journey, not something it checks, so it gets longer than an action's 15 seconds.
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, timeout=60_000)
    if hidden > 0:
        page.set_viewport_size(viewport)


def no_browser_errors(page) -> None:
    # A favicon or similar miss is not an error of the page itself.
    errors = [e for e in page.js_errors if "favicon" not in e]
    assert errors == [], errors


def pytest_terminal_summary(terminalreporter):
    for reason in SKIPPED[:1]:
        terminalreporter.write_sep("!", reason, red=True, bold=True)
