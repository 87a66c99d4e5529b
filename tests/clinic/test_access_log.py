"""The access log of health information: one row per access, and no way to change it."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from clinic.audit import record_access
from clinic.models import AccessLog

pytestmark = pytest.mark.django_db


def test_it_records_who_did_what_to_whose_record_from_where(front_desk, patient):
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9")
    row = record_access(actor=front_desk, patient=patient, record=patient, request=request)
    row.refresh_from_db()
    assert (row.actor, row.actor_role, row.patient) == (front_desk, "front_desk", patient)
    assert (row.record_type, row.record_id) == ("clinic.patient", str(patient.pk))
    assert row.action == "view"
    assert row.ip_address == "203.0.113.9"


@pytest.mark.parametrize(
    "sql",
    ["UPDATE clinic_accesslog SET action = 'change'", "DELETE FROM clinic_accesslog"],
)
def test_the_database_refuses_to_change_or_remove_a_row(front_desk, patient, sql):
    record_access(actor=front_desk, patient=patient, record=patient)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AccessLog.objects.filter(action="view").count() == 1


def _logged(n, actor, patient):
    for _ in range(n):
        record_access(actor=actor, patient=patient, record=patient)


def test_managers_see_the_log_filtered_by_patient_and_by_staff_member(
    login, manager, front_desk, practitioner, patient, other_patient, django_assert_max_num_queries
):
    _logged(3, front_desk, patient)
    _logged(2, practitioner.user, other_patient)
    client = login(manager)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("clinic:access_log"), {"patient": patient.pk})
    assert page.context["page"].paginator.count == 3
    assert patient.full_name in page.content.decode()
    by_staff = client.get(reverse("clinic:access_log"), {"actor": practitioner.user.pk})
    assert by_staff.context["page"].paginator.count == 2
    by_name = client.post(
        reverse("clinic:access_log"), {"patient": other_patient.last_name.upper()}, follow=True
    )
    assert by_name.context["page"].paginator.count == 2


def test_a_patients_access_report_exports_as_csv_and_is_itself_logged(
    login, manager, front_desk, patient
):
    _logged(2, front_desk, patient)
    response = login(manager).get(
        reverse("clinic:access_log"), {"patient": patient.pk, "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["time (UTC)", "staff or user", "role"]
    # Newest first: the export itself, then the two views.
    assert [(r[1], r[7]) for r in rows[1:]] == [
        (manager.email, "export"),
        (front_desk.email, "view"),
        (front_desk.email, "view"),
    ]


@pytest.mark.parametrize(
    "damaged",
    [
        {"date_from": "2027-05-01", "date_to": "2027-01-01"},  # the end before the start
        {"date_from": "2027-02-30"},
        {"actor": "999999"},  # no such staff member
    ],
)
def test_an_access_report_with_damaged_filters_is_refused_not_widened_to_the_whole_log(
    login, manager, front_desk, patient, other_patient, damaged
):
    _logged(1, front_desk, patient)
    _logged(1, front_desk, other_patient)
    response = login(manager).get(
        reverse("clinic:access_log"), {"patient": patient.pk, **damaged, "format": "csv"}
    )
    assert response.status_code == 400
    assert b"Nothing was exported" in response.content
    assert not AccessLog.objects.filter(action="export").exists()


def test_only_managers_open_the_log(login, front_desk):
    assert login(front_desk).get(reverse("clinic:access_log")).status_code == 403


def test_a_reversed_period_gets_a_message(login, manager):
    page = login(manager).get(
        reverse("clinic:access_log"), {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert "must be after its start" in page.content.decode()


def test_a_name_that_finds_one_patient_gives_their_access_report(
    login, manager, front_desk, patient, other_patient
):
    _logged(2, front_desk, patient)
    _logged(1, front_desk, other_patient)
    client = login(manager)
    # Case and word order forgiven; one patient found: their report.
    words = f"{patient.last_name.lower()} {patient.first_name.upper()}"
    url = reverse("clinic:access_log")
    page = client.post(url, {"patient": words}, follow=True)
    assert page.context["patient"] == patient
    assert page.context["page"].paginator.count == 2
    # The name was posted; the address it leads to holds the record number only.
    assert page.redirect_chain == [(f"{url}?patient={patient.pk}", 302)]
    exported = client.post(url, {"patient": words, "format": "csv"}, follow=True)
    assert exported.redirect_chain[-1][0] == f"{url}?patient={patient.pk}&format=csv"
    assert AccessLog.objects.filter(patient=patient, action="export").count() == 1
    # Text found in both names (Miles, Casey): all their rows, and no single report.
    shared = client.post(url, {"patient": "e"}, follow=True)
    assert shared.context["patient"] is None
    assert shared.context["page"].paginator.count == 4  # three views and the export
    nobody = client.post(url, {"patient": "Nobody Here"}, follow=True)
    assert nobody.context["page"].paginator.count == 0
    assert "No entries for a patient with that name" in nobody.content.decode()


def test_opening_and_saving_a_patient_in_the_admin_is_in_the_log(login, manager, patient):
    client = login(manager)
    url = reverse("admin:clinic_patient_change", args=[patient.pk])
    page = client.get(url)
    assert page.status_code == 200
    viewed = AccessLog.objects.get(actor=manager, patient=patient)
    assert (viewed.action, viewed.record_type, viewed.record_id) == (
        "view",
        "clinic.patient",
        str(patient.pk),
    )
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data |= {"phone": "416-555-0199", "locations": [loc.pk for loc in patient.locations.all()]}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(
        AccessLog.objects.filter(actor=manager, patient=patient).values_list("action", flat=True)
    ) == ["change", "view"]


@pytest.mark.parametrize("typed", ["²", "١٢", "3,²", "99999999999999999999"])
def test_odd_digits_in_the_patient_filter_are_a_name_not_an_error(login, manager, typed):
    client = login(manager)
    assert client.get(reverse("clinic:access_log"), {"patient": typed}).status_code == 200
    assert (
        client.post(reverse("clinic:access_log"), {"patient": typed}, follow=True).status_code
        == 200
    )


def test_a_name_shared_by_too_many_patients_says_the_log_is_cut(login, manager):
    from clinic.views.access_log import NAMED_PATIENTS_AT_MOST
    from tests.factories import PatientFactory

    PatientFactory.create_batch(
        NAMED_PATIENTS_AT_MOST + 1, user=None, first_name="Sam", last_name="Lee", email=""
    )
    page = login(manager).post(reverse("clinic:access_log"), {"patient": "lee"}, follow=True)
    address = page.redirect_chain[0][0]
    assert address.count("%2C") == NAMED_PATIENTS_AT_MOST - 1  # commas between the numbers
    assert f"More than {NAMED_PATIENTS_AT_MOST} patients match" in page.content.decode()
