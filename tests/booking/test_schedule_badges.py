"""The badges the front desk sees on every appointment: intake missing, flagged for review,
consent out of date, first visit, late-cancel history — and what stays off the schedule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking.desk.badges import NO_HISTORY, Badge, PatientHistory, appointment_badges
from booking.models import Status
from clinic.models import AccessLog
from tests.booking.conftest import FakeOverview, location_day_html, next_weekday
from tests.booking.factories import a_course, an_appointment
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _labels(appointment, overview, history=NO_HISTORY) -> list[str]:
    return [badge.label for badge in appointment_badges(appointment, overview, history)]


@pytest.fixture
def upcoming(clinic, patient):
    return an_appointment(clinic, patient, next_weekday(clinic.location, 1, 10))


def test_a_patient_with_no_intake_and_no_consent(upcoming):
    overview = FakeOverview(upcoming.patient_id)
    assert _labels(upcoming, overview) == ["Intake missing", "Consent not signed", "First visit"]


def test_an_intake_begun_but_not_sent(upcoming):
    overview = FakeOverview(upcoming.patient_id, draft_in_progress=True, consent_current=True)
    assert _labels(upcoming, overview) == ["Intake not finished", "First visit"]


def test_a_submitted_intake_flagged_for_review_with_an_older_consent(upcoming):
    overview = FakeOverview(
        upcoming.patient_id, submitted=True, flagged_for_review=True, consent_current=False
    )
    assert _labels(upcoming, overview) == [
        "Flagged for review",
        "Consent out of date",
        "First visit",
    ]


def test_a_returning_patient_is_not_a_first_visit(upcoming):
    ready = FakeOverview(upcoming.patient_id, submitted=True, consent_current=True)
    seen_before = PatientHistory(upcoming.starts_at - dt.timedelta(days=14), 0, 0)
    assert _labels(upcoming, ready, seen_before) == []
    seen_later = PatientHistory(upcoming.starts_at + dt.timedelta(days=7), 0, 0)  # came since
    assert _labels(upcoming, ready, seen_later) == ["First visit"]


def test_late_cancellations_and_no_shows_make_a_history(upcoming):
    ready = FakeOverview(upcoming.patient_id, submitted=True, consent_current=True)
    badges = appointment_badges(upcoming, ready, PatientHistory(None, 2, 1))
    late = [b for b in badges if b.key == "late"][0]
    assert late.label == "Late-cancel history (3)"
    assert late.detail == "2 late cancellations, 1 no-show"


def test_the_day_view_shows_the_badges_from_the_patients_records(
    login, front_desk, clinic, patient, intake
):
    start = next_weekday(clinic.location, 1, 10)
    # Patient's past: one late cancellation of their own, one cancelled by the clinic (not
    # counted), one visit completed (so this is not their first).
    past = start - dt.timedelta(days=21)
    an_appointment(clinic, patient, past, status=Status.COMPLETED)
    for days_later, by in ((7, "patient"), (8, "clinic")):
        an_appointment(
            clinic,
            patient,
            past + dt.timedelta(days=days_later),
            status=Status.CANCELLED,
            cancelled_by=by,
            late_cancellation=True,
        )
    an_appointment(clinic, patient, start)
    newcomer = PatientFactory()
    an_appointment(clinic, newcomer, start + dt.timedelta(hours=2), room=clinic.rooms[1])
    intake.record(patient, submitted=True, consent_current=False, flagged_for_review=True)
    intake.record(newcomer, draft_in_progress=True, consent_current=True)
    html = location_day_html(login(front_desk), clinic.location, start)
    assert "Flagged for review" in html
    assert "Consent out of date" in html
    assert "Late-cancel history (1)" in html
    assert "Intake not finished" in html
    assert html.count('<span class="flag badge-first" aria-hidden="true">') == 1  # the newcomer


def test_screening_reasons_are_on_the_appointments_page_not_the_schedule(
    login, front_desk, practitioner, upcoming, intake
):
    intake.record(
        upcoming.patient,
        submitted=True,
        consent_current=True,
        flagged_for_review=True,
        flag_reasons=("Takes anticoagulants",),
    )
    client = login(front_desk)
    day = location_day_html(client, upcoming.location, upcoming.starts_at)
    assert "Flagged for review" in day and "Takes anticoagulants" not in day
    # The day is a list: the patient is logged as shown in it, not as their record viewed.
    assert set(
        AccessLog.objects.filter(patient=upcoming.patient).values_list("action", flat=True)
    ) == {"list"}
    detail = client.get(reverse("booking:appointment_detail", args=[upcoming.pk])).content.decode()
    # The front desk sees the flag on the appointment's page; the reasons are for clinicians.
    assert "Flagged for review" in detail and "Takes anticoagulants" not in detail
    assert AccessLog.objects.filter(
        actor=front_desk, patient=upcoming.patient, action="view"
    ).exists()
    detail = (
        login(practitioner.user)
        .get(reverse("booking:appointment_detail", args=[upcoming.pk]))
        .content.decode()
    )
    assert "Takes anticoagulants" in detail


def test_a_short_box_shows_its_status_and_every_badge_with_the_blocking_one_apart(
    login, front_desk, clinic, patient, intake
):
    """A 15-minute box has room for one line: the status and each badge are compact marks on
    it, their words there for screen readers and in the tooltip; a consent that will stop
    the check-in outlines the box and puts "!" first."""
    start = next_weekday(clinic.location, 2, 11)
    a_course(clinic, patient, statuses=[Status.CONFIRMED], first_start=start, minutes=15)
    intake.record(patient, submitted=True, consent_current=False)
    html = location_day_html(login(front_desk), clinic.location, start)
    box = html[html.index('<div class="sched-appt') :]
    box = box[: box.index("</div>")]
    assert "svc-dry_needling" in box and "sched-blocked" in box
    flags = box[box.index('<span class="sched-flags">') : box.index("<a ")]
    assert flags.index("flag-stop") < flags.index("status-confirmed") < flags.index("badge-consent")
    assert ">Conf</span>" in flags and ">Consent</span>" in flags and ">New</span>" in flags
    assert (
        '<span class="visually-hidden">Confirmed. Consent out of date. First visit.</span>' in box
    )
    assert 'title="11:00 AM–11:15 AM ' in box and "Consent out of date" in box


def test_only_the_consent_and_the_screening_flag_block_the_check_in(upcoming):
    blocking = {
        key
        for key in ("intake", "flagged", "consent", "first", "late")
        if Badge(key, "x (1)").blocks_check_in
    }
    assert blocking == {"flagged", "consent"}
    overview = FakeOverview(upcoming.patient_id)
    late = appointment_badges(upcoming, overview, PatientHistory(None, 2, 1))
    assert [b.short for b in late if b.key == "late"] == ["LC3"]
