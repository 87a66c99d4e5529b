"""The access log page in the clinic's words: what was seen, on the clinic's clock, an export as
one entry with its patients, and a filter for clinical records."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest
from django.apps import apps
from django.test import RequestFactory
from django.urls import reverse

from clinic.audit import record_access, record_export, record_label, record_listing
from clinic.models import AccessLog
from clinic.record_names import RECORD_NAMES, record_name
from tests.conftest import csv_rows
from tests.factories import LocationFactory, PatientFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url():
    return reverse("clinic:access_log")


# The apps whose records the log names (booking.billing's app label is "billing").
APPS = frozenset({"clinic", "intake", "booking", "billing"})


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
                    and value.value.split(".")[0] in APPS
                }
    return found


def _logged_models() -> set[str]:
    """The record types of the models the log can name: every record about one patient (and
    the patient), the amendments of notes, and the calendar feed a practitioner fetches."""
    types = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
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
    assert {
        "booking.schedule",
        "booking.report.outcomes",
        "intake.treatmentnote",
        "billing.statement",
    } <= written
    assert written - RECORD_NAMES.keys() == set()


def test_the_record_column_says_what_was_seen(login, manager, practitioner, patient, url):
    record_access(
        actor=practitioner.user, patient=patient, record_type="intake.treatmentnote", record_id=88
    )
    record_access(actor=practitioner.user, patient=patient, record_type="intake.someday")
    page = login(manager).get(url).content.decode()
    note = reverse("intake:session_note_detail", args=[88])
    assert f'<a href="{note}">Session note #88</a>' in page
    assert "intake.treatmentnote #88" not in page
    assert ">intake.someday<" in page  # an unknown type keeps its raw name
    assert record_name("booking.schedule") == "Day schedule"


def test_the_role_column_says_the_role_in_the_clinics_words(
    login, manager, front_desk, patient, url
):
    record_access(actor=front_desk, patient=patient, record=patient)
    record_access(actor=manager, patient=patient, record=patient, actor_role="api_client")
    record_access(actor=None, patient=patient, record=patient)
    AccessLog.objects.create(
        actor=front_desk,
        actor_role="front_desk",
        patient=patient,
        record_type="booking.schedule",
        action=AccessLog.Action.LIST,
    )
    page = login(manager).get(url, {"patient": patient.pk}).content.decode()
    for label in ("Front desk", "API client", "System"):
        assert f"<td>{label}</td>" in page
    # The list rows' table (grouped by who and which list) too.
    assert page.count("<td>Front desk</td>") == 2
    assert "front_desk" not in page and "api_client" not in page


def test_times_show_on_the_patients_clock_with_utc_on_hover(
    login, manager, front_desk, patient, other_patient, settings, time_machine, url
):
    # A summer instant of its own (daylight time on both clocks), whatever the suite's instant.
    test_instant = dt.datetime(2027, 6, 9, 14, tzinfo=dt.UTC)
    time_machine.move_to(test_instant, tick=False)
    settings.CLINIC_TIME_ZONE = "America/Halifax"
    patient.preferred_location = LocationFactory(time_zone="America/Vancouver")
    patient.save()
    record_access(actor=front_desk, patient=patient, record=patient)
    record_access(actor=front_desk, patient=other_patient, record=other_patient)
    client = login(manager)
    page = client.get(url).content.decode()
    utc = f'datetime="{test_instant.isoformat()}" title="{test_instant:%Y-%m-%d %H:%M:%S} UTC"'
    assert f"<time {utc}>{test_instant:%Y-%m-%d} 07:00:00 PDT</time>" in page
    # No preferred location: the clinic's own clock.
    assert f"<time {utc}>{test_instant:%Y-%m-%d} 11:00:00 ADT</time>" in page
    header, *rows = csv_rows(client.get(url, {"format": "csv"}))
    assert (header[0], header[-1]) == ("time (UTC)", "local time")
    local = {row[4]: (row[0], row[-1]) for row in rows}
    assert local[patient.full_name] == ("2027-06-09T14:00:00+00:00", "2027-06-09T07:00:00-07:00")
    assert local[other_patient.full_name][1] == "2027-06-09T11:00:00-03:00"


def test_an_export_is_one_entry_that_lists_its_patients(
    login, manager, patient, other_patient, url, django_assert_max_num_queries
):
    others = PatientFactory.create_batch(16)
    covered = [patient, other_patient, *others]
    request = RequestFactory().get("/")
    request.user = manager
    for _ in range(2):
        record_export(
            request=request,
            patient_ids=[p.pk for p in covered],
            record_type="booking.report.outcomes",
        )
    client = login(manager)
    with django_assert_max_num_queries(8):
        page = client.get(url)
    assert page.context["page"].paginator.count == 2
    html = page.content.decode()
    assert html.count("<details><summary>18 patients</summary>") == 2
    assert html.count("Outcomes export (CSV)") == 2
    assert all(html.count(f'<a href="?patient={p.pk}">{p.full_name}</a>') == 2 for p in covered)
    # Each patient's access report still lists every export that held them.
    report = client.get(url, {"patient": others[0].pk})
    assert [row.record_type for row in report.context["page"]] == [
        "booking.report.outcomes",
        "booking.report.outcomes",
    ]


def test_an_export_of_many_names_the_first_few_and_counts_the_rest(
    login, manager, monkeypatch, url, django_assert_max_num_queries
):
    from clinic.views import access_log

    monkeypatch.setattr(access_log, "EXPORT_NAMES_SHOWN", 5)
    covered = PatientFactory.create_batch(8)
    request = RequestFactory().get("/")
    request.user = manager
    record_export(
        request=request, patient_ids=[p.pk for p in covered], record_type="clinic.accesslog"
    )
    client = login(manager)
    client.get(url)  # the session's first page settles its own queries
    with django_assert_max_num_queries(7):
        page = client.get(url).content.decode()
    assert "Access log export (CSV)" in page
    assert page.count('<li><a href="?patient=') == 5
    assert "and 3 more" in page


def _clinical_and_not(practitioner, front_desk, patient):
    request = RequestFactory().get("/")
    request.user = front_desk
    record_listing(request=request, patient_ids=[patient.pk], record_type="booking.schedule")
    record_listing(request=request, patient_ids=[patient.pk], record_type="intake.intake")
    record_access(actor=front_desk, patient=patient, record=patient)
    by = practitioner.user
    record_access(actor=by, patient=patient, record_type="intake.treatmentnote", record_id=1)
    record_access(actor=by, patient=patient, record_type="intake.assessmentnote", record_id=2)
    record_access(actor=by, patient=patient, record_type="intake.checkin", record_id=3)
    record_access(actor=by, patient=patient, record_type="intake.intake", record_id=4)
    record_access(actor=by, patient=patient, record_type="intake.screening")


def test_clinical_records_only_leaves_out_lists_appointments_and_details(
    login, manager, practitioner, front_desk, patient, url
):
    _clinical_and_not(practitioner, front_desk, patient)
    client = login(manager)
    page = client.post(url, {"clinical": "on"}, follow=True)
    assert page.redirect_chain == [(f"{url}?clinical=1", 302)]
    shown = [row.record_type for row in page.context["page"]]
    assert sorted(shown) == [
        "intake.assessmentnote",
        "intake.checkin",
        "intake.intake",
        "intake.screening",
        "intake.treatmentnote",
    ]
    assert client.get(url).context["page"].paginator.count == 8
    # The same filter in the CSV (the export itself is then its newest row).
    exported = client.post(url, {"clinical": "on", "format": "csv"}, follow=True)
    assert exported.redirect_chain[-1][0] == f"{url}?clinical=1&format=csv"
    _, *rows = csv_rows(exported)
    assert sorted(row[5] for row in rows) == sorted(shown)
    assert AccessLog.objects.filter(action="export", record_type="clinic.accesslog").count() == 1
