"""Every read or write of a patient's records through the API is in the access log, as the
client (its own account, role `api_client`), with the caller's address."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.urls import reverse

from booking.models import Appointment
from clinic.audit import record_access, record_label
from clinic.models import AccessLog, Patient, Role, User
from intake.questionnaire.models import Intake
from tests.booking.conftest import next_weekday
from tests.booking.factories import an_appointment
from tests.conftest import csv_rows
from tests.intake.factories import submitted_intake


def _rows(api):
    return AccessLog.objects.filter(actor=api.client.account).order_by("id")


def test_reads_are_logged_as_the_client(api_client_for, clinic, patient):
    api = api_client_for(
        scopes="system/Patient.read system/Appointment.read system/QuestionnaireResponse.read",
        locations=[clinic.location],
    )
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    intake = submitted_intake(patient)
    api.get(f"/fhir/Patient/{patient.pk}")
    api.get(f"/fhir/Appointment/{appointment.pk}")
    api.get(f"/fhir/QuestionnaireResponse/{intake.pk}")
    rows = list(_rows(api))
    assert [(r.record_type, r.record_id, r.action) for r in rows] == [
        (record_label(Patient), str(patient.pk), "view"),
        (record_label(Appointment), str(appointment.pk), "view"),
        (record_label(Intake), str(intake.pk), "view"),
    ]
    assert {r.actor_role for r in rows} == {"api_client"}
    assert {r.patient_id for r in rows} == {patient.pk}
    assert rows[0].ip_address == "127.0.0.1"


def test_an_update_that_changes_nothing_is_logged_as_the_read_it_answers(
    api_client_for, clinic, patient
):
    # Asking for the status it already has answers with the appointment as it stands.
    api = api_client_for(
        scopes="system/Appointment.read system/Appointment.write", locations=[clinic.location]
    )
    appointment = an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    unchanged = [{"op": "replace", "path": "/status", "value": "booked"}]
    response = api.call("PATCH", f"/fhir/Appointment/{appointment.pk}", unchanged)
    assert response.status_code == 200 and response.fhir["id"] == str(appointment.pk)
    [row] = _rows(api)
    assert (row.patient_id, row.record_id, row.action) == (patient.pk, str(appointment.pk), "view")


def test_searches_log_each_patient_shown_once(api_client_for, clinic, patient):
    api = api_client_for(scopes="system/Appointment.read", locations=[clinic.location])
    for week in (1, 2, 3):
        an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10, weeks_ahead=week))
    api.get("/fhir/Appointment")
    [row] = _rows(api)
    assert (row.patient_id, row.action, row.record_type) == (
        patient.pk,
        "list",
        record_label(Appointment),
    )


def test_a_search_with_nothing_found_logs_nothing(api_client_for, clinic):
    api = api_client_for(scopes="system/Patient.read", locations=[clinic.location])
    api.get("/fhir/Patient?family=Nobody")
    assert not _rows(api).exists()


def test_the_appointment_search_takes_a_fixed_number_of_queries(
    api_client_for, clinic, patient, django_assert_num_queries
):
    api = api_client_for(scopes="system/Appointment.read", locations=[clinic.location])
    an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))
    api.get("/fhir/Location")  # the minute's first request also clears the earlier minutes
    # token (with the client's locations), rate count, count, page, access log
    with django_assert_num_queries(5):
        api.get("/fhir/Appointment")
    for week in (2, 3, 4, 5):
        an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10, weeks_ahead=week))
    with django_assert_num_queries(5):
        api.get("/fhir/Appointment")


def test_the_managers_access_log_page_names_the_client(
    api_client_for, clinic, patient, login, manager
):
    api = api_client_for(scopes="system/Patient.read", locations=[clinic.location], name="insurer")
    api.get(f"/fhir/Patient/{patient.pk}")
    page = login(manager).get("/manager/access-log/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<td>API client</td>" in text and "insurer" in text


# --- Filtering the log by client ----------------------------------------------------------------


def test_a_manager_filters_the_access_log_by_api_client(
    login, manager, front_desk, api_client_for, clinic, patient
):
    insurer = api_client_for(
        name="insurer", scopes="system/Patient.read", locations=[clinic.location]
    )
    insurer.get(f"/fhir/Patient/{patient.pk}")
    record_access(actor=front_desk, patient=patient, record=patient)
    desk = login(manager)
    account = insurer.client.account
    page = desk.get(reverse("clinic:access_log"))
    # Choosable, as the client it is (not as a patient), after the staff.
    choices = [label for _, label in page.context["form"].fields["actor"].choices]
    assert "API client: insurer" in choices
    assert choices.index("API client: insurer") > choices.index(
        f"{front_desk.full_name} (Front desk)"
    )
    assert not any("insurer (Patient)" in label for label in choices)
    filtered = desk.get(reverse("clinic:access_log"), {"actor": account.pk})
    assert filtered.context["form"].is_valid()
    assert [row.actor for row in filtered.context["page"]] == [account]
    assert ">API client: insurer</a>" in filtered.content.decode()
    # The posted filter comes back as the same address.
    posted = desk.post(reverse("clinic:access_log"), {"actor": account.pk})
    assert posted.url == f"{reverse('clinic:access_log')}?actor={account.pk}"
    exported = csv_rows(
        desk.get(reverse("clinic:access_log"), {"actor": account.pk, "format": "csv"})
    )
    assert [(row[1], row[2], row[7]) for row in exported[1:]] == [
        ("API client: insurer", "api_client", "view")
    ]


def test_a_clients_account_is_made_as_an_api_client_that_never_logs_in(api_client_for, clinic):
    account = api_client_for(locations=[clinic.location]).client.account
    assert (account.role, account.is_active, account.is_patient) == (Role.API_CLIENT, False, False)
    account.is_active = True
    with pytest.raises(IntegrityError), transaction.atomic():
        account.save()


def test_accounts_of_clients_made_before_are_marked_as_api_clients(api_client_for, clinic):
    account = api_client_for(locations=[clinic.location]).client.account
    User.objects.filter(pk=account.pk).update(role=Role.PATIENT)
    marking = importlib.import_module(
        "booking.api.migrations.0002_client_accounts_marked_as_api_clients"
    )
    marking.mark(django_apps, None)
    account.refresh_from_db()
    assert (account.role, account.is_active) == (Role.API_CLIENT, False)
