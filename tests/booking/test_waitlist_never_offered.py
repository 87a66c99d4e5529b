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

from booking import services
from booking.models import WaitlistEntry
from clinic.models import ScheduleException
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_colleague, a_freed_slot, a_waitlist_entry
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


# --- No working hours at the location ------------------------------------------------------------


def _board(login, front_desk, clinic) -> str:
    return (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )


def _no_hours(practitioner, location):
    """They keep working at `location` (it is still theirs on their account), with no hours
    set there."""
    practitioner.working_hours.filter(location=location).delete()


def _extra_hours(practitioner, location, starts_at, hours=8):
    return ScheduleException.objects.create(
        practitioner=practitioner,
        kind=ScheduleException.Kind.EXTRA_HOURS,
        location=location,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=hours),
    )


def test_a_place_naming_a_practitioner_with_no_hours_at_the_location_says_so(
    login, front_desk, clinic, patient, other_location
):
    """Hours at another location are not hours here: no time here is ever theirs, and the
    offers pass the place by."""
    colleague = a_colleague(clinic)
    colleague.user.locations.add(other_location)
    colleague.working_hours.filter(location=clinic.location).update(location=other_location)
    entry = a_waitlist_entry(clinic, patient, practitioner=colleague, created_by=front_desk)
    html = _board(login, front_desk, clinic)
    assert (
        f"{colleague.name} has no working hours at {clinic.location.name} (no weekly hours "
        "while it is open, and no extra hours ahead). Phone the patient to choose another "
        "practitioner." in html
    )
    assert (
        services.offer_freed_slot(
            a_freed_slot(
                clinic, practitioner=colleague, starts_at=next_weekday(clinic.location, 1, 10)
            )
        )
        is None
    )
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING


def test_weekly_hours_on_a_day_the_location_is_closed_are_no_hours(
    login, front_desk, clinic, patient
):
    """The clinic opens Monday to Saturday: Sunday hours hold no time there."""
    colleague = a_colleague(clinic)
    colleague.working_hours.exclude(weekday=0).delete()
    colleague.working_hours.update(weekday=6)
    a_waitlist_entry(clinic, patient, practitioner=colleague, created_by=front_desk, weekdays=[6])
    assert f"{colleague.name} has no working hours at" in _board(login, front_desk, clinic)
    sunday = next_weekday(clinic.location, 6, 10)
    assert (
        services.offer_freed_slot(a_freed_slot(clinic, practitioner=colleague, starts_at=sunday))
        is None
    )


def test_a_place_naming_a_practitioner_with_extra_hours_ahead_says_nothing_and_is_offered(
    login, front_desk, clinic, patient
):
    """No weekly hours, but extra hours set for next Tuesday (extra hours that are over do
    not count): the place is offered a time freed then, so the board does not say never."""
    colleague = a_colleague(clinic)
    _no_hours(colleague, clinic.location)
    tuesday = next_weekday(clinic.location, 1, 9)
    _extra_hours(colleague, clinic.location, tuesday - dt.timedelta(weeks=2))
    entry = a_waitlist_entry(clinic, patient, practitioner=colleague, created_by=front_desk)
    assert f"{colleague.name} has no working hours at" in _board(login, front_desk, clinic)
    _extra_hours(colleague, clinic.location, tuesday)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    offer = services.offer_freed_slot(
        a_freed_slot(clinic, practitioner=colleague, starts_at=tuesday + dt.timedelta(hours=1))
    )
    assert offer is not None and offer.entry == entry


def test_a_place_for_anyone_where_no_practitioner_has_hours_says_so(
    login, front_desk, clinic, patient
):
    _no_hours(clinic.practitioner, clinic.location)
    entry = a_waitlist_entry(clinic, patient, created_by=front_desk)
    html = _board(login, front_desk, clinic)
    assert (
        "<strong>Can never be offered a time:</strong> no practitioner has working hours at "
        f"{clinic.location.name} (no weekly hours while it is open, and no extra hours ahead). "
        "Phone the patient to choose another location." in html
    )
    tuesday = next_weekday(clinic.location, 1, 10)
    assert (
        services.offer_freed_slot(
            a_freed_slot(clinic, practitioner=clinic.practitioner, starts_at=tuesday)
        )
        is None
    )
    # Someone given hours there (extra hours, here) can take it: the board says nothing more.
    _extra_hours(clinic.practitioner, clinic.location, tuesday)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    assert (
        services.offer_freed_slot(
            a_freed_slot(clinic, practitioner=clinic.practitioner, starts_at=tuesday)
        ).entry
        == entry
    )


def test_a_place_for_anyone_where_nobody_with_hours_still_works_there_says_so(
    login, front_desk, clinic, patient
):
    """Hours left behind by a practitioner who left, or whose account is closed, are nobody's."""
    closed = a_colleague(clinic)
    closed.user.is_active = False
    closed.user.save(update_fields=["is_active"])
    _left(clinic.practitioner, clinic.location)
    a_waitlist_entry(clinic, patient, created_by=front_desk)
    assert "no practitioner has working hours at" in _board(login, front_desk, clinic)
    tuesday = next_weekday(clinic.location, 1, 10)
    assert (
        services.offer_freed_slot(
            a_freed_slot(clinic, practitioner=clinic.practitioner, starts_at=tuesday)
        )
        is None
    )
    assert (
        services.offer_freed_slot(a_freed_slot(clinic, practitioner=closed, starts_at=tuesday))
        is None
    )


def test_a_place_made_online_for_anyone_where_no_one_with_hours_is_certified_says_so(
    login, front_desk, clinic, patient
):
    """A place the patient made online is offered certified practitioners only; the desk's
    place for anyone is offered the uncertified colleague working there."""
    uncertified = a_colleague(clinic, certified=False)
    _lapsed(clinic.practitioner, clinic.location)
    online = a_waitlist_entry(clinic, patient)
    desks = a_waitlist_entry(clinic, PatientFactory(), created_by=front_desk)
    html = _board(login, front_desk, clinic)
    assert (
        f"no practitioner working at {clinic.location.name} is certified for dry needling, and "
        "a place the patient made online is offered certified practitioners only. Phone the "
        "patient to choose another location." in html
    )
    assert html.count("Can never be offered") == 1
    offer = services.offer_freed_slot(
        a_freed_slot(
            clinic, practitioner=uncertified, starts_at=next_weekday(clinic.location, 1, 10)
        )
    )
    assert offer.entry == desks
    online.refresh_from_db()
    assert online.state == WaitlistEntry.State.WAITING


def test_a_place_made_online_for_anyone_with_a_certified_practitioner_there_says_nothing(
    login, front_desk, clinic, patient
):
    a_colleague(clinic, certified=False)
    entry = a_waitlist_entry(clinic, patient)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    tuesday = next_weekday(clinic.location, 1, 10)
    assert (
        services.offer_freed_slot(
            a_freed_slot(clinic, practitioner=clinic.practitioner, starts_at=tuesday)
        ).entry
        == entry
    )


@pytest.mark.parametrize("lapsed_days_ago, never", [(0, False), (1, True)])
def test_certifications_lapse_on_the_locations_date_not_the_servers(
    login, front_desk, clinic, patient, time_machine, lapsed_days_ago, never
):
    """At 22:00 in Toronto it is already tomorrow in UTC: a certification valid until today
    on the location's clock still lets the place made online be offered (the offers check it
    on the local date of the time offered); one that ended yesterday there does not."""
    location = clinic.location
    evening = dt.datetime.combine(location.today(), dt.time(22), tzinfo=location.zone)
    time_machine.move_to(evening, tick=False)
    assert timezone.localdate() == location.today() + dt.timedelta(days=1)
    clinic.practitioner.certifications.update(
        valid_until=location.today() - dt.timedelta(days=lapsed_days_ago)
    )
    a_waitlist_entry(clinic, patient)
    html = _board(login, front_desk, clinic)
    assert ("is certified for dry needling" in html) is never
    assert ("Can never be offered" in html) is never


def test_places_for_anyone_cost_no_query_per_place(
    login, front_desk, clinic, django_assert_max_num_queries
):
    url = reverse("booking:waitlist_board", args=[clinic.location.slug])
    client = login(front_desk)
    _no_hours(clinic.practitioner, clinic.location)
    idle = a_colleague(clinic)
    _no_hours(idle, clinic.location)
    a_waitlist_entry(clinic, PatientFactory(), created_by=front_desk)
    client.get(url)  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(5):
        a_waitlist_entry(clinic, PatientFactory(), created_by=front_desk)
        a_waitlist_entry(clinic, PatientFactory())
        a_waitlist_entry(clinic, PatientFactory(), practitioner=idle, created_by=front_desk)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("no practitioner has working hours at") == 11
    assert html.count(f"{idle.name} has no working hours at") == 5


def test_a_needling_place_from_before_says_it_is_never_offered(login, front_desk, clinic, patient):
    """Needling places can no longer be made; one left from before is skipped by the offers
    whoever is certified there, and the board says so rather than keep it waiting silently."""
    entry = a_waitlist_entry(clinic, patient, service=clinic.needling, created_by=front_desk)
    a_waitlist_entry(clinic, PatientFactory(), created_by=front_desk)  # an assessment: offered
    html = _board(login, front_desk, clinic)
    assert (
        "<strong>Can never be offered a time:</strong> dry-needling sessions come as a course "
        "after the assessment, never from the waitlist. To have a session of their course "
        "earlier, move it on the schedule; then take this place off." in html
    )
    assert html.count("Can never be offered") == 1
    freed = a_freed_slot(clinic, next_weekday(clinic.location, 1, 10), service=clinic.needling)
    assert services.offer_freed_slot(freed) is None
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING
