"""A prescribed course of 4–6 sessions is proposed, checked, adjusted and booked all at once —
or not at all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.models import Appointment, Course, Status
from booking.services import SessionChoice
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    RoomFactory,
    a_booking,
    a_clinic,
    a_colleague,
    a_course_record,
)
from tests.factories import PatientFactory, certified_practitioner

pytestmark = pytest.mark.django_db


def _weekly(clinic, first: dt.datetime, sessions: int = 6) -> list[SessionChoice]:
    times = services.proposed_dates(
        first=first, zone=clinic.location.zone, sessions=sessions, interval_days=7
    )
    return [
        SessionChoice(n + 1, clinic.location, clinic.practitioner, t) for n, t in enumerate(times)
    ]


def test_it_books_every_session_of_the_course(clinic, patient, prescribe):
    prescribe(patient, clinic.practitioner, sessions=6, minutes=30)
    first = next_weekday(clinic.location, 1, 10)
    course = services.book_course(
        patient=patient, choices=_weekly(clinic, first), actor=clinic.practitioner.user
    )
    sessions = list(course.appointments.order_by("session_number"))
    assert [a.session_number for a in sessions] == [1, 2, 3, 4, 5, 6]
    assert all(a.status == Status.CONFIRMED and a.minutes == 30 for a in sessions)
    assert [a.local_starts_at.strftime("%a %H:%M") for a in sessions] == ["Tue 10:00"] * 6
    assert sessions[0].session_label == "DN 1/6"


def test_a_course_is_refused_until_intake_says_needling_is_appropriate(clinic, patient, prescribe):
    with pytest.raises(services.CourseNotAllowed, match="No signed assessment"):
        services.book_course(
            patient=patient,
            choices=_weekly(clinic, next_weekday(clinic.location, 1, 10)),
            actor=clinic.practitioner.user,
        )
    assert Course.objects.count() == 0


def test_one_conflicting_session_means_nothing_is_booked(clinic, patient, prescribe):
    prescribe(patient, clinic.practitioner, sessions=6, minutes=30)
    first = next_weekday(clinic.location, 1, 10)
    # Someone else's assessment already has the practitioner on the fourth Tuesday.
    a_booking(clinic, first + dt.timedelta(weeks=3))
    with pytest.raises(services.SlotUnavailable, match="Session 4"):
        services.book_course(
            patient=patient, choices=_weekly(clinic, first), actor=clinic.practitioner.user
        )
    assert Course.objects.count() == 0
    assert Appointment.objects.filter(patient=patient).count() == 0


def test_checking_a_course_shows_each_conflict_with_nearest_alternatives(
    clinic, patient, prescribe
):
    prescribe(patient, clinic.practitioner)
    first = next_weekday(clinic.location, 1, 10)
    a_booking(clinic, first + dt.timedelta(weeks=2))  # someone else's assessment
    proposals = services.check_course(
        patient=patient, service=clinic.needling, minutes=30, choices=_weekly(clinic, first)
    )
    assert [p.ok for p in proposals] == [True, True, False, True, True, True]
    conflict = proposals[2]
    assert "busy" in conflict.problems[0]
    assert conflict.alternatives
    assert all(
        abs(a.starts_at - conflict.choice.starts_at) <= dt.timedelta(days=4)
        for a in conflict.alternatives
    )


def test_one_session_can_move_to_another_location(clinic, other_location, patient, prescribe):
    prescribe(patient, clinic.practitioner)
    there = a_clinic(location=other_location)
    first = next_weekday(clinic.location, 1, 10)
    choices = _weekly(clinic, first)
    choices[3] = SessionChoice(4, other_location, there.practitioner, choices[3].starts_at)
    course = services.book_course(patient=patient, choices=choices, actor=clinic.practitioner.user)
    fourth = course.appointments.get(session_number=4)
    assert fourth.location == other_location
    assert (
        fourth.local_starts_at.strftime("%H:%M") == "10:00"
    )  # Toronto and New York share a zone offset
    assert other_location in patient.locations.all()


def test_weekly_sessions_keep_their_wall_clock_time_across_daylight_saving():
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Toronto")
    first = dt.datetime(2026, 10, 20, 10, tzinfo=zone)
    times = services.proposed_dates(first=first, zone=zone, sessions=4, interval_days=7)
    assert [t.astimezone(zone).strftime("%m-%d %H:%M") for t in times] == [
        "10-20 10:00",
        "10-27 10:00",
        "11-03 10:00",
        "11-10 10:00",
    ]
    assert times[1] - times[0] == dt.timedelta(days=7)
    assert times[2] - times[1] == dt.timedelta(days=7, hours=1)  # the clocks fell back


def test_moving_or_cancelling_one_session_keeps_the_others_and_the_numbering(
    clinic, patient, prescribe
):
    prescribe(patient, clinic.practitioner)
    course = services.book_course(
        patient=patient,
        choices=_weekly(clinic, next_weekday(clinic.location, 1, 10)),
        actor=clinic.practitioner.user,
    )
    third = course.appointments.get(session_number=3)
    services.reschedule_appointment(
        third,
        starts_at=third.starts_at + dt.timedelta(days=1),
        actor=clinic.practitioner.user,
        reason="Patient away",
    )
    fifth = course.appointments.get(session_number=5)
    services.cancel_appointment(fifth, by="patient", actor=patient.user, reason="Travelling")
    third.refresh_from_db()
    assert third.session_number == 3 and third.local_starts_at.strftime("%a") == "Wed"
    assert course.appointments.filter(status=Status.CONFIRMED).count() == 5
    # Session 5 can be booked again under the same number, inside the course.
    again = services.rebook_course_session(
        course=course,
        session_number=5,
        location=clinic.location,
        practitioner=clinic.practitioner,
        starts_at=fifth.starts_at + dt.timedelta(days=2),
        actor=clinic.practitioner.user,
    )
    assert again.course == course and again.session_number == 5 and again.minutes == 30
    active = course.appointments.filter(status=Status.CONFIRMED).order_by("session_number")
    assert [a.session_number for a in active] == [1, 2, 3, 4, 5, 6]
    assert again.session_label == "DN 5/6"


def test_the_database_refuses_a_course_of_3_or_7_and_other_lengths(clinic, patient):
    for sessions, minutes in [(3, 30), (7, 30), (6, 25)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            a_course_record(
                patient, clinic.practitioner, sessions_planned=sessions, minutes=minutes
            )


def test_a_course_with_the_wrong_number_of_sessions_is_refused(clinic, patient, prescribe):
    prescribe(patient, clinic.practitioner, sessions=4)
    with pytest.raises(services.CourseNotAllowed, match="prescribes 4 sessions"):
        services.book_course(
            patient=patient,
            choices=_weekly(clinic, next_weekday(clinic.location, 1, 10), 6),
            actor=clinic.practitioner.user,
        )


def test_an_uncertified_practitioner_cannot_take_a_needling_session(
    clinic, patient, prescribe, location
):
    prescribe(patient, clinic.practitioner)
    uncertified = a_colleague(clinic, certified=False)
    choices = _weekly(clinic, next_weekday(clinic.location, 1, 10))
    choices[0] = SessionChoice(1, location, uncertified, choices[0].starts_at)
    with pytest.raises(services.SlotUnavailable, match="no dry-needling certification"):
        services.book_course(patient=patient, choices=choices, actor=clinic.practitioner.user)


# --- The page ---


def _session_post(choices, action="book") -> dict:
    data = {
        "action": action,
        "session-TOTAL_FORMS": len(choices),
        "session-INITIAL_FORMS": len(choices),
        "session-MIN_NUM_FORMS": 4,
        "session-MAX_NUM_FORMS": 6,
    }
    for n, choice in enumerate(choices):
        local = choice.starts_at.astimezone(choice.location.zone)
        data |= {
            f"session-{n}-date": local.date().isoformat(),
            f"session-{n}-time": local.strftime("%H:%M"),
            f"session-{n}-location": choice.location.pk,
            f"session-{n}-practitioner": choice.practitioner.pk,
        }
    return data


def test_the_page_says_why_a_course_cannot_be_booked(
    login, clinic, patient, practitioner, prescribe
):
    html = (
        login(practitioner.user)
        .get(reverse("booking:course_book", args=[patient.pk]))
        .content.decode()
    )
    assert "A course cannot be booked yet" in html and "No signed assessment" in html


def _propose(client, url, clinic, first: dt.datetime, practitioner):
    """Ask the course page for weekly sessions from `first` (local) at 10:00 with
    `practitioner` at the clinic."""
    return client.post(
        url,
        {
            "action": "propose",
            "first-date": first.date().isoformat(),
            "first-time": "10:00",
            "first-location": clinic.location.pk,
            "first-practitioner": practitioner.pk,
        },
    )


def test_the_page_proposes_then_books_all_sessions(login, clinic, patient, practitioner, prescribe):
    prescribe(patient, practitioner)
    client = login(practitioner.user)
    url = reverse("booking:course_book", args=[patient.pk])
    first = next_weekday(clinic.location, 1, 10).astimezone(clinic.location.zone)
    proposed = _propose(client, url, clinic, first, practitioner)
    assert proposed.content.decode().count("Free</span>") == 6
    response = client.post(url, _session_post(_weekly(clinic, first)))
    course = Course.objects.get()
    assert response.url == reverse("booking:course_detail", args=[course.pk])
    assert course.appointments.count() == 6


def test_each_proposed_date_shows_its_weekday_in_words(
    login, clinic, patient, practitioner, prescribe
):
    """The browser writes a date field its own way (12/15/2026) with no weekday: the day in
    words stands next to each date field, which points to it."""
    prescribe(patient, practitioner)
    client = login(practitioner.user)
    url = reverse("booking:course_book", args=[patient.pk])
    first = next_weekday(clinic.location, 1, 10).astimezone(clinic.location.zone)
    html = _propose(client, url, clinic, first, practitioner).content.decode()
    for n in range(6):
        day = first + dt.timedelta(weeks=n)
        words = f"{day:%a} {day.day} {day:%b %Y}"  # e.g. "Tue 15 Dec 2026"
        assert f'id="id_session-{n}-date-day">{words}</div>' in html
        assert f'aria-describedby="id_session-{n}-date-day"' in html
    # The first session's date too, as chosen.
    assert f'id="id_first-date-day">{first:%a} {first.day} {first:%b %Y}</div>' in html


def test_a_double_clicked_book_button_books_the_course_once(
    login, clinic, patient, practitioner, prescribe
):
    prescribe(patient, practitioner)
    client = login(practitioner.user)
    url = reverse("booking:course_book", args=[patient.pk])
    data = _session_post(_weekly(clinic, next_weekday(clinic.location, 1, 10)))
    client.post(url, data)
    second = client.post(url, data)
    assert Course.objects.count() == 1
    # The second click finds the sessions taken: the page says so and books nothing more.
    assert second.status_code == 200
    assert "Nothing was booked" in second.content.decode()
    assert Appointment.objects.count() == 6


def test_an_alternative_can_replace_a_conflicting_session(
    login, clinic, patient, practitioner, prescribe
):
    prescribe(patient, practitioner)
    first = next_weekday(clinic.location, 1, 10)
    choices = _weekly(clinic, first)
    busy = a_booking(clinic, choices[1].starts_at, practitioner=practitioner)
    client = login(practitioner.user)
    url = reverse("booking:course_book", args=[patient.pk])
    checked = client.post(url, _session_post(choices, "check")).content.decode()
    assert "Move the sessions marked in yellow" in checked
    later = busy.blocks_until + dt.timedelta(minutes=10)
    use = f"use:1:{clinic.location.pk}:{practitioner.pk}:{later.isoformat()}"
    rechecked = client.post(url, _session_post(choices, use)).content.decode()
    assert rechecked.count("Free</span>") == 6
    assert Course.objects.count() == 0  # checking books nothing


def test_front_desk_of_another_location_cannot_book_a_course(
    login, front_desk_elsewhere, patient, prescribe, clinic
):
    prescribe(patient, clinic.practitioner)
    response = login(front_desk_elsewhere).get(reverse("booking:course_book", args=[patient.pk]))
    assert response.status_code == 404


def test_patients_cannot_book_courses(login, patient):
    assert (
        login(patient.user).get(reverse("booking:course_book", args=[patient.pk])).status_code
        == 403
    )


def test_the_practitioners_home_lists_the_courses_to_book_after_signing(
    login, clinic, patient, practitioner
):
    from tests.intake.factories import signed_assessment, submitted_intake

    submitted_intake(patient)
    note = signed_assessment(patient, practitioner)
    client = login(practitioner.user)
    home = client.get(reverse("clinic:practitioner_home")).content.decode()
    assert "Courses to book" in home and reverse("booking:course_book", args=[patient.pk]) in home
    # With the real gate: book the course, and it leaves the list; a second course is refused.
    first = next_weekday(clinic.location, 1, 10)
    course = services.book_course(
        patient=patient, choices=_weekly(clinic, first), actor=practitioner.user
    )
    assert course.assessment_id == note.pk
    assert "Courses to book" not in client.get(reverse("clinic:practitioner_home")).content.decode()
    with pytest.raises(services.CourseNotAllowed, match="already been booked from this assessment"):
        services.book_course(
            patient=patient,
            choices=_weekly(clinic, first + dt.timedelta(weeks=8)),
            actor=practitioner.user,
        )


def test_the_courses_to_book_panel_costs_a_bounded_number_of_queries(
    login, practitioner, location, django_assert_max_num_queries
):
    from booking.pages import COURSES_TO_BOOK_AT_MOST
    from tests.intake.factories import signed_assessment, submitted_intake

    def assessed(n):
        for _ in range(n):
            patient = PatientFactory(locations=[location])
            submitted_intake(patient)
            signed_assessment(patient, practitioner)

    client = login(practitioner.user)
    url = reverse("clinic:practitioner_home")
    assessed(COURSES_TO_BOOK_AT_MOST)
    client.get(url)
    with CaptureQueriesContext(connection) as full:
        client.get(url)
    assessed(10)  # more than the panel looks at: it costs no more
    with django_assert_max_num_queries(len(full.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("Book the course") == COURSES_TO_BOOK_AT_MOST


__all__ = ["RoomFactory"]


def _menu(html: str, name: str) -> str:
    start = html.index(f'name="{name}"')
    return html[start : html.index("</select>", start)]


def test_the_course_page_offers_only_practitioners_certified_on_each_sessions_date(
    login, clinic, patient, practitioner, prescribe
):
    prescribe(patient, practitioner)
    first = next_weekday(clinic.location, 1, 10).astimezone(clinic.location.zone)
    expired = certified_practitioner(locations=[clinic.location])
    expired.certifications.update(
        valid_from=first.date() - dt.timedelta(days=400),
        valid_until=clinic.location.today() - dt.timedelta(days=1),
    )
    # Current for the first two weekly sessions, expired by the third.
    expiring = certified_practitioner(locations=[clinic.location])
    expiring.certifications.update(valid_until=first.date() + dt.timedelta(days=8))
    client = login(practitioner.user)
    url = reverse("booking:course_book", args=[patient.pk])
    opened = client.get(url).content.decode()
    assert f'value="{expired.pk}"' not in _menu(opened, "first-practitioner")
    html = _propose(client, url, clinic, first, practitioner).content.decode()
    for row in range(6):
        menu = _menu(html, f"session-{row}-practitioner")
        assert f'value="{practitioner.pk}"' in menu
        assert f'value="{expired.pk}"' not in menu
        assert (f'value="{expiring.pk}"' in menu) == (row < 2), row


def test_a_chosen_practitioner_stays_in_the_row_with_the_reason_they_cannot_take_it(
    login, clinic, patient, practitioner, prescribe
):
    prescribe(patient, practitioner)
    first = next_weekday(clinic.location, 1, 10)
    expiring = a_colleague(clinic)
    expiring.certifications.update(
        valid_until=first.astimezone(clinic.location.zone).date() + dt.timedelta(days=8)
    )
    choices = [
        SessionChoice(c.number, c.location, expiring, c.starts_at) for c in _weekly(clinic, first)
    ]
    html = (
        login(practitioner.user)
        .post(reverse("booking:course_book", args=[patient.pk]), _session_post(choices, "check"))
        .content.decode()
    )
    # Not silently replaced by someone else: still chosen, and the check says why not.
    assert f'value="{expiring.pk}" selected' in _menu(html, "session-3-practitioner")
    assert "no dry-needling certification current on that date" in html
    assert Course.objects.count() == 0
