"""Shared personas: the people every feature's tests talk about.

- `location` and `other_location`: two clinics, each with its own staff;
- `patient` (a logged-in patient's record) and `other_patient`;
- `front_desk` (works at `location`) and `front_desk_elsewhere` (works at `other_location`);
- `practitioner` (certified, works at `location`) and `manager`;
- `clinic`: `location` ready to book, with rooms and `practitioner`'s working hours.
Log in with `client.force_login(persona.user)` or the `login` helper.

Time is an input: every test runs at one known instant (see `pytest_configure` below), chosen
with `pytest --at=2027-03-14T06:30:00Z` or `TEST_AT=...`, else `DEFAULT_AT`. Build dates from
`timezone.now()` or a location's `today()`, never from the wall clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os

import pytest
import time_machine
from django.core.management import call_command, get_commands, load_command_class
from django.db import connection, transaction
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import STAFF_ROLES
from tests import worlds
from tests.factories import certified_practitioner

# A Wednesday, 10:00 in Toronto and Maryland: the suite's "now" unless told otherwise.
DEFAULT_AT = "2027-06-09T14:00:00Z"


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 instant with its offset (`Z` or `+hh:mm`): a local time without one would
    mean a different instant on every machine."""
    try:
        instant = dt.datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise pytest.UsageError(f"--at/TEST_AT: {text!r} is not an ISO 8601 instant") from error
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--at/TEST_AT: {text!r} needs an offset, e.g. Z or -05:00")
    return instant.astimezone(dt.UTC)


def pytest_addoption(parser):
    parser.addoption(
        "--at",
        default=None,
        metavar="INSTANT",
        help="run every test at this instant (ISO 8601 with offset, e.g. 2027-03-14T06:30:00Z); "
        f"also TEST_AT; default {DEFAULT_AT}",
    )


def pytest_configure(config):
    text = config.getoption("--at") or os.environ.get("TEST_AT") or DEFAULT_AT
    config.test_instant = parse_instant(text)
    # From here on (collection and import time included) the clock reads the chosen instant;
    # each test and each module- or session-wide fixture starts again from it (below).
    config.test_clock = time_machine.travel(config.test_instant, tick=True)
    config.test_clock.start()


def pytest_unconfigure(config):
    clock = getattr(config, "test_clock", None)
    if clock is not None:
        clock.stop()


def _replay_line(config) -> str:
    at = config.test_instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"Tests run at {at} (replay: pytest --at={at} or TEST_AT={at})"


def pytest_sessionstart(session):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(_replay_line(session.config))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(_replay_line(config))


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """A world built once per module or session is built at the instant too, not minutes
    after it."""
    if fixturedef.scope == "function":
        return (yield)
    with time_machine.travel(request.config.test_instant, tick=True):
        return (yield)


@pytest.fixture(autouse=True)
def _at_the_instant(request, time_machine):
    """Each test starts at the suite's instant, with the clock ticking from there. A test that
    cares about another time moves the same `time_machine` (or uses its marker)."""
    if request.node.get_closest_marker("time_machine") is None:
        time_machine.move_to(request.config.test_instant, tick=True)


@pytest.fixture
def test_instant(request) -> dt.datetime:
    """The instant the suite runs at (UTC)."""
    return request.config.test_instant


class VerifiedClient(Client):
    """A test client whose `force_login` also gives the second factor for staff, as a real
    login would after the authenticator code. Tests of two-step login itself use a plain
    `django.test.Client`."""

    def force_login(self, user, backend=None):
        super().force_login(user, backend)
        if user.role in STAFF_ROLES or user.is_superuser:
            device = TOTPDevice.objects.filter(
                user=user, confirmed=True
            ).first() or TOTPDevice.objects.create(
                user=user, name="Authenticator app", confirmed=True
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


def csv_rows(response) -> list[list[str]]:
    """The rows of a streamed CSV download."""
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def raw_sql(sql: str, params=()) -> None:
    """SQL run past the models, in a savepoint of its own: what the database itself refuses."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def command_output(name: str, *args) -> str:
    """What `manage.py <name> <args>` writes to its standard output."""
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def command_help(name: str) -> str:
    """The help text of the management command `name` (what `manage.py help <name>` starts with)."""
    return load_command_class(get_commands()[name], name).help


def messages_said(response) -> str:
    """The messages a page showed (after a redirect, with `follow=True`), as one text to search."""
    return " ".join(str(m) for m in response.context["messages"])


@pytest.fixture
def client():
    return VerifiedClient()


@pytest.fixture
def location(db):
    return worlds.leaside()


@pytest.fixture
def other_location(db):
    return worlds.rockville()


@pytest.fixture
def patient(location):
    return worlds.jordan(location)


@pytest.fixture
def other_patient(other_location):
    return worlds.casey(other_location)


@pytest.fixture
def front_desk(location):
    return worlds.ava(location)


@pytest.fixture
def front_desk_elsewhere(other_location):
    return worlds.keisha(other_location)


@pytest.fixture
def practitioner(location):
    return certified_practitioner(locations=[location])


@pytest.fixture
def manager(db):
    return worlds.helen()


@pytest.fixture
def clinic(location, practitioner):
    """`location` open Mon–Sat 8–18 with two rooms; `practitioner` (certified) works Mon–Fri 9–17
    (see tests/booking/factories.py)."""
    from tests.booking.factories import a_clinic

    return a_clinic(location=location, practitioner=practitioner)


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup, django_db_blocker):
    """`seed_demo`'s story, seeded once for the module that asks for it (each test's changes are
    rolled back; the story itself at the end of the module)."""
    with worlds.built_once(django_db_blocker):
        call_command("seed_demo")
        yield


@pytest.fixture
def login(client):
    """`login(user)` logs the test client in as `user` and returns the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def address(urls):
    """`address(name)`: a page's address, for an access table (tests/access_matrix.py) whose
    module writes each page's address in a `urls` fixture; a module that builds its addresses
    otherwise gives its own `address`."""
    return urls.__getitem__
