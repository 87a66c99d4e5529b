"""Settings come from the environment and fail loudly on bad values; production is safe by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import env_bool, env_int, env_list, load_dotenv

ROOT = Path(__file__).resolve().parents[2]


def test_typed_readers_refuse_values_they_cannot_read(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG must be true or false"):
        env_bool("SOME_FLAG", False)
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="whole number"):
        env_int("SOME_NUMBER", 1)
    monkeypatch.setenv("SOME_LIST", "a.org, b.org,")
    assert env_list("SOME_LIST", []) == ["a.org", "b.org"]


def test_a_dotenv_file_never_overrides_the_real_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FROM_ENV", "real")
    monkeypatch.delenv("FROM_FILE", raising=False)
    (tmp_path / ".env").write_text('# comment\nFROM_ENV=file\nexport FROM_FILE="yes"\n')
    load_dotenv(tmp_path / ".env")
    assert os.environ["FROM_ENV"] == "real"
    assert os.environ["FROM_FILE"] == "yes"
    monkeypatch.delenv("FROM_FILE")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="false", ALLOWED_HOSTS="booking.example.org")
    assert result.returncode != 0
    assert "Set the environment variable SECRET_KEY" in result.stderr


def test_the_deployment_checklist_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 64 + "-production-like-secret",
        ALLOWED_HOSTS="booking.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_emails_come_from_the_clinic_by_its_name_unless_a_sender_is_set():
    def sender(**env: str) -> str:
        result = _manage(
            "shell",
            "-c",
            "from django.conf import settings; print(settings.DEFAULT_FROM_EMAIL)",
            **env,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    environ = {"DEFAULT_FROM_EMAIL": "", "CLINIC_NAME": ""}
    assert sender(**environ) == "Stride Clinics <appointments@example.org>"
    environ["CLINIC_NAME"] = "Heel Clinics West"
    assert sender(**environ) == "Heel Clinics West <appointments@example.org>"
    environ["DEFAULT_FROM_EMAIL"] = "Front desk <desk@example.org>"
    assert sender(**environ) == "Front desk <desk@example.org>"


def test_a_clinic_name_with_a_comma_is_still_one_sender():
    """'Smith, Jones Physiotherapy' written bare before the address reads as two addresses, the
    first without its domain: every email failed to be sent. The name is quoted as needed."""
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; from django.core.mail.message import "
        "sanitize_address; print(sanitize_address(settings.DEFAULT_FROM_EMAIL, 'utf-8'))",
        DEFAULT_FROM_EMAIL="",
        CLINIC_NAME="Smith, Jones Physiotherapy (Leaside)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '"Smith, Jones Physiotherapy (Leaside)" <appointments@example.org>'
    )
