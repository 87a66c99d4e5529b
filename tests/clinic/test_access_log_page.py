"""The access log page in the clinic's words: what was seen, on the clinic's clock, an export as
one entry with its patients, and a filter for clinical records."""

from __future__ import annotations

import ast
from pathlib import Path

from django.apps import apps

from clinic.audit import record_label
from clinic.record_names import RECORD_NAMES

ROOT = Path(__file__).resolve().parents[2]


def _written_record_types() -> set[str]:
    """Every record type the code writes as a literal: `record_type="…"`, or a string handed to
    a logging helper (`record_listed(request, ids, "booking.schedule")`, `_log_export(…)`)."""
    found = set()
    for app in ("clinic", "intake", "booking"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                values = [kw.value for kw in node.keywords if kw.arg == "record_type"]
                if name.startswith(("record_", "_log_")):
                    values += node.args
                found |= {
                    value.value
                    for value in values
                    if isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and value.value.split(".")[0] in {"clinic", "intake", "booking"}
                }
    return found


def _logged_models() -> set[str]:
    """The record types of the models the log can name: every record about one patient (and
    the patient), the amendments of notes, and the calendar feed a practitioner fetches."""
    types = set()
    for model in apps.get_models():
        if model._meta.app_label not in {"clinic", "intake", "booking"}:
            continue
        fields = {field.name for field in model._meta.get_fields()}
        if "patient" in fields or model._meta.model_name in {
            "patient",
            "calendarfeed",
            "assessmentamendment",
            "sessionnoteamendment",
        }:
            types.add(record_label(model))
    return types


def test_every_record_type_the_code_writes_has_a_name_in_the_clinics_words():
    written = _written_record_types() | _logged_models()
    assert {"booking.schedule", "booking.report.outcomes", "intake.treatmentnote"} <= written
    assert written - RECORD_NAMES.keys() == set()
