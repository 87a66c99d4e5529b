"""The demo's outcomes: Grace's falling pain over six sessions with her end-of-course and
4-week answers, Marcus's check-ins so far, a worrying after-care answer on the demo
practitioner's home page, and the manager's dashboard with figures beside the articles'."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import reports
from clinic.models import Patient, User
from intake.clinical.models import OutcomeSurvey, SurveyKind
from intake.clinical.pain_chart import pain_trajectory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(seeded_demo):
    pass


def _patient(last_name: str) -> Patient:
    return Patient.objects.get(last_name=last_name)


def test_graces_chart_shows_pain_falling_across_six_sessions(demo):
    trajectory = pain_trajectory(_patient("Liu"))
    labels = [point.label for point in trajectory.points]
    assert labels[0] == "Questionnaire (baseline)"
    assert [f"Before session {n}" for n in range(1, 7)] == labels[1:7]
    assert labels[7:] == ["End of the course", "4-week follow-up"]
    first_steps = [point.first_steps for point in trajectory.points]
    assert first_steps == sorted(first_steps, reverse=True) and first_steps[-1] < first_steps[0]
    assert [session.number for session in trajectory.sessions] == [1, 2, 3, 4, 5, 6]
    assert trajectory.sessions[1].adverse_events == ("Soreness",)


def test_marcus_has_his_check_ins_so_far(demo):
    marcus = _patient("Reid")
    before = OutcomeSurvey.objects.filter(patient=marcus, kind=SurveyKind.BEFORE_SESSION)
    assert sorted(before.values_list("session_number", flat=True)) == [1, 2, 3]
    assert not OutcomeSurvey.objects.filter(patient=marcus, kind=SurveyKind.END_OF_COURSE).exists()


def test_the_demo_practitioner_sees_a_worrying_after_care_answer(demo, login):
    priya = User.objects.get(email="practitioner@example.org")
    html = login(priya).get(reverse("clinic:practitioner_home")).content.decode()
    assert "Worrying after-care answers" in html and "Paula Greene" in html


def test_the_managers_dashboard_has_the_clinics_figures_beside_the_articles(demo, login):
    today = timezone.localdate()
    line = reports.clinic_report(
        reports.Period(today - dt.timedelta(days=364), today), reports.Scope()
    ).total
    assert line.courses_started >= 17 and line.abandoned >= 2
    for figure in (line.pain_fell_2, line.improved_walking, line.recommend, line.no_show):
        assert not figure.too_few and figure.share is not None
    manager = User.objects.get(email="manager@example.org")
    html = login(manager).get(reverse("booking:reports")).content.decode()
    assert "The clinic's results" in html and "Nothing to report" not in html
    assert "about 70% reported improved pain and mobility" in html
