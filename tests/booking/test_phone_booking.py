"""Phone and walk-in bookings: find the patient by name, phone, email or date of birth
(forgiving of case, accents and small misspellings), or add them with the minimum details;
then book an assessment, or go on to their course."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking.desk.helpers import day_url
from booking.forms import slot_choice_value
from booking.models import Appointment, Status
from clinic.models import AccessLog, Patient
from tests.booking.conftest import next_weekday
from tests.booking.factories import an_appointment
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def robert(location):
    """A phone patient with accents in his name and no login."""
    return PatientFactory(
        user=None,
        first_name="Robert",
        last_name="Côté",
        email="",
        phone="416-555-0151",
        date_of_birth=dt.date(1958, 11, 30),
        locations=[location],
    )


@pytest.fixture
def nadia(location):
    return PatientFactory(
        user__first_name="Nadia",
        user__last_name="Haddad",
        user__email="nadia.haddad@example.org",
        phone="416-555-0172",
        date_of_birth=dt.date(1983, 2, 9),
        locations=[location],
    )


def _find(client, location, **query):
    return client.post(reverse("booking:find_patient", args=[location.slug]), query)


@pytest.mark.parametrize(
    "typed",
    [
        "cote",
        "COTÉ",
        "robert côte",
        "Robert Cote",
        "416-555-0151",
        "(416) 555 0151",
        "1958-11-30",
        "30/11/1958",
    ],
)
def test_a_patient_is_found_however_the_desk_types_them(login, front_desk, robert, nadia, typed):
    html = _find(login(front_desk), robert.locations.first(), q=typed).content.decode()
    assert "Robert Côté" in html and "Nadia Haddad" not in html


def test_a_patient_is_found_by_email_and_by_date_of_birth_field(
    login, front_desk, location, nadia, robert
):
    client = login(front_desk)
    assert "Nadia Haddad" in _find(client, location, q="NADIA.HADDAD@example").content.decode()
    by_birth = _find(client, location, born="1983-02-09").content.decode()
    assert "Nadia Haddad" in by_birth and "Robert Côté" not in by_birth


def test_a_misspelled_name_offers_the_closest_names(login, front_desk, location, nadia):
    html = _find(login(front_desk), location, q="Hadad").content.decode()
    assert "No exact match; closest names" in html and "Nadia Haddad" in html


def test_the_search_finds_only_patients_of_my_locations(login, front_desk, location, other_patient):
    html = _find(login(front_desk), location, q=other_patient.last_name).content.decode()
    assert "No patient found" in html


# --- A new patient ----------------------------------------------------------------------------


def test_a_new_patient_needs_only_the_minimum(login, front_desk, location):
    response = login(front_desk).post(
        reverse("booking:new_patient", args=[location.slug]),
        {
            "first_name": "Amélie",
            "last_name": "Tremblay",
            "date_of_birth": "1971-06-02",
            "phone": "416-555-0111",
            "email": "",
            "practitioner": "7",
            "at": "2030-01-08T15:00:00Z",
        },
    )
    patient = Patient.objects.get(last_name="Tremblay")
    assert (patient.user, patient.preferred_location) == (None, location)
    assert list(patient.locations.all()) == [location]
    assert response.url == (
        reverse("booking:book_for_patient", args=[location.slug, patient.pk])
        + "?practitioner=7&at=2030-01-08T15%3A00%3A00Z"
    )
    assert AccessLog.objects.filter(actor=front_desk, patient=patient, action="create").exists()


def test_a_new_patient_with_bad_details_gets_messages_on_the_fields(login, front_desk, location):
    response = login(front_desk).post(
        reverse("booking:new_patient", args=[location.slug]),
        {"first_name": "A", "last_name": "", "date_of_birth": "2999-01-01", "phone": "x"},
    )
    html = response.content.decode()
    assert "This field is required." in html
    assert not Patient.objects.filter(first_name="A").exists()


def test_a_probable_duplicate_is_shown_before_adding(login, front_desk, location, robert):
    client = login(front_desk)
    details = {
        "first_name": "Robert",
        "last_name": "Cote",
        "date_of_birth": "1958-11-30",
        "phone": "416-555-0000",
    }
    response = client.post(reverse("booking:new_patient", args=[location.slug]), details)
    assert "This may be a patient you already have" in response.content.decode()
    assert Patient.objects.filter(date_of_birth=robert.date_of_birth).count() == 1
    client.post(
        reverse("booking:new_patient", args=[location.slug]),
        details | {"confirm_new": "1", "seen": [robert.pk]},
    )
    assert Patient.objects.filter(date_of_birth=robert.date_of_birth).count() == 2


def test_someone_else_confirmed_twice_is_added_once(login, front_desk, location, robert):
    """ "It is someone else: add them" clicked twice (or sent again from the back button): the
    second sees the patient the first added, and asks again instead of adding them twice."""
    client = login(front_desk)
    url = reverse("booking:new_patient", args=[location.slug])
    details = {
        "first_name": "Robert",
        "last_name": "Cote",
        "date_of_birth": "1958-11-30",
        "phone": "416-555-0000",
    }
    shown = client.post(url, details).content.decode()
    assert f'name="seen" value="{robert.pk}"' in shown
    confirmed = details | {"confirm_new": "1", "seen": [robert.pk]}
    assert client.post(url, confirmed).status_code == 302
    again = client.post(url, confirmed)
    added = Patient.objects.get(date_of_birth=robert.date_of_birth, phone="416-555-0000")
    assert Patient.objects.filter(date_of_birth=robert.date_of_birth).count() == 2
    assert again.status_code == 200
    html = again.content.decode()
    assert "This may be a patient you already have" in html
    assert reverse("booking:book_for_patient", args=[location.slug, added.pk]) in html


@pytest.mark.django_db(transaction=True)
def test_two_desks_adding_the_same_new_patient_at_once_add_them_once(location):
    """Two desks (or a double click) on their own connections, the second while the first is
    still adding, with nobody like them on record yet: the second waits for the first, then is
    shown the patient it added."""
    from booking import services
    from booking.desk.patient_search import possible_duplicates
    from tests.booking.races import first_holds_its_lock

    born = dt.date(1966, 4, 12)

    def add():
        services.register_patient_at_desk(
            location=location,
            first_name="Marie",
            last_name="Gagnon",
            date_of_birth=born,
            phone="416-555-0199",
            duplicates=lambda: possible_duplicates(
                Patient.objects.all(), first_name="Marie", last_name="Gagnon", date_of_birth=born
            ),
        )

    first, second, waited = first_holds_its_lock(
        add, add, won="added", lost=(services.PossibleDuplicates, "shown")
    )
    assert (first, second) == ("added", "shown: This may be a patient you already have.")
    assert waited
    assert Patient.objects.filter(date_of_birth=born).count() == 1


# --- Booking --------------------------------------------------------------------------------------


def test_an_assessment_is_booked_by_phone(login, front_desk, clinic, robert, intake):
    start = next_weekday(clinic.location, 1, 11)
    day = start.astimezone(clinic.location.zone).date()
    client = login(front_desk)
    book = reverse("booking:book_for_patient", args=[clinic.location.slug, robert.pk])
    page = client.get(book, {"date": day.isoformat()}).content.decode()
    assert slot_choice_value(clinic.practitioner.pk, start) in page
    response = client.post(
        book,
        {
            "service": "assessment",
            "minutes": "60",
            "slot": slot_choice_value(clinic.practitioner.pk, start),
            "channel": "phone",
        },
    )
    appointment = Appointment.objects.get(patient=robert)
    assert (appointment.status, appointment.starts_at, appointment.minutes) == (
        Status.CONFIRMED,
        start,
        60,
    )
    assert appointment.events.get().reason == "Booked by phone"
    assert (
        response.url
        == reverse("booking:location_day", args=[clinic.location.slug]) + f"?date={day.isoformat()}"
    )
    assert AccessLog.objects.filter(patient=robert, action="create").exists()


def test_book_clicked_twice_says_the_time_is_booked_not_that_nothing_was(
    login, front_desk, clinic, robert, intake
):
    """The second click (or the form sent again from the back button) finds the patient's
    appointment the first one made: the desk is told it is booked, and goes back to the day,
    rather than "nothing was booked" over the times free now, which invites a second booking."""
    start = next_weekday(clinic.location, 1, 11)
    day = start.astimezone(clinic.location.zone).date()
    client = login(front_desk)
    book = reverse("booking:book_for_patient", args=[clinic.location.slug, robert.pk])
    chosen = {
        "service": "assessment",
        "minutes": "60",
        "slot": slot_choice_value(clinic.practitioner.pk, start),
        "channel": "phone",
    }
    client.get(client.post(book, chosen).url)  # the first answer, and its message, gone by
    again = client.post(book, chosen)
    assert Appointment.objects.filter(patient=robert).count() == 1
    assert again.status_code == 302
    assert again.url == day_url(clinic.location, day)
    said = messages_said(client.get(again.url))
    assert said.startswith(f"Already booked: {robert.full_name}, Initial assessment")
    assert "Nothing was booked" not in said


def test_a_walk_in_gets_a_shorter_assessment_in_a_chosen_room(
    login, front_desk, clinic, robert, intake
):
    start = next_weekday(clinic.location, 2, 9)
    login(front_desk).post(
        reverse("booking:book_for_patient", args=[clinic.location.slug, robert.pk]),
        {
            "service": "assessment",
            "minutes": "45",
            "slot": slot_choice_value(clinic.practitioner.pk, start),
            "room": clinic.rooms[1].pk,
            "channel": "walk_in",
        },
    )
    appointment = Appointment.objects.get(patient=robert)
    assert (appointment.minutes, appointment.room) == (45, clinic.rooms[1])
    assert appointment.events.get().reason == "Booked at the counter (walk-in)"


def test_free_time_chosen_on_the_schedule_is_carried_to_the_booking(
    login, front_desk, clinic, robert, intake
):
    start = next_weekday(clinic.location, 1, 14)
    at = f"{start.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    client = login(front_desk)
    found = _find(client, clinic.location, q="cote", practitioner=clinic.practitioner.pk, at=at)
    html = found.content.decode()
    assert "Time picked on the schedule" in html
    book = reverse("booking:book_for_patient", args=[clinic.location.slug, robert.pk])
    assert f"{book}?practitioner={clinic.practitioner.pk}&amp;at=" in html
    page = client.get(book, {"practitioner": clinic.practitioner.pk, "at": at}).content.decode()
    value = slot_choice_value(clinic.practitioner.pk, start)
    assert f'value="{value}" required checked' in page


def test_a_time_taken_meanwhile_books_nothing(login, front_desk, clinic, robert, intake):
    start = next_weekday(clinic.location, 1, 11)
    an_appointment(clinic, PatientFactory(), start)  # someone else's
    response = login(front_desk).post(
        reverse("booking:book_for_patient", args=[clinic.location.slug, robert.pk]),
        {
            "service": "assessment",
            "minutes": "60",
            "slot": slot_choice_value(clinic.practitioner.pk, start),
        },
    )
    assert response.status_code == 200
    assert "Nothing was booked" in messages_said(response)
    assert not Appointment.objects.filter(patient=robert).exists()


def test_an_assessed_patient_goes_on_to_book_the_course(
    login, front_desk, clinic, robert, prescribe, intake
):
    client = login(front_desk)
    book = reverse("booking:book_for_patient", args=[clinic.location.slug, robert.pk])
    before = client.get(book).content.decode()
    assert "Not yet: No signed assessment recommends dry needling yet." in before
    prescribe(robert, clinic.practitioner, sessions=5, minutes=20)
    after = client.get(book).content.decode()
    assert "The assessment recommends 5 sessions of 20 minutes." in after
    assert reverse("booking:course_book", args=[robert.pk]) in after
