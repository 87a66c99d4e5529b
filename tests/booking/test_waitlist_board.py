"""The waitlist board of a location: who is waiting for what, first come first served; the
front desk offers a freed time by hand, adds a patient, or takes one off."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.forms import slot_choice_value
from booking.models import WaitlistEntry, WaitlistOffer
from clinic.models import AccessLog
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_clinic,
    an_appointment,
    joined_waitlist,
)
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _wait(clinic, patient, *, days_ago=0, weekdays=(0, 1, 2, 3, 4)):
    entry = joined_waitlist(
        clinic, patient, weekdays=weekdays, earliest=dt.time(9), latest=dt.time(17)
    )
    WaitlistEntry.objects.filter(pk=entry.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    return entry


def test_the_board_lists_who_waits_first_come_first_served(
    login, front_desk, clinic, other_location
):
    later = _wait(clinic, PatientFactory(last_name="Later"), days_ago=1)
    first = _wait(clinic, PatientFactory(last_name="First"), days_ago=5, weekdays=(1, 3))
    elsewhere = a_clinic(location=other_location)
    _wait(elsewhere, PatientFactory(last_name="Elsewhere"))
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    assert html.index(first.patient.full_name) < html.index(later.patient.full_name)
    assert "Tue, Thu · 9:00 AM–5:00 PM" in html
    assert "Elsewhere" not in html
    # Their days and times meet the practitioner's hours: nothing to phone them about.
    assert "Can never be offered" not in html


def test_a_waiting_patient_flagged_for_review_is_shown_so_with_the_reasons(
    login, front_desk, clinic, intake
):
    flagged = _wait(clinic, PatientFactory(last_name="Flagged")).patient
    clear = _wait(clinic, PatientFactory(last_name="Clear")).patient
    intake.record(flagged, submitted=True, flagged_for_review=True, flag_reasons=("Pacemaker",))
    intake.ready(clear)
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    assert clear.full_name in html
    assert '<span class="badge badge-flagged">Flagged for review</span>' in html
    assert html.count("Flagged for review") == 1
    # The reasons are health information, for the appointment's own page: not on a list.
    assert "Pacemaker" not in html
    # Each patient shown is logged as a list row, never as a view of their record.
    assert set(AccessLog.objects.values_list("action", flat=True)) == {AccessLog.Action.LIST}
    assert set(AccessLog.objects.values_list("patient_id", flat=True)) == {flagged.pk, clear.pk}


def test_the_board_costs_a_fixed_number_of_queries_however_many_wait(
    login, front_desk, clinic, intake, django_assert_max_num_queries
):
    def flagged(n):
        for _ in range(n):
            patient = _wait(clinic, PatientFactory()).patient
            intake.record(patient, flagged_for_review=True, flag_reasons=("Pacemaker",))

    url = reverse("booking:waitlist_board", args=[clinic.location.slug])
    client = login(front_desk)
    flagged(1)
    client.get(url)  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    flagged(15)
    intake.calls = 0
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = client.get(url).content.decode()
    assert html.count("Flagged for review") == 16
    assert intake.calls == 1  # intake is asked once for the whole board


def test_a_freed_time_is_offered_by_hand_and_the_patient_sees_it(
    login, client, front_desk, clinic, patient
):
    entry = _wait(clinic, patient)
    target = next_weekday(clinic.location, 2, 10)
    desk = login(front_desk)
    page = desk.get(reverse("booking:waitlist_offer", args=[entry.pk])).content.decode()
    assert slot_choice_value(clinic.practitioner.pk, target) in page
    response = desk.post(
        reverse("booking:waitlist_offer", args=[entry.pk]),
        {"slot": slot_choice_value(clinic.practitioner.pk, target)},
    )
    assert response.url == reverse("booking:waitlist_board", args=[clinic.location.slug])
    offer = WaitlistOffer.objects.get(entry=entry)
    assert (offer.state, offer.offered_by, offer.hold.starts_at) == ("open", front_desk, target)
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.OFFERED
    board = desk.get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
    assert "Offered" in board.content.decode()
    client.force_login(patient.user)
    assert (
        "Earlier times offered to you"
        in client.get(reverse("booking:my_appointments")).content.decode()
    )


def test_only_times_that_suit_the_patient_are_offered(login, front_desk, clinic, patient):
    entry = _wait(clinic, patient, weekdays=(3,))  # Thursdays only
    page = (
        login(front_desk).get(reverse("booking:waitlist_offer", args=[entry.pk])).content.decode()
    )
    tuesday = next_weekday(clinic.location, 1, 10, weeks_ahead=0)
    thursday = next_weekday(clinic.location, 3, 10, weeks_ahead=0)
    if thursday < timezone.now() + dt.timedelta(hours=2):
        thursday += dt.timedelta(weeks=1)
    assert slot_choice_value(clinic.practitioner.pk, thursday) in page
    assert slot_choice_value(clinic.practitioner.pk, tuesday) not in page


def test_a_time_taken_meanwhile_is_not_offered(login, front_desk, clinic, patient):
    entry = _wait(clinic, patient)
    target = next_weekday(clinic.location, 2, 10)
    an_appointment(clinic, PatientFactory(), target)  # someone else's
    response = login(front_desk).post(
        reverse("booking:waitlist_offer", args=[entry.pk]),
        {"slot": slot_choice_value(clinic.practitioner.pk, target)},
    )
    assert "Nothing was offered" in messages_said(response)
    assert not WaitlistOffer.objects.exists()


def test_a_patient_is_taken_off_the_waitlist(login, front_desk, clinic, patient):
    entry = _wait(clinic, patient)
    login(front_desk).post(reverse("booking:waitlist_remove", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WITHDRAWN


def test_a_patient_booked_from_an_offer_is_not_taken_off_by_a_board_drawn_before(
    login, front_desk, clinic, patient
):
    """The board showed the patient waiting; meanwhile they accepted the time offered to them.
    "Take off" then changes nothing: their place stays booked, the accepted offer accepted."""
    entry = _wait(clinic, patient)
    offer = services.offer_slot_by_hand(
        entry=entry,
        practitioner=clinic.practitioner,
        starts_at=next_weekday(clinic.location, 2, 10),
        actor=front_desk,
    )
    services.accept_offer(offer, actor=patient.user)
    response = login(front_desk).post(
        reverse("booking:waitlist_remove", args=[entry.pk]), follow=True
    )
    assert "is no longer waiting: nothing was changed" in messages_said(response)
    entry.refresh_from_db()
    offer.refresh_from_db()
    assert (entry.state, offer.state) == (WaitlistEntry.State.BOOKED, WaitlistOffer.State.ACCEPTED)


def test_the_desk_puts_a_patient_on_the_waitlist(login, front_desk, clinic, patient):
    response = login(front_desk).post(
        reverse("booking:waitlist_add", args=[clinic.location.slug, patient.pk]),
        {
            "service": clinic.assessment.pk,
            "minutes": "45",
            "practitioner": "",
            "weekdays": ["0", "2"],
            "earliest_time": "08:00",
            "latest_time": "12:00",
        },
    )
    assert response.url == reverse("booking:waitlist_board", args=[clinic.location.slug])
    entry = WaitlistEntry.objects.get(patient=patient)
    assert (entry.service, entry.minutes, entry.weekdays, entry.created_by) == (
        clinic.assessment,
        45,
        [0, 2],
        front_desk,
    )


def test_a_length_the_service_does_not_have_is_refused(login, front_desk, clinic, patient):
    from clinic.models import ServiceKind
    from tests.factories import ServiceFactory

    ServiceFactory(kind=ServiceKind.REASSESSMENT, allowed_minutes=[30], default_minutes=30)
    response = login(front_desk).post(
        reverse("booking:waitlist_add", args=[clinic.location.slug, patient.pk]),
        {
            "service": clinic.assessment.pk,
            "minutes": "30",
            "weekdays": ["0"],
            "earliest_time": "08:00",
            "latest_time": "12:00",
        },
    )
    assert "Initial assessment lasts 45, 60 minutes." in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_needling_sessions_have_no_waitlist_they_come_with_a_course(
    login, front_desk, clinic, patient
):
    """A waitlist place for needling would give a session to a patient nobody has assessed
    (the course gate): the desk is not offered it, a forged form is refused, and so is the
    service itself."""
    url = reverse("booking:waitlist_add", args=[clinic.location.slug, patient.pk])
    client = login(front_desk)
    assert "Dry-needling session" not in client.get(url).content.decode()
    forged = {
        "service": clinic.needling.pk,
        "minutes": "30",
        "weekdays": ["0"],
        "earliest_time": "08:00",
        "latest_time": "12:00",
    }
    response = client.post(url, forged)
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with pytest.raises(services.BookingError, match="booked as a course"):
        services.join_waitlist(
            patient=patient,
            location=clinic.location,
            service=clinic.needling,
            minutes=30,
            weekdays=[0],
            earliest_time=dt.time(8),
            latest_time=dt.time(12),
            actor=front_desk,
        )
    assert not WaitlistEntry.objects.exists()


def test_the_admin_shows_places_and_leaves_making_and_taking_off_to_the_board(
    login, manager, clinic, patient
):
    """The admin once saved a day 7 or a needling place; places are made and taken off where
    the rules are checked and an offer passes to the next patient (the board, the patient's
    pages), and the admin only shows them."""
    entry = _wait(clinic, patient)
    client = login(manager)
    assert (
        client.get(reverse("admin:booking_waitlistentry_change", args=[entry.pk])).status_code
        == 200
    )
    refused = client.post(
        reverse("admin:booking_waitlistentry_change", args=[entry.pk]),
        {"weekdays": "7", "minutes": 60, "state": "waiting"},
    )
    assert refused.status_code == 403
    assert client.get(reverse("admin:booking_waitlistentry_add")).status_code == 403
    assert (
        client.post(reverse("admin:booking_waitlistentry_delete", args=[entry.pk])).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.weekdays == [0, 1, 2, 3, 4] and entry.state == WaitlistEntry.State.WAITING


def test_the_times_freed_lately_leave_out_those_booked_again_since(login, front_desk, clinic):
    """The board's "times freed in the last week" are times to offer by hand: one cancelled
    and then booked by someone else is no longer free, and offering it would be refused."""
    taken_again = next_weekday(clinic.location, 1, 10)
    still_free = next_weekday(clinic.location, 2, 14)
    for start in (taken_again, still_free):
        cancelled = an_appointment(clinic, PatientFactory(), start)
        services.cancel_appointment(cancelled, by="patient", actor=front_desk, reason="Away")
    an_appointment(clinic, PatientFactory(), taken_again)
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    freed = html[html.index('id="freed-heading"') :]
    assert f"{still_free:%a %-d %b} 2:00 PM" in freed
    assert f"{taken_again:%a %-d %b}" not in freed
