"""The patient's pain chart: pain since the baseline questionnaire, from check-ins (a
correction replacing what it corrects), sessions and their adverse events on the axis; drawn
as accessible SVG by our own code, with the numbers as a table."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Course, Status
from intake.clinical.models import OutcomeSurvey, SurveyKind
from intake.clinical.pain_chart import chart_geometry, pain_trajectory
from tests.booking.factories import a_clinic, a_course
from tests.intake.factories import session_note, sign_note_now, submitted_intake

pytestmark = pytest.mark.django_db


def _checkin(patient, days_ago, first, average, *, kind=SurveyKind.BEFORE_SESSION, n=1, **more):
    """An answer about session `n` of the patient's course (the database refuses one about
    sessions or courses that are not the patient's)."""
    at = timezone.now() - dt.timedelta(days=days_ago)
    course = Course.objects.get(patient=patient)
    return OutcomeSurvey.objects.create(
        patient=patient,
        kind=kind,
        channel="home",
        appointment_id=course.appointments.get(session_number=n).pk,
        course_id=course.pk,
        session_number=n if kind == SurveyKind.BEFORE_SESSION else None,
        pain_first_steps=first,
        pain_average=average,
        reported_at=at,
        submitted_at=more.pop("submitted_at", at),
        **more,
    )


@pytest.fixture
def history(patient, prescribed):
    """Baseline 8/6 forty days ago; before sessions 1–3: 7/5, 6/5 (corrected to 5/4), 4/3;
    end of course 2/2; session 2 recorded with bruising."""
    submitted_intake(
        patient,
        at=timezone.now() - dt.timedelta(days=40),
        pain_first_steps=8,
        pain_average=6,
        pain_worst=9,
    )
    a_course(
        a_clinic(),
        patient,
        statuses=[Status.COMPLETED] * 6,
        first_start=timezone.now() - dt.timedelta(days=31),
        assessment=prescribed,
    )
    _checkin(patient, 30, 7, 5, n=1)
    first = _checkin(patient, 23, 6, 5, n=2)
    _checkin(patient, 23, 5, 4, n=2, supersedes=first, submitted_at=timezone.now())
    _checkin(patient, 16, 4, 3, n=3)
    _checkin(patient, 2, 2, 2, kind=SurveyKind.END_OF_COURSE)
    for number, days in ((1, 30), (2, 23), (3, 16)):
        note = session_note(prescribed, number)
        note.performed_at = timezone.now() - dt.timedelta(days=days)
        if number == 2:
            note.adverse_events = ["bruising"]
            note.adverse_event_severity = "mild"
            note.adverse_event_action = "Ice"
        note.save()
        sign_note_now(note)
    return prescribed


def test_the_chart_data_starts_at_the_baseline_and_follows_the_check_ins(patient, history):
    trajectory = pain_trajectory(patient)
    assert [(p.label, p.first_steps, p.average) for p in trajectory.points] == [
        ("Questionnaire (baseline)", 8, 6),
        ("Before session 1", 7, 5),
        ("Before session 2", 5, 4),  # the correction, at the time of the first answer
        ("Before session 3", 4, 3),
        ("End of the course", 2, 2),
    ]
    assert [(s.number, s.adverse_events) for s in trajectory.sessions] == [
        (1, ()),
        (2, ("Bruising",)),
        (3, ()),
    ]
    assert trajectory.first_step_change == -6


def test_check_ins_before_the_baseline_are_left_out(patient, history):
    _checkin(patient, 60, 9, 9, n=4)
    assert len(pain_trajectory(patient).points) == 5


def test_the_geometry_puts_pain_10_at_the_top_and_time_left_to_right(patient, history):
    chart = chart_geometry(pain_trajectory(patient), patient=patient)
    ys = [m.y for m in chart.first_step_markers]
    xs = [m.x for m in chart.first_step_markers]
    assert xs == sorted(xs) and xs[0] == chart.plot_left and xs[-1] == chart.plot_right
    top, bottom = chart.plot_top, chart.plot_bottom
    assert ys[0] == pytest.approx(bottom - 0.8 * (bottom - top), abs=0.1)  # 8 of 10
    assert ys == sorted(ys)  # falling pain: lower on the chart each time (y grows downwards)
    assert [t.label for t in chart.sessions] == ["S1", "S2", "S3"]
    assert [t.adverse for t in chart.sessions] == ["", "Bruising", ""]
    assert "First-step pain went from 8" in chart.description and "to 2" in chart.description
    assert "adverse events at session 2 (bruising)" in chart.description


def test_a_single_point_still_draws(patient):
    submitted_intake(patient, pain_first_steps=5, pain_average=4, pain_worst=6)
    chart = chart_geometry(pain_trajectory(patient), patient=patient)
    assert len(chart.first_step_markers) == 1 and chart.first_steps


def test_the_practitioners_chart_is_accessible_svg_with_a_table(
    login, practitioner, patient, history
):
    html = (
        login(practitioner.user)
        .get(reverse("intake:patient_chart", args=[patient.pk]))
        .content.decode()
    )
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and '<title id="pain-chart-title">' in svg and "<desc" in svg
    assert "line-first-steps" in svg and "line-average" in svg
    assert svg.count("<circle") == 5 and "adverse-marker" in svg  # one circle per report
    assert "The numbers as a table" in html and "<td>5</td><td>4</td>" in html
    assert not re.search(r"\sstyle=", html), "the CSP forbids inline styles"
    assert "<script>" not in html


def test_a_patient_sees_their_own_progress_only(login, patient, other_patient, history):
    page = login(patient.user).get(reverse("intake:my_outcome_surveys")).content.decode()
    assert 'role="img"' in page and "Before session 3" in page
    other = login(other_patient.user).get(reverse("intake:my_outcome_surveys")).content.decode()
    assert 'role="img"' not in other and "Before session 3" not in other
