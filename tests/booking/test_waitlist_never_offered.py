"""The waitlist board's places that can never be offered a time: each says why, in the
clinic's words, so that the desk can phone the patient, and the board costs no query more for
it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.booking.factories import a_colleague, a_waitlist_entry
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _lapsed(practitioner, location):
    """Their dry-needling certification ended yesterday on `location`'s clock (the board's
    day: the server's may already be tomorrow), with none to come."""
    practitioner.certifications.update(valid_until=location.today() - dt.timedelta(days=1))


def _left(practitioner, location):
    practitioner.user.locations.remove(location)


def test_a_place_made_online_with_a_practitioner_no_longer_certified_says_it_is_never_offered(
    login, front_desk, clinic, patient
):
    colleague = a_colleague(clinic)
    a_waitlist_entry(clinic, patient, practitioner=colleague)
    _lapsed(colleague, clinic.location)
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    assert "Can never be offered a time:" in html
    assert f"{colleague.name} is no longer certified for dry needling" in html
    assert "Phone the patient to choose another practitioner." in html


def test_a_place_with_a_practitioner_who_left_the_location_says_so(
    login, front_desk, clinic, patient
):
    colleague = a_colleague(clinic)
    a_waitlist_entry(clinic, patient, practitioner=colleague, created_by=front_desk)
    _left(colleague, clinic.location)
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    assert f"{colleague.name} no longer works at {clinic.location.name}" in html


def test_places_that_can_still_be_offered_say_nothing(login, front_desk, clinic, patient):
    renewing = a_colleague(clinic)
    uncertified = a_colleague(clinic, certified=False)
    # A renewal to come counts: the place is offered times from then.
    renewing.certifications.update(valid_from=timezone.localdate() + dt.timedelta(days=10))
    a_waitlist_entry(clinic, patient, practitioner=renewing)
    # The desk's place is offered anyone working there, certified or not (assessments).
    a_waitlist_entry(clinic, PatientFactory(), practitioner=uncertified, created_by=front_desk)
    a_waitlist_entry(clinic, PatientFactory())
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    assert html.count("<tr>") == 4  # heading and three places
    assert "Can never be offered" not in html


def test_the_reasons_cost_no_query_per_place(
    login, front_desk, clinic, django_assert_max_num_queries
):
    url = reverse("booking:waitlist_board", args=[clinic.location.slug])
    client = login(front_desk)
    lapsed, gone = a_colleague(clinic), a_colleague(clinic)
    a_waitlist_entry(clinic, PatientFactory(), practitioner=lapsed)
    client.get(url)  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(5):
        a_waitlist_entry(clinic, PatientFactory(), practitioner=lapsed)
        a_waitlist_entry(clinic, PatientFactory(), practitioner=gone, created_by=front_desk)
    _lapsed(lapsed, clinic.location)
    _left(gone, clinic.location)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("is no longer certified for dry needling") == 6
    assert html.count(f"no longer works at {clinic.location.name}") == 5
