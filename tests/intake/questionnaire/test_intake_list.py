"""The staff's list of intakes per location: waiting for review, submitted, in progress,
missing (before an upcoming assessment when booking says so)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import AccessLog, Role
from intake.questionnaire import selectors
from tests.factories import PatientFactory, UserFactory
from tests.intake.factories import IntakeFactory, submitted_intake

pytestmark = pytest.mark.django_db

LIST = reverse("intake:intake_list")


@pytest.fixture
def people(location, patient):
    flagged = PatientFactory(user__first_name="Ellen", user__last_name="Park", locations=[location])
    submitted_intake(flagged, screen_pregnancy=True, screen_pregnancy_details="8 weeks")
    done = PatientFactory(user__first_name="Grace", user__last_name="Liu", locations=[location])
    submitted_intake(done)
    IntakeFactory(patient=patient, steps_done=["contact", "complaint"])
    phone = PatientFactory(
        user=None, first_name="Robert", last_name="Cote", email="", locations=[location]
    )
    people = {"flagged": flagged, "done": done, "draft": patient, "none": phone}
    # Assessments coming up for the patient with a draft and the one with nothing: their
    # questionnaires are "missing before an assessment" (booking tells intake which).
    from tests.booking.factories import AppointmentFactory, assessment_service

    start = timezone.now() + dt.timedelta(days=2)
    for key in ("draft", "none"):
        AppointmentFactory(
            location=location,
            patient=people[key],
            service=assessment_service(),
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            blocks_until=start + dt.timedelta(minutes=65),
        )
        start += dt.timedelta(hours=2)
    return people


@pytest.mark.parametrize(
    ("show", "expected"),
    [
        ("review", {"flagged"}),
        ("submitted", {"flagged", "done"}),
        ("draft", {"draft"}),
        ("missing", {"draft", "none"}),
        ("all", {"flagged", "done", "draft", "none"}),
    ],
)
def test_each_tab_lists_its_patients(login, front_desk, people, show, expected):
    response = login(front_desk).get(LIST, {"show": show})
    listed = {key for key, p in people.items() if p.full_name.split()[0] in _names(response)}
    assert listed == expected


def _names(response) -> str:
    return " ".join(f"{p.first_name}" for p, _, _ in response.context["rows"])


def test_the_tabs_show_their_counts_and_drafts_their_step(login, front_desk, people):
    response = login(front_desk).get(LIST, {"show": "all"})
    assert dict((key, count) for key, _, count in response.context["tabs"]) == {
        "review": 1,
        "submitted": 2,
        "draft": 1,
        "missing": 2,
        "all": 4,
    }
    assert "In progress, step 3 of 8" in response.content.decode()


def test_staff_see_only_the_patients_of_their_locations(
    login, front_desk_elsewhere, people, other_patient
):
    response = login(front_desk_elsewhere).get(LIST, {"show": "all"})
    assert [p for p, _, _ in response.context["rows"]] == [other_patient]


def test_a_location_of_someone_else_is_ignored(login, front_desk, people, other_location):
    response = login(front_desk).get(LIST, {"show": "all", "location": other_location.slug})
    assert len(response.context["rows"]) == 4  # falls back to the user's own locations


def test_one_location_of_several(login, location, other_location, people, other_patient):
    both = UserFactory(role=Role.FRONT_DESK, locations=[location, other_location])
    client = login(both)
    assert len(client.get(LIST, {"show": "all"}).context["rows"]) == 5
    rows = client.get(LIST, {"show": "all", "location": other_location.slug}).context["rows"]
    assert [p for p, _, _ in rows] == [other_patient]


def test_searching_by_name(login, front_desk, people):
    response = login(front_desk).post(LIST, {"show": "all", "q": "liu"})
    assert [p for p, _, _ in response.context["rows"]] == [people["done"]]
    # The name was posted; no link on the page carries it into an address, and the tabs
    # post it again rather than dropping it.
    html = response.content.decode()
    assert "liu" not in " ".join(re.findall(r'href="([^"]*)"', html))
    assert 'form="intake-filter" name="show" value="submitted"' in html
    again = login(front_desk).post(LIST, {"show": "all", "q": "liu", "page": "1"})
    assert [p for p, _, _ in again.context["rows"]] == [people["done"]]


def test_missing_means_before_an_upcoming_assessment_when_booking_provides_them(
    login, front_desk, people, location, monkeypatch
):
    soon = timezone.now() + dt.timedelta(days=2)
    asked = []

    def upcoming(at, start, end):
        asked.append((at, end - start))
        return {people["none"].pk: soon, people["done"].pk: soon}

    monkeypatch.setattr(selectors, "_upcoming_providers", [])
    selectors.register_upcoming_assessments(upcoming)
    response = login(front_desk).get(LIST, {"show": "missing", "location": location.slug})

    assert [p for p, _, _ in response.context["rows"]] == [people["none"]]
    html = response.content.decode()
    assert "Missing before an assessment" in html
    assert timezone.localtime(soon, location.zone).strftime("%a %-d %b") in html
    assert asked[0] == (location, dt.timedelta(days=14))


def test_the_list_takes_the_same_queries_for_few_or_many_patients(
    login, front_desk, location, django_assert_num_queries
):
    client = login(front_desk)
    PatientFactory(locations=[location])
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST, {"show": "all"}).status_code == 200
    for index in range(15):
        patient = PatientFactory(locations=[location])
        if index % 3 == 0:
            submitted_intake(patient)
        elif index % 3 == 1:
            IntakeFactory(patient=patient)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(LIST, {"show": "all"})
    assert len(response.context["rows"]) == 16


def test_showing_screening_reasons_is_recorded_in_the_access_log(login, practitioner, people):
    login(practitioner.user).get(LIST, {"show": "review"})
    row = AccessLog.objects.get(actor=practitioner.user, record_type="intake.intake")
    assert row.patient == people["flagged"]


def test_the_front_desk_list_shows_the_flag_without_the_reasons(login, front_desk, people):
    html = login(front_desk).get(LIST, {"show": "review"}).content.decode()
    assert "Ellen" in html and "For practitioner review" in html and "Pregnancy" not in html
    # Shown in a list (the questionnaire's state), never logged as reading its answers.
    rows = AccessLog.objects.filter(actor=front_desk, record_type="intake.intake")
    assert set(rows.values_list("action", flat=True)) == {AccessLog.Action.LIST}
