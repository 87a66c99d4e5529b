"""The clinic's results dashboard, against a small data set worked out by hand.

At `location`, prescribed by `practitioner`, seven courses of four weekly sessions start in
the last year:

| patient | sessions | baseline | end | change | walking | strength | pain & mobility | recommend |
| ------- | -------- | -------- | --- | ------ | ------- | -------- | --------------- | --------- |
| A | 4 attended | 8 | 4 (first 7, corrected) | -4 | yes | no | yes | 10 |
| B | 4 attended | 7 | 6 | -1 | no | no | yes | 9 |
| C | 4 attended | 6 | 4 | -2 | yes | yes | yes | 8 |
| D | 4 attended | 9 | 9 | 0 | no | no | no | 5 |
| E | 4 attended | 5 | 2 | -3 | yes | no | yes | 10 |
| F | 2 attended, 1 no-show, 1 cancelled late | 7 | – | | | | | |
| G | 1 attended, 3 booked ahead | 6 | – | | | | | |

So: 7 started, 5 completed, 1 abandoned (F), 1 going on (G); completed of ended 5/6 = 83.3%.
Pain fell by ≥ 2: A, C, E = 3/5 = 60%; mean change -2.0, SD √(10/4) = 1.58. Walking 3/5 =
60%, strength 1/5 = 20%, pain and mobility 4/5 = 80%, 9–10 on recommending 3/5 = 60%.
Appointments in the period (G's future ones are after it): 25; no-shows 1 of 24 attended or
missed = 4.2%; late cancellations 1 of 25 = 4.0%. Session notes, one per patient A–E:
bruising (A), soreness (B), bleeding (D, by an amendment) = 1/5 = 20% each.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from booking import reports
from booking.models import Status
from booking.reports import side_by_side
from clinic.models import AccessLog, Holiday, ScheduleException
from intake.clinical.models import OutcomeSurvey, SessionNoteAmendment, SurveyKind
from tests.booking.factories import a_clinic, a_colleague, a_course, an_appointment
from tests.conftest import csv_rows
from tests.factories import PatientFactory
from tests.intake.factories import (
    session_note,
    sign_note_now,
    signed_assessment,
    submitted_intake,
)

pytestmark = pytest.mark.django_db

DONE, BOOKED, NO_SHOW, CANCELLED = (
    Status.COMPLETED,
    Status.CONFIRMED,
    Status.NO_SHOW,
    Status.CANCELLED,
)
# name: (statuses, baseline, end answers or None, adverse event at a session note)
PATIENTS = {
    "A": ([DONE] * 4, 8, (4, True, False, True, 10), "bruising"),
    "B": ([DONE] * 4, 7, (6, False, False, True, 9), "soreness"),
    "C": ([DONE] * 4, 6, (4, True, True, True, 8), "none"),
    "D": ([DONE] * 4, 9, (9, False, False, False, 5), "amended to bleeding"),
    "E": ([DONE] * 4, 5, (2, True, False, True, 10), "none"),
    "F": ([DONE, DONE, NO_SHOW, CANCELLED], 7, None, None),
    "G": ([DONE, BOOKED, BOOKED, BOOKED], 6, None, None),
}


# Each course at its own hour of the day, so that no two overlap for the practitioner.
_hours = itertools.count()


def _course_for(clinic, name, statuses, baseline, *, days_ago, practitioner=None, first_start=None):
    practitioner = practitioner or clinic.practitioner
    first_start = first_start or timezone.now() - dt.timedelta(
        days=days_ago, hours=next(_hours) % 20
    )
    patient = PatientFactory(
        first_name=f"Patient{name}", last_name="Testcase", locations=[clinic.location]
    )
    intake = submitted_intake(
        patient,
        at=first_start - dt.timedelta(days=10),
        pain_first_steps=baseline,
        pain_average=min(baseline, 5),
        pain_worst=10,
    )
    # Each course planned as long as the sessions it lists (at least 4).
    assessment = signed_assessment(
        patient,
        practitioner,
        intake=intake,
        location=clinic.location,
        planned_sessions=max(4, len(statuses)),
    )
    course = a_course(
        clinic,
        patient,
        statuses=statuses,
        first_start=first_start,
        assessment=assessment,
        practitioner=practitioner,
    )
    course.appointments.filter(status=CANCELLED).update(late_cancellation=True)
    return patient, assessment, course


def _end(patient, course, first, walking, strength, pain_mobility, recommend, **fields):
    return OutcomeSurvey.objects.create(
        patient=patient,
        kind=SurveyKind.END_OF_COURSE,
        channel="home",
        course_id=course.pk,
        pain_first_steps=first,
        pain_average=first,
        improved_walking=walking,
        improved_strength=strength,
        improved_pain_mobility=pain_mobility,
        recommend=recommend,
        **fields,
    )


@pytest.fixture
def data(clinic):
    made = {}
    for n, (name, (statuses, baseline, end, adverse)) in enumerate(PATIENTS.items()):
        # G started three days ago (sessions ahead); the others two to three months ago.
        days_ago = 3 if name == "G" else 90 - 3 * n
        patient, assessment, course = _course_for(
            clinic, name, statuses, baseline, days_ago=days_ago
        )
        made[name] = (patient, course)
        if end is not None:
            if name == "A":  # first answered 7, then corrected to 4: only the correction counts
                first = _end(patient, course, 7, *end[1:])
                _end(patient, course, *end, supersedes=first, reported_at=first.reported_at)
            else:
                _end(patient, course, *end)
        if adverse is not None:
            events = [adverse] if adverse in ("bruising", "soreness") else ["none"]
            note = session_note(
                assessment,
                1,
                adverse_events=events,
                adverse_event_severity="mild" if events != ["none"] else "",
                adverse_event_action="Ice" if events != ["none"] else "",
                location=clinic.location,
            )
            note.performed_at = timezone.now() - dt.timedelta(days=days_ago)
            note.save()
            sign_note_now(note)
            if adverse.startswith("amended"):
                SessionNoteAmendment.objects.create(
                    note=note,
                    author=clinic.practitioner,
                    number=1,
                    reason="Bleeding noted after the note was signed",
                    changes={"adverse_events": {"from": ["none"], "to": ["bleeding"]}},
                    fingerprint="0" * 64,
                )
    return made


def _year() -> reports.Period:
    today = timezone.localdate()
    return reports.Period(today - dt.timedelta(days=364), today)


def test_each_figure_against_the_hand_computed_data_set(data, location, practitioner):
    report = reports.clinic_report(_year(), reports.Scope())
    line = report.total
    assert (line.courses_started, line.courses_patients) == (7, 7)
    assert (line.completed, line.abandoned, line.ongoing) == (5, 1, 1)
    assert line.completion == reports.Figure(5, 6, 6) and line.completion.share == 83.3
    assert line.pain_fell_2 == reports.Figure(3, 5, 5) and line.pain_fell_2.share == 60.0
    assert line.change.mean == pytest.approx(-2.0)
    assert line.change.sd == pytest.approx((10 / 4) ** 0.5)
    assert line.change.patients == 5
    assert line.improved_walking.share == 60.0
    assert line.improved_strength.share == 20.0
    assert line.improved_pain_mobility.share == 80.0
    assert line.recommend == reports.Figure(3, 5, 5) and line.recommend.share == 60.0
    assert line.appointments == 25
    assert line.no_show == reports.Figure(1, 24, 7) and line.no_show.share == 4.2
    assert line.late_cancel == reports.Figure(1, 25, 7) and line.late_cancel.share == 4.0
    assert line.sessions_recorded == 5
    adverse = dict(line.adverse)
    assert adverse["Bruising"] == reports.Figure(1, 5, 5) and adverse["Bruising"].share == 20.0
    assert adverse["Soreness"].share == 20.0
    assert adverse["Bleeding"].share == 20.0  # from the amendment, not the signed "none"
    assert adverse["Fainting"] == reports.Figure(0, 5, 5) and adverse["Fainting"].share == 0.0
    assert [item.name for item in report.locations] == [location.name]
    assert [item.name for item in report.practitioners] == [practitioner.name]
    assert report.locations[0].pain_fell_2 == line.pain_fell_2


@pytest.mark.django_db(transaction=True)
def test_figures_read_side_by_side_equal_those_read_one_after_another(data, monkeypatch):
    """Outside a transaction the courses and visits are read on side connections (see
    booking.reports.side_by_side); inside one, all on this connection. Same figures."""
    side_reads = []
    real = side_by_side._in_snapshot
    monkeypatch.setattr(
        side_by_side, "_in_snapshot", lambda *args: side_reads.append(args) or real(*args)
    )
    read_side_by_side = reports.clinic_report(_year(), reports.Scope())
    assert len(side_reads) == 2
    with transaction.atomic():
        read_on_one_connection = reports.clinic_report(_year(), reports.Scope())
    assert len(side_reads) == 2
    assert read_side_by_side == read_on_one_connection
    assert read_side_by_side.total.courses_started == 7


def test_the_2_point_rule_counts_a_fall_of_exactly_2_and_not_of_1(clinic):
    for name, baseline, end in (("x", 6, 4), ("y", 6, 5), ("z", 6, 8), ("v", 3, 1), ("w", 2, 2)):
        patient, _, course = _course_for(clinic, name, [DONE] * 4, baseline, days_ago=40)
        _end(patient, course, end, True, True, True, 7)
    line = reports.clinic_report(_year(), reports.Scope()).total
    assert line.pain_fell_2 == reports.Figure(2, 5, 5)


def test_figures_on_fewer_than_5_patients_say_so_instead_of_a_percentage(
    login, manager, other_location
):
    elsewhere = a_clinic(location=other_location)
    for name in ("p", "q"):
        patient, _, course = _course_for(elsewhere, name, [DONE] * 4, 7, days_ago=30)
        _end(patient, course, 3, True, True, True, 10)
    line = reports.clinic_report(_year(), reports.Scope(location_id=other_location.pk)).total
    assert line.pain_fell_2 == reports.Figure(2, 2, 2)
    assert line.pain_fell_2.too_few and line.pain_fell_2.share is None
    assert line.change.too_few
    html = login(manager).get(reverse("booking:reports")).content.decode()
    assert "Fewer than 5 patients (2): too few to say" in html
    assert "100.0%" not in html


def test_an_abandoned_course_is_one_that_ended_short_with_nothing_booked(clinic):
    for name, statuses in (
        ("short", [DONE, NO_SHOW, CANCELLED, CANCELLED]),
        ("waiting", [DONE, CANCELLED, BOOKED, BOOKED]),
        ("never", [NO_SHOW, CANCELLED, CANCELLED, CANCELLED]),
        ("full", [DONE] * 4),
    ):
        _course_for(clinic, name, statuses, 6, days_ago=50 if name != "waiting" else 10)
    line = reports.clinic_report(_year(), reports.Scope()).total
    assert (line.courses_started, line.completed, line.abandoned, line.ongoing) == (4, 1, 2, 1)


def test_an_empty_period_is_an_empty_state_not_an_error(login, manager, data):
    report = reports.clinic_report(
        reports.Period(dt.date(2020, 1, 1), dt.date(2020, 12, 31)), reports.Scope()
    )
    assert report.is_empty and report.total.completion.share is None
    assert report.total.utilisation.share is not None  # the hours were there; nothing booked
    response = login(manager).get(
        reverse("booking:reports"), {"start": "2020-01-01", "end": "2020-12-31"}
    )
    assert response.status_code == 200
    assert "Nothing to report for this period" in response.content.decode()


def test_the_default_period_ends_today_on_the_clinics_clock(login, manager, location, time_machine):
    # 21:00 in Toronto: the server's UTC date is already the next day, in summer and winter.
    evening = dt.datetime.combine(location.today(), dt.time(21), tzinfo=location.zone)
    time_machine.move_to(evening, tick=True)
    form = login(manager).get(reverse("booking:reports")).context["form"]
    assert form["end"].value() == evening.date()
    assert form["start"].value() == evening.date() - dt.timedelta(days=364)


def test_no_division_by_zero_anywhere_with_no_data_at_all(login, manager):
    report = reports.clinic_report(_year(), reports.Scope())
    assert report.is_empty and report.total.utilisation.share is None
    assert login(manager).get(reverse("booking:reports")).status_code == 200


def _appointment(clinic, patient, day, hour, minutes, status, practitioner=None):
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=clinic.location.zone)
    return an_appointment(
        clinic,
        patient,
        start,
        practitioner=practitioner,
        minutes=minutes,
        status=status,
        cancelled_by="patient" if status == CANCELLED else "",
    )


def test_utilisation_is_booked_time_over_the_hours_practitioners_were_available(
    clinic, patient, other_patient
):
    """A week worked out by hand. The clinic's practitioner works Monday to Friday 9–17:
    8 h a day. Wednesday is a holiday (0 h) and Tuesday afternoon 13–17 is time off (4 h),
    so 8 + 4 + 0 + 8 + 8 = 28 h = 1680 minutes are available. Booked: a completed 48-minute
    visit on Monday, a confirmed 30 minutes and a requested 30 minutes on Friday = 108
    minutes; a no-show on Tuesday and a cancellation on Thursday do not count. 108 / 1680 =
    6.4%. A colleague who no longer works at the location left weekly hours behind: no one
    can book them, so they are not available time, and their hour on Monday is not counted
    as booked either (both sides are about the practitioners who work there)."""
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday() + 14)
    day = {
        name: monday + dt.timedelta(days=n) for n, name in enumerate("mon tue wed thu fri".split())
    }
    Holiday.objects.create(location=clinic.location, date=day["wed"], name="Closed")
    zone = clinic.location.zone
    ScheduleException.objects.create(
        practitioner=clinic.practitioner,
        kind=ScheduleException.Kind.TIME_OFF,
        starts_at=dt.datetime.combine(day["tue"], dt.time(13), tzinfo=zone),
        ends_at=dt.datetime.combine(day["tue"], dt.time(17), tzinfo=zone),
    )
    departed = a_colleague(clinic)
    _appointment(clinic, other_patient, day["mon"], 14, 60, DONE, practitioner=departed)
    departed.user.locations.clear()
    _appointment(clinic, patient, day["mon"], 10, 48, DONE)
    _appointment(clinic, patient, day["tue"], 10, 48, NO_SHOW)
    _appointment(clinic, patient, day["thu"], 10, 48, CANCELLED)
    _appointment(clinic, patient, day["fri"], 10, 30, BOOKED)
    _appointment(clinic, other_patient, day["fri"], 11, 30, Status.REQUESTED)

    report = reports.clinic_report(
        reports.Period(monday, monday + dt.timedelta(days=6)), reports.Scope()
    )
    assert report.total.utilisation == reports.Utilisation(108, 1680)
    assert report.total.utilisation.share == 6.4
    assert [line.utilisation for line in report.locations] == [reports.Utilisation(108, 1680)]
    by_name = {line.name: line.utilisation for line in report.practitioners}
    assert by_name[clinic.practitioner.name] == reports.Utilisation(108, 1680)
    assert by_name[departed.name] == reports.Utilisation(0, 0)  # their visit still counts
    assert report.total.appointments == 6  # as an appointment, only not as booked time


def test_utilisation_leaves_out_inactive_practitioners_and_locations(clinic, patient):
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday() + 14)
    week = reports.Period(monday, monday + dt.timedelta(days=6))
    colleague = a_colleague(clinic)
    assert reports.clinic_report(week, reports.Scope()).total.utilisation.working_minutes == (
        2 * 5 * 480
    )
    colleague.user.is_active = False
    colleague.user.save()
    assert reports.clinic_report(week, reports.Scope()).total.utilisation.working_minutes == (
        5 * 480
    )
    clinic.location.is_active = False
    clinic.location.save()
    assert reports.clinic_report(week, reports.Scope()).total.utilisation.share is None


def test_the_page_says_how_utilisation_is_counted_in_one_line(login, manager, clinic, patient):
    today = timezone.localdate()
    _appointment(clinic, patient, today - dt.timedelta(days=today.weekday() + 7), 10, 60, DONE)
    html = login(manager).get(reverse("booking:reports")).content.decode()
    assert "h booked of" in html and "h available" in html and "h worked" not in html
    assert (
        "Utilisation: appointment time booked (requested, confirmed, checked in or completed)"
        " ÷ the practitioners' working hours at the locations from"
    ) in html
    assert "less time off and holidays." in html


def test_the_manager_sees_the_articles_figures_beside_the_clinics(login, manager, data):
    html = login(manager).get(reverse("booking:reports")).content.decode()
    assert "The clinic's results" in html
    for article in ("70%", "38%", "46%"):
        assert article in html
    assert "<strong>60.0%</strong>" in html  # pain fell by 2 or more
    assert "-2.0 points" in html and "SD 1.6" in html
    assert "By location and by practitioner" in html
    assert "Abandoned" in html and "How these figures are counted" in html
    # Each line's figure says how many patients it rests on.
    assert '60.0% <span class="d-block small text-body-secondary">5 patients</span>' in html


def test_a_practitioner_sees_only_their_own_line(login, practitioner, data, other_location):
    elsewhere = a_clinic(location=other_location)
    _course_for(elsewhere, "other", [DONE] * 4, 7, days_ago=30)
    client = login(practitioner.user)
    html = client.get(reverse("booking:reports")).content.decode()
    assert "Your results" in html and "By location and by practitioner" not in html
    assert "chart-lines" not in html and "chart-outcomes" in html
    assert elsewhere.practitioner.name not in html
    # Asking for another practitioner changes nothing: the scope is always their own.
    asked = client.get(reverse("booking:reports"), {"practitioner": elsewhere.practitioner.pk})
    assert asked.context["report"].scope.practitioner_id == practitioner.pk
    assert asked.context["report"].total.courses_started == 7


@pytest.mark.parametrize("persona", ["patient", "front_desk"])
def test_patients_and_the_front_desk_may_not_see_results(login, request, persona):
    person = request.getfixturevalue(persona)
    client = login(getattr(person, "user", person))
    for name in ("booking:reports", "booking:reports_csv", "booking:outcomes_csv"):
        assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["booking:reports", "booking:reports_csv", "booking:outcomes_csv"])
def test_report_pages_refuse_posts(login, manager, name):
    assert login(manager).post(reverse(name)).status_code == 405


def test_the_dashboard_takes_a_constant_number_of_queries(
    login, manager, clinic, django_assert_max_num_queries
):
    client = login(manager)
    client.get(reverse("booking:reports"))  # warm up (sessions, two-step login)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as empty:
        client.get(reverse("booking:reports"))
    for n, name in enumerate("abcdefgh"):
        patient, _, course = _course_for(clinic, name, [DONE] * 4, 7, days_ago=80 - 5 * n)
        _end(patient, course, 3, True, False, True, 9)
    with CaptureQueriesContext(connection) as full:
        client.get(reverse("booking:reports"))
    assert len(full) == len(empty)
    with django_assert_max_num_queries(len(full)):
        client.get(reverse("booking:reports"))


def test_the_dashboard_csv_has_a_line_each_and_writes_the_access_log(login, manager, data):
    rows = csv_rows(login(manager).get(reverse("booking:reports_csv")))
    header, lines = rows[0], rows[1:]
    assert [line[:2] for line in lines][0] == ["total", "All"]
    assert {line[0] for line in lines} == {"total", "location", "practitioner"}
    total = dict(zip(header, lines[0], strict=True))
    assert total["courses started"] == "7" and total["abandoned"] == "1"
    assert total["first-step pain fell by 2 or more at course end: %"] == "60.0"
    # One entry for the export, naming each patient of the courses.
    exported = AccessLog.objects.get(action=AccessLog.Action.EXPORT, actor=manager)
    assert len(exported.patient_ids) == 7


def test_the_outcomes_csv_is_de_identified(login, manager, data):
    response = login(manager).get(reverse("booking:outcomes_csv"))
    rows = csv_rows(response)
    header, lines = rows[0], rows[1:]
    assert len(lines) == 7
    forbidden = ("name", "email", "phone", "birth", "address", "comment", "patient", "contact")
    assert not [column for column in header if any(word in column for word in forbidden)]
    text = "\n".join(",".join(line) for line in lines)
    for patient, course in data.values():
        assert patient.last_name not in text and patient.first_name not in text
        assert patient.email not in text and patient.phone not in text
        assert patient.date_of_birth.isoformat() not in text
        assert f",{course.pk}," not in f",{text},"
    first = dict(zip(header, lines[0], strict=True))
    assert first["course"].startswith("c-") and len(first["course"]) == 14
    assert first["age_band"] == "50-59"  # born 17 May 1975
    assert first["start_year"].isdigit() and len(first["start_year"]) == 4
    by_change = sorted(line[header.index("first_step_change")] for line in lines)
    assert by_change == ["", "", "-1", "-2", "-3", "-4", "0"]
    assert (
        len(
            AccessLog.objects.get(
                action=AccessLog.Action.EXPORT, record_type="booking.report.outcomes"
            ).patient_ids
        )
        == 7
    )


def test_a_practitioners_outcomes_csv_holds_only_their_courses(
    login, practitioner, data, other_location
):
    elsewhere = a_clinic(location=other_location)
    _course_for(elsewhere, "other", [DONE] * 4, 7, days_ago=30)
    rows = csv_rows(login(practitioner.user).get(reverse("booking:outcomes_csv")))
    assert len(rows) - 1 == 7


# --- Month by month (the charts' numbers) ----------------------------------------------------

# The charts' tests name calendar months (courses two to three months back fall in March), so
# they run at an instant of their own rather than the suite's, which may be any day.
IN_JUNE_2027 = pytest.mark.time_machine(dt.datetime(2027, 6, 9, 14, tzinfo=dt.UTC), tick=True)


@IN_JUNE_2027
def test_each_month_holds_the_courses_whose_first_session_fell_in_it(data):
    """A–F started 75 to 90 days before the suite's instant (March 2027), G three days
    before it (June 2027): the months add up to the year's totals."""
    report = reports.clinic_report(_year(), reports.Scope())
    assert [m.name for m in report.months][:2] == ["Jun 2026", "Jul 2026"]
    assert len(report.months) == 13 and report.months[-1].name == "Jun 2027"
    by_name = {m.name: m for m in report.months}
    march, june = by_name["Mar 2027"], by_name["Jun 2027"]
    assert (march.courses_started, march.completed, march.abandoned, march.ongoing) == (6, 5, 1, 0)
    assert (june.courses_started, june.completed, june.abandoned, june.ongoing) == (1, 0, 0, 1)
    assert march.pain_fell_2 == reports.Figure(3, 5, 5) and march.pain_fell_2.share == 60.0
    assert march.improved_pain_mobility.share == 80.0
    assert march.change.mean == pytest.approx(-2.0)
    assert march.change.sd == pytest.approx((10 / 4) ** 0.5)
    assert sum(m.courses_started for m in report.months) == report.total.courses_started
    # Appointments by the month they were for: the 25 of the period, the no-show and the
    # late cancellation (F's third and fourth weekly sessions, 69 and 62 days before: April).
    assert sum(m.appointments for m in report.months) == 25
    april = by_name["Apr 2027"]
    assert sum(m.no_show.count for m in report.months) == 1
    assert april.no_show.count == 1 and april.late_cancel.count == 1


@IN_JUNE_2027
def test_a_course_counts_in_the_month_of_its_first_session_in_the_locations_time(clinic):
    # 23:30 on 31 March in Toronto is already 1 April in UTC.
    late = dt.datetime(2027, 3, 31, 23, 30, tzinfo=clinic.location.zone)
    assert late.astimezone(dt.UTC).month == 4
    _course_for(clinic, "late", [DONE] * 4, 7, days_ago=0, first_start=late)
    by_name = {m.name: m for m in reports.clinic_report(_year(), reports.Scope()).months}
    assert by_name["Mar 2027"].courses_started == 1
    assert by_name["Apr 2027"].courses_started == 0


@IN_JUNE_2027
def test_the_dashboard_draws_its_charts_with_their_numbers_as_tables(
    login, manager, data, other_location
):
    _course_for(a_clinic(location=other_location), "other", [DONE] * 4, 7, days_ago=30)
    html = login(manager).get(reverse("booking:reports")).content.decode()
    assert "Month by month" in html
    for chart in (
        "chart-outcomes",
        "chart-change",
        "chart-courses",
        "chart-attendance",
        "chart-adverse",
    ):
        assert f'role="img" aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html and f'<desc id="{chart}-desc">' in html
    # March's figures, in the tables under the charts.
    assert '<th scope="row" class="fw-normal">Mar 2027</th><td>60.0% (3 of 5)</td>' in html
    assert "<td>80.0% (4 of 5)</td><td>-2.0 points (SD 1.6, 5 patients)</td>" in html
    assert "Articles: 70% improved pain and mobility" in html
    # June's one course rests on too few patients for an outcome; its counts are shown.
    assert '<th scope="row" class="fw-normal">Jun 2027</th><td>1</td><td>0</td>' in html
    # Adverse events by type: one session in five each for bruising, soreness and bleeding.
    assert '<th scope="row" class="fw-normal">Bruising</th><td>20.0% (1 of 5)</td>' in html
    # Two locations, two practitioners: their lines side by side.
    assert 'aria-labelledby="chart-lines-title chart-lines-desc"' in html
    assert f'<th scope="row" class="fw-normal">Location {other_location.name}</th>' in html
    assert " style=" not in html.split('id="charts-heading"')[1].split("By location")[0]
