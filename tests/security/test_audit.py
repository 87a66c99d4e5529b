"""An attacker reads patients' records through pages that leave no trace: every page showing a
patient's identity with anything about their care writes the access log. Lists write one row
per patient shown, in one statement, marked as list rows; a patient's access report keeps
them apart so that clinical views are not buried. An export is one entry naming the patients
it covered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.models import Notification, Status, WaitlistEntry
from clinic.audit import record_access
from clinic.models import AccessLog
from tests.booking.factories import AppointmentFactory, assessment_service
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Action = AccessLog.Action


def _local_noon_in_days(location, days: int) -> dt.datetime:
    day = location.today() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(12), tzinfo=location.zone)


@pytest.fixture
def day(location, practitioner):
    """Three patients with appointments at `location` in three days' time (one of them an
    online request waiting for the clinic)."""
    start = _local_noon_in_days(location, 3)
    patients = [
        PatientFactory(user__first_name=name, locations=[location])
        for name in ("Ann", "Ben", "Cleo")
    ]
    appointments = [
        AppointmentFactory(
            location=location,
            practitioner=practitioner,
            patient=patient,
            starts_at=start + dt.timedelta(hours=2 * n),
            status=Status.REQUESTED if n == 0 else Status.CONFIRMED,
        )
        for n, patient in enumerate(patients)
    ]
    return {"date": start.date(), "patients": patients, "appointments": appointments}


def _listed(actor, patients, record_type=None) -> set[int]:
    rows = AccessLog.objects.filter(actor=actor, action=Action.LIST)
    if record_type:
        rows = rows.filter(record_type=record_type)
    return set(rows.values_list("patient_id", flat=True)) & {p.pk for p in patients}


def _inserts_into_the_log(queries) -> int:
    return sum(1 for q in queries if q["sql"].startswith('INSERT INTO "clinic_accesslog"'))


@pytest.mark.parametrize(
    ("name", "arguments", "query"),
    [
        ("booking:location_day", "slug", "date"),
        ("booking:location_day_list", "slug", "date"),
        ("booking:location_week", "slug", "from"),
        ("booking:practitioner_day", "practitioner", "date"),
        ("booking:practitioner_week", "practitioner", "from"),
    ],
)
def test_schedules_log_each_patient_shown_in_one_statement(
    login, front_desk, location, practitioner, day, name, arguments, query
):
    args = [location.slug] if arguments == "slug" else [practitioner.pk]
    url = f"{reverse(name, args=args)}?{query}={day['date'].isoformat()}"
    client = login(front_desk)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert _listed(front_desk, day["patients"]) == {p.pk for p in day["patients"]}
    assert _inserts_into_the_log(queries.captured_queries) == 1


def test_the_requests_queue_logs_the_patients_waiting(login, front_desk, day):
    assert login(front_desk).get(reverse("booking:requests_queue")).status_code == 200
    assert _listed(front_desk, day["patients"]) == {day["patients"][0].pk}


def test_the_waitlist_board_and_adding_to_it_are_logged(login, front_desk, location):
    waiting = PatientFactory(locations=[location])
    WaitlistEntry.objects.create(
        patient=waiting,
        location=location,
        service=assessment_service(),
        minutes=60,
        weekdays=[0, 1, 2, 3, 4],
        earliest_time=dt.time(8),
        latest_time=dt.time(18),
        created_by=front_desk,
    )
    client = login(front_desk)
    board = client.get(reverse("booking:waitlist_board", args=[location.slug]))
    assert board.status_code == 200
    assert _listed(front_desk, [waiting]) == {waiting.pk}

    other = PatientFactory(locations=[location])
    url = reverse("booking:waitlist_add", args=[location.slug, other.pk])
    assert client.get(url).status_code == 200
    assert AccessLog.objects.filter(actor=front_desk, patient=other).exists()


def test_the_course_booking_page_is_logged(login, practitioner, patient):
    url = reverse("booking:course_book", args=[patient.pk])
    assert login(practitioner.user).get(url).status_code == 200
    assert AccessLog.objects.filter(actor=practitioner.user, patient=patient).exists()


def test_the_counter_consent_page_is_logged(login, front_desk, patient):
    url = reverse("intake:counter_consent", args=[patient.pk])
    assert login(front_desk).get(url).status_code == 200
    assert AccessLog.objects.filter(actor=front_desk, patient=patient).exists()


def test_the_email_problems_page_logs_each_patient_shown(
    login, front_desk, location, practitioner, patient
):
    Notification.objects.create(
        kind=Notification.Kind.CONFIRMED,
        state=Notification.State.FAILED,
        location=location,
        patient=patient,
        appointment=AppointmentFactory(
            location=location, practitioner=practitioner, patient=patient
        ),
        last_error="550 no such mailbox",
    )
    assert login(front_desk).get(reverse("booking:email_problems")).status_code == 200
    assert _listed(front_desk, [patient]) == {patient.pk}


def test_the_admins_lists_search_and_history_are_logged(login, manager, day):
    client = login(manager)
    patients = day["patients"]
    assert client.get(reverse("admin:clinic_patient_changelist")).status_code == 200
    assert _listed(manager, patients) == {p.pk for p in patients}

    found = client.get(reverse("admin:clinic_patient_changelist"), {"q": "Cleo"})
    assert found.status_code == 200
    searched = AccessLog.objects.filter(actor=manager, action=Action.LIST).count()
    assert searched == len(patients) + 1  # the search showed Cleo alone

    assert client.get(reverse("admin:booking_appointment_changelist")).status_code == 200
    assert _listed(manager, patients, "booking.appointment") == {p.pk for p in patients}

    first = patients[0]
    history = reverse("admin:clinic_patient_history", args=[first.pk])
    assert client.get(history).status_code == 200
    assert AccessLog.objects.filter(
        actor=manager, patient=first, action=Action.VIEW, record_type="clinic.patient"
    ).exists()


def test_a_list_of_no_one_writes_nothing(login, front_desk, location):
    assert login(front_desk).get(reverse("booking:requests_queue")).status_code == 200
    assert not AccessLog.objects.exists()


# --- Exports: one entry per export, with the patients it covered --------------------------------


def test_the_whole_access_log_as_csv_is_one_export_entry(login, manager, patient, other_patient):
    for someone in (patient, other_patient):
        record_access(actor=manager, patient=someone, record=someone)
    response = login(manager).get(reverse("clinic:access_log"), {"format": "csv"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    export = AccessLog.objects.get(action=Action.EXPORT)
    assert export.actor == manager and export.record_type == "clinic.accesslog"
    assert sorted(export.patient_ids) == sorted([patient.pk, other_patient.pk])


def test_a_patients_access_report_includes_the_exports_that_covered_them(
    login, manager, patient, other_patient
):
    for someone in (patient, other_patient):
        record_access(actor=manager, patient=someone, record=someone)
    client = login(manager)
    b"".join(client.get(reverse("clinic:access_log"), {"format": "csv"}).streaming_content)
    report = client.get(reverse("clinic:access_log"), {"patient": str(patient.pk)})
    assert report.status_code == 200
    assert [row.action for row in report.context["page"]].count(Action.EXPORT) == 1


# --- A patient's access report: clinical views first, list rows grouped -------------------------


def test_a_patients_report_groups_list_rows_and_keeps_clinical_views_visible(
    login, manager, front_desk, practitioner, location, day
):
    ann = day["patients"][0]
    desk = login(front_desk)
    for _ in range(60):  # a busy desk reloads the day all day long
        desk.get(
            f"{reverse('booking:location_day', args=[location.slug])}"
            f"?date={day['date'].isoformat()}"
        )
    record_access(actor=practitioner.user, patient=ann, record=ann, record_type="intake.chart")

    report = login(manager).get(reverse("clinic:access_log"), {"patient": str(ann.pk)})
    assert report.status_code == 200
    shown = list(report.context["page"])
    assert [row.record_type for row in shown] == ["intake.chart"]  # not buried
    groups = report.context["listed"]
    assert len(groups) == 1 and groups[0]["times"] == 60
    assert groups[0]["actor"] == front_desk
    assert "Shown in lists" in report.content.decode()


def test_list_rows_are_marked_as_such(login, front_desk, location, day):
    login(front_desk).get(
        f"{reverse('booking:location_day', args=[location.slug])}?date={day['date'].isoformat()}"
    )
    rows = AccessLog.objects.filter(actor=front_desk)
    assert rows.exists() and {row.action for row in rows} == {Action.LIST}
    assert timezone.now() - rows.first().at < dt.timedelta(minutes=1)


def test_the_questionnaire_list_and_the_patient_search_log_each_patient_shown(
    login, front_desk, location, day
):
    client = login(front_desk)
    assert client.get(reverse("intake:intake_list"), {"show": "all"}).status_code == 200
    assert _listed(front_desk, day["patients"], "intake.intake")
    search = reverse("booking:find_patient", args=[location.slug])
    assert client.post(search, {"q": "Cleo"}).status_code == 200
    assert _listed(front_desk, day["patients"], "booking.patient_search") == {day["patients"][2].pk}
