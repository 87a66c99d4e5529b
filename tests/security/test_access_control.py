"""An attacker's attempts at reaching records they should not, and the refusal each gets.

Covered here: a practitioner's calendar feed kept after the access that justified it is gone
(deactivated, closed, role changed, location left), and the front desk reading a patient's
clinical answers (minimum necessary: they see a questionnaire's state, never its answers)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from booking import calendars
from clinic.models import AccessLog, Role
from clinic.services import remove_login
from tests.booking.factories import AppointmentFactory
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


# --- A calendar feed stops with the access that justified it -----------------------------------


@pytest.fixture
def feed(location, other_location, practitioner):
    """A practitioner working at both locations, one appointment at each in the coming week,
    and the address of their calendar feed."""
    practitioner.user.locations.add(other_location)
    soon = (timezone.now() + dt.timedelta(days=3)).replace(second=0, microsecond=0)
    here = AppointmentFactory(
        location=location,
        practitioner=practitioner,
        patient=PatientFactory(user__first_name="Jordan", user__last_name="Miles"),
        starts_at=soon,
    )
    there = AppointmentFactory(
        location=other_location,
        practitioner=practitioner,
        patient=PatientFactory(user__first_name="Casey", user__last_name="Other"),
        starts_at=soon + dt.timedelta(hours=3),
    )
    token = calendars.new_feed(practitioner)
    return {
        "url": reverse("booking:practitioner_feed", args=[token]),
        "practitioner": practitioner,
        "here": here,
        "there": there,
    }


def _events(response) -> list:
    return Calendar.from_ical(response.content).walk("VEVENT")


def test_a_working_practitioners_feed_serves_their_schedule(client, feed):
    response = client.get(feed["url"])
    assert response.status_code == 200
    assert len(_events(response)) == 2
    assert AccessLog.objects.filter(record_type="booking.calendarfeed").count() == 2


def _refused_without_a_trace(client, url) -> None:
    before = AccessLog.objects.count()
    response = client.get(url)
    assert response.status_code == 404
    assert b"BEGIN:VEVENT" not in response.content
    assert b"Jordan" not in response.content
    assert AccessLog.objects.count() == before


def test_a_deactivated_practitioners_feed_is_refused(client, feed):
    user = feed["practitioner"].user
    user.is_active = False
    user.save()
    _refused_without_a_trace(client, feed["url"])


def test_a_closed_accounts_feed_is_refused(client, feed):
    remove_login(feed["practitioner"].user)
    _refused_without_a_trace(client, feed["url"])


def test_a_feed_stops_when_its_owner_is_no_longer_a_practitioner(client, feed):
    user = feed["practitioner"].user
    user.role = Role.FRONT_DESK
    user.save()
    _refused_without_a_trace(client, feed["url"])


def test_a_feed_serves_only_the_locations_its_owner_still_works_at(client, feed, other_location):
    feed["practitioner"].user.locations.remove(other_location)
    response = client.get(feed["url"])
    assert response.status_code == 200
    events = _events(response)
    assert [e.start for e in events] == [feed["here"].starts_at]
    assert b"Casey" not in response.content
    # And the patient no longer shown is not logged as seen in the practitioner's name.
    assert not AccessLog.objects.filter(patient=feed["there"].patient).exists()


def test_a_feed_of_a_practitioner_with_no_location_left_is_empty(
    client, feed, location, other_location
):
    feed["practitioner"].user.locations.clear()
    response = client.get(feed["url"])
    assert response.status_code in (200, 404)
    assert b"BEGIN:VEVENT" not in response.content
    assert not AccessLog.objects.exists()
