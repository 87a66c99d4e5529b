"""A patient's complete record on request: JSON and a printable page, for the patient or a
manager, each export in the access log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from booking.models import Status
from clinic.models import AccessLog
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course, an_appointment
from tests.intake.factories import publish_consents, sign, signed_assessment, submitted_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(clinic, patient):
    submitted_intake(patient)
    sign(patient, publish_consents())
    signed_assessment(patient, clinic.practitioner)
    start = next_weekday(clinic.location, 1, 10)
    return an_appointment(clinic, patient, start)


def test_a_patient_downloads_their_whole_record_as_json(login, patient, history):
    response = login(patient.user).get(reverse("booking:my_record"), {"format": "json"})
    assert response["Content-Disposition"].startswith("attachment;")
    record = json.loads(response.content)
    assert record["patient"]["last_name"] == patient.last_name
    assert [a["id"] for a in record["appointments"]] == [history.pk]
    assert (
        len(record["questionnaires"]) == 1 and record["questionnaires"][0]["status"] == "submitted"
    )
    assert len(record["assessments"]) == 1 and record["assessments"][0]["fingerprint"]
    assert len(record["consent_signatures"]) >= 1
    assert AccessLog.objects.filter(actor=patient.user, action="export", patient=patient).exists()


def test_the_printable_page_shows_the_same_record(login, patient, history):
    html = login(patient.user).get(reverse("booking:my_record")).content.decode()
    assert "Record of" in html and history.service.name in html and "Assessment notes (1)" in html


def test_a_manager_exports_any_patients_record_for_a_records_request(
    login, manager, patient, history
):
    response = login(manager).get(
        reverse("booking:patient_record", args=[patient.pk]), {"format": "json"}
    )
    assert json.loads(response.content)["patient"]["record_number"] == patient.pk


def test_others_cannot_export_a_record(login, front_desk, practitioner, other_patient, patient):
    assert (
        login(front_desk).get(reverse("booking:patient_record", args=[patient.pk])).status_code
        == 403
    )
    assert (
        login(practitioner.user)
        .get(reverse("booking:patient_record", args=[patient.pk]))
        .status_code
        == 403
    )
    # A patient's own record page never takes an id: there is nothing to change in the address.
    mine = login(other_patient.user).get(reverse("booking:my_record"), {"format": "json"})
    assert json.loads(mine.content)["patient"]["record_number"] == other_patient.pk


def test_the_export_takes_a_fixed_number_of_queries(
    login, patient, history, django_assert_max_num_queries
):
    client = login(patient.user)
    with django_assert_max_num_queries(22):
        client.get(reverse("booking:my_record"), {"format": "json"})


def test_the_record_holds_every_check_in_corrections_included(login, clinic, patient, history):
    from intake.clinical.models import AfterCareResponse, AssessmentNote
    from tests.intake.factories import a_correction, a_survey_answer

    # After care of the first session of the course the signed assessment prescribed.
    course = a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED],
        first_start=history.starts_at - dt.timedelta(days=7),
        assessment=AssessmentNote.objects.get(patient=patient),
    )
    session = course.appointments.get()
    first = a_survey_answer(
        session, channel="link", worrying=True, worrying_details="Tingling toes"
    )
    a_correction(first, bruising=True)
    AfterCareResponse.objects.create(checkin=first, by=history.practitioner.user, note="Phoned")
    client = login(patient.user)
    record = json.loads(client.get(reverse("booking:my_record"), {"format": "json"}).content)
    assert [c["bruising"] for c in record["checkins"]] == [False, True]
    assert record["checkins"][0]["response"]["note"] == "Phoned"
    assert record["checkins"][1]["supersedes"] == first.pk
    assert "Outcome surveys (2)" in client.get(reverse("booking:my_record")).content.decode()


def test_unsigned_drafts_are_not_released_with_the_record(login, clinic, patient, history):
    from intake.clinical.models import AssessmentNote
    from tests.intake.factories import AssessmentFactory, session_note

    signed = AssessmentNote.objects.get(patient=patient)
    draft = AssessmentFactory(patient=patient, author=clinic.practitioner)
    session_note(signed, 1)  # a session note not signed yet
    record = json.loads(
        login(patient.user).get(reverse("booking:my_record"), {"format": "json"}).content
    )
    assert [a["id"] for a in record["assessments"]] == [signed.pk] != [draft.pk]
    assert record["session_notes"] == []
    html = login(patient.user).get(reverse("booking:my_record")).content.decode()
    assert "Assessment notes (1)" in html and "not signed" not in html
