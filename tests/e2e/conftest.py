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
    """`open_page(viewport)` gives a fresh browser page (its own cookies) at a viewport size."""
    contexts = []

    def _open(viewport=DESK):
        context = browser.new_context(viewport=viewport, base_url=live_server.url, locale="en-CA")
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


def check_accessibility(page) -> None:
    """Run axe-core in the page (served from the app's own origin, so the CSP stays on) and
    fail on any WCAG 2.1 A or AA violation."""
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]
    assert problems == [], f"Accessibility violations on {page.url}:\n" + "\n".join(problems)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def no_browser_errors(page) -> None:
    # A favicon or similar miss is not an error of the page itself.
    errors = [e for e in page.js_errors if "favicon" not in e]
    assert errors == [], errors


def pytest_terminal_summary(terminalreporter):
    for reason in SKIPPED[:1]:
        terminalreporter.write_sep("!", reason, red=True, bold=True)
