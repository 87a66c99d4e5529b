"""Where the decision is shown (the signed assessment note and the chart), a plan that
prescribes a course offers "Book the course"; once the course is booked, the page shows it
with its next session and a link to it, instead of "Can be booked". Intake learns this from
booking through `register_courses` (intake never imports booking)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from booking.models import Status
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_course
from tests.intake.factories import AssessmentFactory, sign_note_now, signed_assessment

pytestmark = pytest.mark.django_db


def _note(client, note) -> str:
    response = client.get(reverse("intake:assessment_detail", args=[note.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _chart(client, patient) -> str:
    response = client.get(reverse("intake:patient_chart", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _when(instant: dt.datetime, location) -> str:
    return dateformat.format(instant.astimezone(location.zone), "D j M Y, g:i A T")


def test_the_signed_note_offers_to_book_the_course(
    login, clinic, practitioner, patient, prescribed
):
    html = _note(login(practitioner.user), prescribed)
    book = reverse("booking:course_book", args=[patient.pk])
    assert f'href="{book}">Book the course' in html
    # The link leads to a page that books this plan's course.
    page = login(practitioner.user).get(book).content.decode()
    assert "6 sessions of 30 minutes" in page


def test_the_chart_offers_to_book_the_course_to_the_desk_and_the_practitioner(
    login, practitioner, front_desk, patient, prescribed
):
    book = reverse("booking:course_book", args=[patient.pk])
    for user in (practitioner.user, front_desk):
        html = _chart(login(user), patient)
        assert "Can be booked" in html
        assert f'href="{book}">Book the course' in html


def test_a_booked_course_is_shown_with_its_next_session_instead_of_can_be_booked(
    login, clinic, practitioner, front_desk, patient, prescribed
):
    # Last week's, attended; the second is within the coming hour, whatever the suite's instant.
    # Counted in UTC: a week on the location's clock is an hour short or long across the change
    # of clocks (in the hour it goes back, 01:00 a week later was the first 01:00, already past).
    soon = timezone.now() + dt.timedelta(hours=1)
    first = soon.replace(minute=0, second=0, microsecond=0) - dt.timedelta(weeks=1)
    assert first < timezone.now() < first + dt.timedelta(weeks=1)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED] + [Status.CONFIRMED] * 5,
        first_start=first,
        assessment=prescribed,
        sessions_planned=6,
    )
    second = first + dt.timedelta(weeks=1)
    expected = (
        f"<strong>Course booked:</strong> 6 sessions, next on {_when(second, clinic.location)}"
        f" at {clinic.location.name}."
    )
    course_page = reverse("booking:course_detail", args=[course.pk])
    book = reverse("booking:course_book", args=[patient.pk])
    pages = [
        _chart(login(front_desk), patient),
        _chart(login(practitioner.user), patient),
        _note(login(practitioner.user), prescribed),
    ]
    for html in pages:
        assert expected in html
        assert f'href="{course_page}"' in html
        assert "Can be booked" not in html
        assert book not in html


def test_a_course_with_no_session_to_come_says_so(login, clinic, practitioner, patient, prescribed):
    first = next_weekday(clinic.location, 1, 10, weeks_ahead=-1)
    a_course(
        clinic,
        patient,
        statuses=[Status.COMPLETED, Status.CANCELLED],
        first_start=first - dt.timedelta(weeks=1),
        assessment=prescribed,
        sessions_planned=6,
    )
    html = _chart(login(practitioner.user), patient)
    assert "<strong>Course booked:</strong> 6 sessions, none still to come." in html


def test_only_the_latest_decision_offers_a_course(login, practitioner, patient):
    older = sign_note_now(
        AssessmentFactory(patient=patient, author=practitioner),
        at=timezone.now() - dt.timedelta(days=30),
    )
    latest = signed_assessment(patient, practitioner)
    book = reverse("booking:course_book", args=[patient.pk])
    assert book not in _note(login(practitioner.user), older)
    assert book in _note(login(practitioner.user), latest)


def test_a_draft_offers_nothing(login, practitioner, patient, prescribed):
    draft = AssessmentFactory(patient=patient, author=practitioner)
    html = _note(login(practitioner.user), draft)
    assert reverse("booking:course_book", args=[patient.pk]) not in html


def test_no_offer_when_needling_is_not_appropriate(login, practitioner, patient):
    book = reverse("booking:course_book", args=[patient.pk])
    refused = signed_assessment(
        patient,
        practitioner,
        needling_appropriate=False,
        planned_sessions=None,
        session_minutes=None,
    )
    assert book not in _note(login(practitioner.user), refused)
    assert book not in _chart(login(practitioner.user), patient)
