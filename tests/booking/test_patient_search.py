"""Finding a patient: what the desk types is read as name words, phone digits and dates of
birth; PostgreSQL matches them on an indexed, folded text, forgiving case and accents."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from booking.desk.patient_search import (
    MAX_RESULTS,
    SearchText,
    find_patients,
    parse_terms,
    possible_duplicates,
)
from clinic.models import AccessLog, Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _phone_patient(**fields):
    return PatientFactory(user=None, email=fields.pop("email", ""), **fields)


def test_accents_and_capitals_do_not_matter():
    robert = _phone_patient(first_name="Robert", last_name="Côté")
    for typed in ("cote", "CÔTÉ", "côte robert", "Rob"):
        assert find_patients(Patient.objects.all(), parse_terms(typed)) == ([robert], False)


def test_every_word_must_match():
    _phone_patient(first_name="Robert", last_name="Côté")
    assert find_patients(Patient.objects.all(), parse_terms("robert smith"))[0] == []


def test_a_phone_number_matches_whatever_its_punctuation():
    robert = _phone_patient(first_name="Robert", last_name="Côté", phone="416-555-0151")
    for typed in ("4165550151", "(416) 555-0151", "416 555 0151", "555-0151"):
        assert find_patients(Patient.objects.all(), parse_terms(typed))[0] == [robert]


def test_a_date_of_birth_narrows_the_search():
    born = dt.date(1958, 11, 30)
    robert = _phone_patient(first_name="Robert", last_name="Côté", date_of_birth=born)
    _phone_patient(first_name="Robert", last_name="Côté", date_of_birth=dt.date(1990, 1, 1))
    assert find_patients(Patient.objects.all(), parse_terms("cote 30/11/1958"))[0] == [robert]
    assert find_patients(Patient.objects.all(), parse_terms("", born=born))[0] == [robert]


def test_the_search_uses_the_trigram_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    query = Patient.objects.annotate(search_text=SearchText()).filter(search_text__contains="cote")
    assert "booking_patient_search_trgm" in query.explain()


def test_what_was_typed_is_read_as_words_phone_digits_and_dates():
    terms = parse_terms("Côté 416-555 03/04/1975")
    assert terms.words == ("Côté",)
    assert terms.digits == ("416555",)
    assert terms.dates == (dt.date(1975, 3, 4), dt.date(1975, 4, 3))  # day/month or month/day
    assert parse_terms("(416) 555-0151").digits == ("4165550151",)
    assert not parse_terms("   ")


def test_search_results_are_capped(location):
    for n in range(25):
        PatientFactory(
            user=None, first_name="Sam", last_name=f"Lee{n}", email="", locations=[location]
        )
    found, close = find_patients(Patient.objects.all(), parse_terms("sam"))
    assert len(found) == 20 and not close


def test_a_probable_duplicate_is_born_the_same_day_with_a_close_name():
    born = dt.date(1958, 11, 30)
    robert = _phone_patient(first_name="Robert", last_name="Côté", date_of_birth=born)
    _phone_patient(first_name="Alice", last_name="Wong", date_of_birth=born)
    found = possible_duplicates(
        Patient.objects.all(), first_name="Rob", last_name="Cote", date_of_birth=born
    )
    assert found == [robert]


# --- The results page -----------------------------------------------------------------------


def _search_page(client, location, typed):
    return client.post(reverse("booking:find_patient", args=[location.slug]), {"q": typed})


def test_a_patient_flagged_for_review_is_shown_so_without_the_reasons(
    login, front_desk, location, intake
):
    flagged = PatientFactory(
        user=None, first_name="Sam", last_name="Lee", email="", locations=[location]
    )
    clear = PatientFactory(
        user=None, first_name="Sam", last_name="Park", email="", locations=[location]
    )
    intake.record(
        flagged,
        submitted=True,
        flagged_for_review=True,
        flag_reasons=("Takes anticoagulants", "Pregnant"),
    )
    intake.ready(clear)
    html = _search_page(login(front_desk), location, "sam").content.decode()
    assert "Sam Park" in html
    assert '<span class="badge badge-flagged">Flagged for review</span>' in html
    assert html.count("Flagged for review") == 1  # Sam Lee's, not Sam Park's
    # The reasons are health information, and a search also lists near misses: they are on
    # the appointment's own page, not in the results.
    assert "anticoagulants" not in html and "Pregnant" not in html
    # Each patient shown is logged as a list row, never as a view of their record.
    assert set(AccessLog.objects.values_list("action", flat=True)) == {AccessLog.Action.LIST}
    assert {flagged.pk, clear.pk} <= set(AccessLog.objects.values_list("patient_id", flat=True))


def test_the_flags_of_a_page_of_results_cost_a_fixed_number_of_queries(
    login, front_desk, location, intake, django_assert_max_num_queries
):
    for n in range(MAX_RESULTS):
        patient = PatientFactory(
            user=None, first_name="Sam", last_name=f"Lee{n}", email="", locations=[location]
        )
        intake.record(patient, flagged_for_review=True, flag_reasons=("Metal allergy",))
    alone = PatientFactory(
        user=None, first_name="Jo", last_name="Quill", email="", locations=[location]
    )
    intake.record(alone, flagged_for_review=True, flag_reasons=("Metal allergy",))
    client = login(front_desk)
    _search_page(client, location, "quill")  # warm up sessions, templates and the like
    with CaptureQueriesContext(connection) as one:
        _search_page(client, location, "quill")
    intake.calls = 0
    with django_assert_max_num_queries(len(one.captured_queries)):
        html = _search_page(client, location, "sam").content.decode()
    assert html.count("Flagged for review") == MAX_RESULTS
    assert intake.calls == 1  # intake is asked once for the whole page


def test_what_is_typed_never_goes_into_an_address(login, front_desk, location):
    """Names, phone numbers and birth dates would stay in server logs and browser history."""
    PatientFactory(user=None, first_name="Robert", last_name="Côté", email="", locations=[location])
    client = login(front_desk)
    url = reverse("booking:find_patient", args=[location.slug])
    html = client.get(url).content.decode()
    assert 'method="post"' in html and 'role="search"' in html
    found = _search_page(client, location, "cote 416").content.decode()
    assert "Robert Côté" in found
    assert "cote" not in " ".join(re.findall(r'(?:href|action|formaction)="([^"]*)"', found))
    # The search page's "New patient" button starts the form with the names searched for.
    new = client.post(
        reverse("booking:new_patient", args=[location.slug]),
        {"q": "Ann Marie Lee", "from_search": "1"},
    )
    assert new.status_code == 200 and not new.context["form"].is_bound
    assert new.context["form"].initial == {"first_name": "Ann", "last_name": "Marie Lee"}
    assert not Patient.objects.filter(last_name="Marie Lee").exists()


def test_the_desk_sees_that_a_patient_closed_their_online_account(login, front_desk, location):
    closed = _phone_patient(first_name="Robert", last_name="Côté", locations=[location])
    closed.account_closed_at = timezone.now()
    closed.save()
    _phone_patient(first_name="Robert", last_name="Cotter", locations=[location])
    html = _search_page(login(front_desk), location, "robert").content.decode()
    assert html.count("Online account closed: no follow-up emails") == 1
