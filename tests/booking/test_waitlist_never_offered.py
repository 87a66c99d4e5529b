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
from booking.models import Room, WaitlistEntry
from clinic import world
from clinic.models import ScheduleException, ServiceKind
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_colleague,
    a_freed_slot,
    a_needling_place_from_before,
    a_waitlist_entry,
)
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
    entry = a_needling_place_from_before(clinic, patient, created_by=front_desk)
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


# --- Hours that never meet the place's days and times ---------------------------------------------
# Flagged: what the offers can never find. Not flagged, and offered: the cases a careless
# rule would call hopeless (hours meeting on one weekday only, extra hours ahead, hours that
# run on from others, one practitioner among several).


def _works(practitioner, location, hours: dict):
    """Their weekly hours at `location` are `hours` only ({weekday: [(start, end), …]})."""
    practitioner.working_hours.filter(location=location).delete()
    for weekday, spans in hours.items():
        for start, end in spans:
            practitioner.working_hours.create(
                location=location, weekday=weekday, starts_at=start, ends_at=end
            )


def _local(location, weekday: int, hour: int, minute: int = 0, weeks_ahead: int = 1):
    return next_weekday(location, weekday, hour, minute, weeks_ahead=weeks_ahead)


def _reassessment():
    return world.service(ServiceKind.REASSESSMENT)  # 30 minutes


MONDAY, TUESDAY, WEDNESDAY, THURSDAY, SATURDAY = 0, 1, 2, 3, 5
AFTERNOONS = [(dt.time(13), dt.time(17))]


def _offered(freed, entry) -> bool:
    offer = services.offer_freed_slot(freed)
    entry.refresh_from_db()
    return offer is not None and offer.entry == entry


def _desk_place(clinic, patient, front_desk, practitioner, weekdays, earliest, latest, **fields):
    """A place the desk made for a visit with `practitioner` on `weekdays`, between `earliest`
    and `latest` on the location's clock."""
    return a_waitlist_entry(
        clinic,
        patient,
        practitioner=practitioner,
        created_by=front_desk,
        weekdays=weekdays,
        earliest=earliest,
        latest=latest,
        **fields,
    )


def test_a_place_whose_days_and_times_its_practitioner_never_works_says_so(
    login, front_desk, clinic, patient
):
    """Tuesdays 8:00–10:00 with a practitioner who works there Monday and Thursday afternoons
    only: no time of theirs ever suits it."""
    location = clinic.location
    colleague = a_colleague(clinic)
    _works(colleague, location, {MONDAY: AFTERNOONS, THURSDAY: AFTERNOONS})
    entry = _desk_place(clinic, patient, front_desk, colleague, [TUESDAY], dt.time(8), dt.time(10))
    html = _board(login, front_desk, clinic)
    assert (
        "<strong>Can never be offered a time:</strong> the hours "
        f"{colleague.name} works at {location.name} never hold a 60-minute visit on the days and between the times that "
        "suit the patient. Phone the patient to widen the days or times, or to choose another "
        "practitioner." in html
    )
    for freed in (_local(location, TUESDAY, 8), _local(location, THURSDAY, 13)):
        assert not _offered(a_freed_slot(clinic, freed, practitioner=colleague), entry)
    assert entry.state == WaitlistEntry.State.WAITING


def test_hours_before_the_location_opens_do_not_hold_a_visit(login, front_desk, clinic, patient):
    """Tuesday 7:00–12:00 at a location opening at 8:00: a place for 7:00–8:30 has only half
    an hour of it, for an hour's assessment."""
    colleague = a_colleague(clinic)
    _works(colleague, clinic.location, {TUESDAY: [(dt.time(7), dt.time(12))]})
    _desk_place(clinic, patient, front_desk, colleague, [TUESDAY], dt.time(7), dt.time(8, 30))
    assert f"the hours {colleague.name} works at" in _board(login, front_desk, clinic)


def test_a_window_meeting_the_hours_for_less_than_the_visit_says_so_until_hours_run_on(
    login, front_desk, clinic, patient
):
    """Tuesday 9:00–9:20, for a 30-minute re-assessment between 9:00 and 10:00: twenty minutes
    never hold it. Twenty minutes of extra hours next Tuesday from 9:20 run on from them (the
    slot search makes one stretch of the two, long enough though neither is): then 9:00–9:30
    is offered, and the board says nothing."""
    location = clinic.location
    colleague = a_colleague(clinic)
    _works(colleague, location, {TUESDAY: [(dt.time(9), dt.time(9, 20))]})
    entry = _desk_place(
        clinic,
        patient,
        front_desk,
        colleague,
        [TUESDAY],
        dt.time(9),
        dt.time(10),
        service=_reassessment(),
    )
    assert (
        f"the hours {colleague.name} works at {location.name} never hold a 30-minute visit"
        in _board(login, front_desk, clinic)
    )
    nine = _local(location, TUESDAY, 9)
    freed = a_freed_slot(clinic, nine, practitioner=colleague, service=_reassessment())
    assert not _offered(freed, entry)
    _extra_hours(colleague, location, nine + dt.timedelta(minutes=20), hours=20 / 60)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    assert _offered(freed, entry)


@pytest.mark.parametrize("latest, never", [(dt.time(9, 20), True), (dt.time(9, 30), False)])
def test_a_window_ending_before_the_visit_can_end_says_so(
    login, front_desk, clinic, patient, latest, never
):
    """The practitioner works from 9:00: a 30-minute visit wanted by 9:20 never fits; by 9:30
    it does, and is offered."""
    entry = a_waitlist_entry(
        clinic,
        patient,
        practitioner=clinic.practitioner,
        service=_reassessment(),
        weekdays=[TUESDAY],
        earliest=dt.time(8),
        latest=latest,
    )
    assert ("never hold a 30-minute visit" in _board(login, front_desk, clinic)) is never
    nine = _local(clinic.location, TUESDAY, 9)
    assert _offered(a_freed_slot(clinic, nine, service=_reassessment()), entry) is not never


def test_hours_back_to_back_hold_a_visit_across_their_seam(login, front_desk, clinic, patient):
    """Tuesday 9:00–9:15 and 9:15–10:00 are one stretch of work: 9:00–9:30 is free."""
    location = clinic.location
    colleague = a_colleague(clinic)
    seam = dt.time(9, 15)
    _works(colleague, location, {TUESDAY: [(dt.time(9), seam), (seam, dt.time(10))]})
    entry = _desk_place(
        clinic,
        patient,
        front_desk,
        colleague,
        [TUESDAY],
        dt.time(9),
        dt.time(9, 30),
        service=_reassessment(),
    )
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    nine = _local(location, TUESDAY, 9)
    freed = a_freed_slot(clinic, nine, practitioner=colleague, service=_reassessment())
    assert _offered(freed, entry)


def test_hours_meeting_the_window_on_one_of_its_weekdays_only_say_nothing(
    login, front_desk, clinic, patient
):
    """Tuesdays or Thursdays 8:00–10:00, with a practitioner working Tuesday afternoons and
    Thursday mornings: Thursday's hours suit it."""
    location = clinic.location
    colleague = a_colleague(clinic)
    _works(colleague, location, {TUESDAY: AFTERNOONS, THURSDAY: [(dt.time(8), dt.time(12))]})
    entry = _desk_place(
        clinic, patient, front_desk, colleague, [TUESDAY, THURSDAY], dt.time(8), dt.time(10)
    )
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    freed = a_freed_slot(clinic, _local(location, THURSDAY, 8), practitioner=colleague)
    assert _offered(freed, entry)


def test_extra_hours_ahead_on_one_of_its_weekdays_say_nothing_and_are_offered(
    login, front_desk, clinic, patient
):
    """Monday and Thursday afternoons, and extra hours: on a Wednesday, or on a Tuesday that
    is over, they do not suit a place for Tuesdays 8:00–10:00; next Tuesday's do."""
    location = clinic.location
    colleague = a_colleague(clinic)
    _works(colleague, location, {MONDAY: AFTERNOONS, THURSDAY: AFTERNOONS})
    entry = _desk_place(clinic, patient, front_desk, colleague, [TUESDAY], dt.time(8), dt.time(10))
    tuesday = _local(location, TUESDAY, 8)
    _extra_hours(colleague, location, _local(location, WEDNESDAY, 8), hours=4)
    _extra_hours(colleague, location, tuesday - dt.timedelta(weeks=2), hours=4)
    assert f"the hours {colleague.name} works at" in _board(login, front_desk, clinic)
    _extra_hours(colleague, location, tuesday, hours=4)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    assert _offered(a_freed_slot(clinic, tuesday, practitioner=colleague), entry)


def test_extra_hours_today_count_for_what_is_left_of_them(
    login, front_desk, clinic, patient, time_machine
):
    """At 10:00, extra hours today from 8:00 to 12:00 leave 10:00–12:00, which a place for
    this weekday 8:00–10:00 cannot use."""
    location = clinic.location
    ten = dt.datetime.combine(location.today(), dt.time(10), tzinfo=location.zone)
    time_machine.move_to(ten, tick=False)
    colleague = a_colleague(clinic)
    _no_hours(colleague, location)
    _extra_hours(colleague, location, ten - dt.timedelta(hours=2), hours=4)
    _desk_place(clinic, patient, front_desk, colleague, [ten.weekday()], dt.time(8), dt.time(10))
    assert f"the hours {colleague.name} works at" in _board(login, front_desk, clinic)


def test_extra_hours_meet_a_window_on_the_locations_clock(login, front_desk, clinic, patient):
    """Extra hours next Tuesday 20:00–22:00 in Toronto are Wednesday 0:00–2:00 in UTC: they
    suit a place for Tuesday evenings (the location is closed then; extra hours count on
    their own)."""
    location = clinic.location
    colleague = a_colleague(clinic)
    _no_hours(colleague, location)
    evening = _local(location, TUESDAY, 20)
    assert evening.astimezone(dt.UTC).weekday() == WEDNESDAY
    _extra_hours(colleague, location, evening, hours=2)
    entry = _desk_place(clinic, patient, front_desk, colleague, [TUESDAY], dt.time(19), dt.time(23))
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    assert _offered(a_freed_slot(clinic, evening, practitioner=colleague), entry)


def _saturday_mornings(clinic, patient, **fields):
    """A place for anyone, Saturdays 9:00–12:00 (the clinic opens; its practitioner does
    not work)."""
    return a_waitlist_entry(
        clinic, patient, weekdays=[SATURDAY], earliest=dt.time(9), latest=dt.time(12), **fields
    )


def test_a_place_for_anyone_whose_days_and_times_nobody_works_says_so(
    login, front_desk, clinic, patient
):
    entry = _saturday_mornings(clinic, patient, created_by=front_desk)
    html = _board(login, front_desk, clinic)
    assert (
        "<strong>Can never be offered a time:</strong> no practitioner has hours at "
        f"{clinic.location.name} that ever hold a 60-minute visit on the days and between the times "
        "that suit the patient. Phone the patient to widen the days or times, or to choose "
        "another location." in html
    )
    assert not _offered(a_freed_slot(clinic, _local(clinic.location, SATURDAY, 9)), entry)


def test_a_place_for_anyone_where_only_one_practitioners_hours_meet_says_nothing(
    login, front_desk, clinic, patient
):
    colleague = a_colleague(clinic)
    _works(colleague, clinic.location, {SATURDAY: [(dt.time(9), dt.time(12))]})
    online = _saturday_mornings(clinic, patient)
    _saturday_mornings(clinic, PatientFactory(), created_by=front_desk)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
    saturday = _local(clinic.location, SATURDAY, 9)
    assert _offered(a_freed_slot(clinic, saturday, practitioner=colleague), online)


def test_a_place_made_online_for_anyone_whose_times_only_an_uncertified_one_works_says_so(
    login, front_desk, clinic, patient
):
    """A place the patient made online is offered certified practitioners only: Saturday's
    uncertified practitioner is no one for it, and is offered to the desk's place."""
    uncertified = a_colleague(clinic, certified=False)
    _works(uncertified, clinic.location, {SATURDAY: [(dt.time(9), dt.time(12))]})
    online = _saturday_mornings(clinic, patient)
    desks = _saturday_mornings(clinic, PatientFactory(), created_by=front_desk)
    html = _board(login, front_desk, clinic)
    assert (
        "no practitioner certified for dry needling has hours at "
        f"{clinic.location.name} that ever hold a 60-minute visit on the days and between the "
        "times that suit the patient, and a place the patient made online is offered certified "
        "practitioners only. Phone the patient to widen the days or times, or to choose another "
        "location." in html
    )
    assert html.count("Can never be offered") == 1
    saturday = _local(clinic.location, SATURDAY, 9)
    assert _offered(a_freed_slot(clinic, saturday, practitioner=uncertified), desks)
    online.refresh_from_db()
    assert online.state == WaitlistEntry.State.WAITING


def test_places_whose_times_never_meet_the_hours_cost_no_query_per_place(
    login, front_desk, clinic, django_assert_max_num_queries
):
    url = reverse("booking:waitlist_board", args=[clinic.location.slug])
    client = login(front_desk)
    _saturday_mornings(clinic, PatientFactory(), created_by=front_desk)
    client.get(url)  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(5):
        _saturday_mornings(clinic, PatientFactory(), created_by=front_desk)
        _saturday_mornings(clinic, PatientFactory(), practitioner=clinic.practitioner)
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("no practitioner has hours at") == 6
    assert html.count(f"the hours {clinic.practitioner.name} works at") == 5


# --- No room in use ------------------------------------------------------------------------------


def test_a_place_at_a_location_whose_rooms_are_all_inactive_says_so_until_one_is_back(
    login, front_desk, clinic, patient
):
    """Every visit needs a room: with every room there marked inactive, no place at the
    location is ever offered a time, whoever it names."""
    a_waitlist_entry(clinic, patient, created_by=front_desk)
    a_waitlist_entry(clinic, PatientFactory(), practitioner=clinic.practitioner)
    Room.objects.filter(location=clinic.location).update(is_active=False)
    html = _board(login, front_desk, clinic)
    assert html.count(f"{clinic.location.name} has no room in use") == 2
    assert "A manager can make a room active again" in html
    freed = a_freed_slot(clinic, next_weekday(clinic.location, 1, 10))
    assert services.offer_freed_slot(freed) is None
    Room.objects.filter(pk=clinic.rooms[1].pk).update(is_active=True)
    assert "Can never be offered" not in _board(login, front_desk, clinic)
