"""A practitioner's private, revocable iCalendar feed: made from their page, read by their
calendar app without a login through the secret in its address, turned off or replaced at will."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from icalendar import Calendar

from booking.models import CalendarFeed, Status
from clinic.models import AccessLog
from tests.booking.conftest import next_weekday
from tests.factories import PatientFactory, certified_practitioner

pytestmark = pytest.mark.django_db


def _new_feed_url(client, practitioner) -> str:
    client.force_login(practitioner.user)
    response = client.post(reverse("booking:calendar_feed_new"))
    assert response.status_code == 200
    url = re.search(r'value="(https?://[^"]+/schedule\.ics)"', response.content.decode()).group(1)
    client.logout()
    return urlsplit(url).path


def test_a_practitioner_subscribes_to_their_schedule(client, clinic, practitioner, patient, book):
    mine = book(patient)
    other_practitioner = certified_practitioner(locations=[clinic.location])
    url = _new_feed_url(client, practitioner)
    response = client.get(url)  # the calendar app: no login
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    events = calendar.walk("VEVENT")
    assert [e.start for e in events] == [mine.starts_at]
    assert "Jordan M." in str(events[0]["SUMMARY"]) and "Miles" not in str(events[0]["SUMMARY"])
    assert not CalendarFeed.objects.filter(practitioner=other_practitioner).exists()
    # Reading the schedule is an access to the patients' records, and is logged.
    assert AccessLog.objects.filter(
        patient=patient, actor=practitioner.user, record_type="booking.calendarfeed"
    ).exists()


def test_a_request_shows_as_tentative_in_the_feed(client, clinic, practitioner, patient, book):
    confirmed = book(patient)
    requested = book(
        PatientFactory(), next_weekday(clinic.location, 2, 10), status=Status.REQUESTED
    )
    events = Calendar.from_ical(client.get(_new_feed_url(client, practitioner)).content).walk(
        "VEVENT"
    )
    status = {e.start: str(e["STATUS"]) for e in events}
    assert status == {confirmed.starts_at: "CONFIRMED", requested.starts_at: "TENTATIVE"}


def test_the_feed_holds_only_a_hash_of_its_secret(client, practitioner, clinic):
    url = _new_feed_url(client, practitioner)
    secret = url.split("/")[-2]
    feed = CalendarFeed.objects.get(practitioner=practitioner)
    assert secret not in feed.token_hash and len(feed.token_hash) == 64


def test_a_new_address_retires_the_old_and_turning_it_off_stops_it(client, practitioner, clinic):
    old = _new_feed_url(client, practitioner)
    new = _new_feed_url(client, practitioner)
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    client.force_login(practitioner.user)
    response = client.post(reverse("booking:calendar_feed_revoke"))
    assert response.url == reverse("booking:calendar_feed")
    client.logout()
    assert client.get(new).status_code == 404


def test_a_made_up_address_finds_nothing(client):
    response = client.get(reverse("booking:practitioner_feed", args=["not-a-real-secret"]))
    assert response.status_code == 404


def test_the_feed_page_shows_the_feed_and_refuses_others(login, practitioner, patient, front_desk):
    client = login(practitioner.user)
    assert "You have no feed" in client.get(reverse("booking:calendar_feed")).content.decode()
    client.post(reverse("booking:calendar_feed_new"))
    assert "Your feed is on since" in client.get(reverse("booking:calendar_feed")).content.decode()
    for url in ("booking:calendar_feed_new", "booking:calendar_feed_revoke"):
        assert client.get(reverse(url)).status_code == 405
    for someone in (patient.user, front_desk):
        assert login(someone).post(reverse("booking:calendar_feed_new")).status_code == 403
    assert CalendarFeed.objects.count() == 1


def test_the_feed_reads_the_schedule_in_a_fixed_number_of_queries(
    client, clinic, practitioner, book, django_assert_max_num_queries
):
    url = _new_feed_url(client, practitioner)
    regular, *others = PatientFactory.create_batch(4)
    for week in range(4):
        book(regular, next_weekday(clinic.location, 1, 10, weeks_ahead=1 + week))
        book(others[week % 3], next_weekday(clinic.location, 1, 14, weeks_ahead=1 + week))
    # The schedule is one query, and the access log one statement: a row for each patient.
    with django_assert_max_num_queries(4):
        assert client.get(url).status_code == 200
    rows = AccessLog.objects.filter(actor=practitioner.user, action="view")
    assert sorted(rows.values_list("patient_id", flat=True)) == sorted(
        p.pk for p in [regular, *others]
    )
    assert set(rows.values_list("record_id", flat=True)) == {str(practitioner.calendar_feed.pk)}
