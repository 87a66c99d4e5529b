"""`python manage.py run_with_worker`: `make run`'s server with the email worker beside it.

No server or worker is started: `subprocess.Popen` is replaced by a fake that records what
would have run and how it was stopped.
"""

from __future__ import annotations

import signal
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from booking.management.commands import run_with_worker
from booking.notifications import links
from tests.conftest import command_help


class FakeProcess:
    started: list[FakeProcess] = []

    def __init__(self, args, env):
        self.args, self.env = args, env
        self.returncode = None
        self.terminated = self.killed = False
        self.started.append(self)

    @property
    def command(self) -> str:
        return self.args[2]

    def poll(self):
        return self.returncode

    def wait(self, timeout=None):
        if self.command == "runserver" and self.returncode is None:
            self.returncode = self.exits_with
        if self.returncode is None and timeout is not None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def terminate(self):
        self.terminated = True
        if not getattr(self, "ignores_sigterm", False):
            self.returncode = -signal.SIGTERM

    def kill(self):
        self.killed = True
        self.returncode = -signal.SIGKILL


@pytest.fixture
def processes(monkeypatch, settings):
    settings.DEBUG = True
    settings.SITE_URL = ""
    monkeypatch.delenv("SITE_URL", raising=False)
    FakeProcess.started = []
    FakeProcess.exits_with = 0
    monkeypatch.setattr(run_with_worker.subprocess, "Popen", FakeProcess)
    return FakeProcess


def _started(processes) -> dict[str, FakeProcess]:
    return {process.command: process for process in processes.started}


def test_it_has_a_help_text_saying_what_it_runs():
    help_text = command_help("run_with_worker")
    assert "runserver" in help_text and "send_notifications --loop" in help_text


def test_it_serves_the_app_and_runs_the_worker_beside_it(processes):
    call_command("run_with_worker")
    started = _started(processes)
    assert started["send_notifications"].args[2:] == ["send_notifications", "--loop"]
    assert started["runserver"].args[2:] == ["runserver", "127.0.0.1:8000"]
    assert all(p.args[1].endswith("manage.py") for p in processes.started)


def test_when_the_server_stops_the_worker_is_stopped(processes):
    call_command("run_with_worker", "8001")
    worker = _started(processes)["send_notifications"]
    assert worker.terminated and not worker.killed


def test_a_worker_that_will_not_stop_is_killed(processes, monkeypatch):
    monkeypatch.setattr(run_with_worker, "STOP_SECONDS", 0)
    monkeypatch.setattr(FakeProcess, "ignores_sigterm", True, raising=False)
    call_command("run_with_worker")
    assert _started(processes)["send_notifications"].killed


def test_ctrl_c_stops_the_server_and_the_worker_quietly(processes, monkeypatch):
    def interrupted(self, timeout=None):
        if self.command == "runserver" and self.returncode is None:
            self.returncode = 0  # the server heard the Ctrl-C too, and stops
            raise KeyboardInterrupt
        return self.returncode

    monkeypatch.setattr(FakeProcess, "wait", interrupted)
    call_command("run_with_worker")
    assert _started(processes)["send_notifications"].terminated


def test_a_server_that_fails_to_start_stops_the_worker_and_says_so(processes):
    processes.exits_with = 1  # e.g. "That port is already in use."
    with pytest.raises(CommandError, match="exit status 1"):
        call_command("run_with_worker")
    assert _started(processes)["send_notifications"].terminated


def test_it_refuses_an_address_runserver_would_refuse(processes):
    with pytest.raises(CommandError, match="not a valid port number"):
        call_command("run_with_worker", "localhost:http")
    assert processes.started == []


@pytest.mark.parametrize(
    "addrport, site",
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("8001", "http://127.0.0.1:8001"),
        ("localhost:9000", "http://localhost:9000"),
        ("0.0.0.0:8002", "http://127.0.0.1:8002"),
        ("[::1]:8003", "http://[::1]:8003"),
    ],
)
def test_in_development_links_in_emails_use_the_address_served(processes, addrport, site):
    call_command("run_with_worker", addrport)
    assert {p.env["SITE_URL"] for p in processes.started} == {site}


def test_the_default_address_is_the_one_links_use_without_the_command(settings):
    settings.DEBUG = True
    settings.SITE_URL = ""
    assert run_with_worker.served_at(run_with_worker.DEFAULT_ADDRPORT) == links.site_url()
    assert links.absolute("/appointments/") == "http://127.0.0.1:8000/appointments/"


def test_a_configured_site_url_is_kept(processes, settings, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://dev.example.org")
    settings.SITE_URL = "https://dev.example.org"
    call_command("run_with_worker", "8001")
    assert {p.env["SITE_URL"] for p in processes.started} == {"https://dev.example.org"}


def test_with_debug_off_no_site_url_is_made_up(processes, settings):
    settings.DEBUG = False
    call_command("run_with_worker")
    assert all("SITE_URL" not in p.env for p in processes.started)
