"""An attacker's attempts with hostile input, and the refusal each must meet: a field error or a
plain 400, never a 500 (a 500 tells them where the code is fragile, and pages someone at night).

- dates the database refuses (born before 1900) are refused by the form first;
- dates and times in query strings that no calendar can hold (year 1, year 9999, garbage, NUL)
  are read by one shared reader, and every page of the product is walked with them by role.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.models import Patient, User
from tests.access_matrix import PERSONAS, PUBLIC, user_of
from tests.booking.test_booking_page_access import MATRIX as BOOKING
from tests.booking.test_booking_page_access import _urls as booking_page_urls
from tests.clinic.test_page_access import MATRIX as CLINIC
from tests.factories import confirm_sign_up
from tests.intake.test_intake_access import MATRIX as INTAKE
from tests.intake.test_intake_access import build_records

pytestmark = pytest.mark.django_db

# --- Dates the database would refuse -------------------------------------------------------------


def _signup(client, born: str):
    return client.post(
        reverse("clinic:signup"),
        {
            "first_name": "Old",
            "last_name": "Timer",
            "email": "old.timer@example.com",
            "date_of_birth": born,
            "phone": "416-555-0134",
            "password1": "a long enough passphrase 7",
            "password2": "a long enough passphrase 7",
        },
    )


@pytest.mark.parametrize("born", ["1899-12-31", "0001-01-01"])
def test_signing_up_born_before_1900_is_a_field_error(client, born):
    response = _signup(client, born)
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors
    assert not User.objects.filter(email="old.timer@example.com").exists()


def test_signing_up_born_in_1900_is_accepted(client, location):
    response = _signup(client, "1900-01-01")
    assert "registration/signup_sent.html" in [t.name for t in response.templates]
    confirm_sign_up(client, "a long enough passphrase 7")
    assert Patient.objects.get(user__email="old.timer@example.com").date_of_birth == dt.date(
        1900, 1, 1
    )


def test_the_front_desk_adding_a_patient_born_before_1900_gets_a_field_error(
    login, front_desk, location
):
    response = login(front_desk).post(
        reverse("booking:new_patient", args=[location.slug]),
        {
            "first_name": "Old",
            "last_name": "Timer",
            "date_of_birth": "1899-12-31",
            "phone": "416-555-0134",
            "email": "",
        },
    )
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors
    assert not Patient.objects.filter(last_name="Timer").exists()


# --- Dates and times in query strings ------------------------------------------------------------

# Every query parameter a page of the product reads (dates and times first).
DATE_PARAMETERS = [
    "date",
    "day",
    "from",
    "to",
    "at",
    "start",
    "end",
    "date_from",
    "date_to",
    "born",
]
OTHER_PARAMETERS = [
    "practitioner",
    "room",
    "service",
    "minutes",
    "location",
    "page",
    "by",
    "show",
    "format",
    "next",
    "patient",
    "actor",
    "action",
    "appointment",
    "session",
    "correct",
    "dry_needling",
    "q",
    "near",
    "slot",
]
OUT_OF_RANGE = [
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59+00:00",
    "9999-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59",
]
HOSTILE = [
    *OUT_OF_RANGE,
    "",
    "garbage",
    "2024-02-30",
    "2024-13-01",
    "99999999999999999999999",
    "-1",
    "0",
    "1e309",
    "\x00",
    "2024-01-01\x00",
    "２０２４-０１-０１",
    "2024-01-01T25:00:00+00:00",
    "2024-01-01T10:00:00+99:00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "x" * 5000,
]
hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers().map(str),
    st.dates().map(dt.date.isoformat),
    st.datetimes(timezones=st.timezones()).map(dt.datetime.isoformat),
    st.text(max_size=40),
)
hostile_queries = st.dictionaries(
    st.sampled_from(DATE_PARAMETERS + OTHER_PARAMETERS), hostile_values, min_size=1, max_size=6
)


def _get_pages() -> list[tuple[str, str | None]]:
    """(URL name, persona) for each page a GET may open, as each role allowed to open it."""
    pages: list[tuple[str, str | None]] = []
    for table in (BOOKING, INTAKE, CLINIC):
        for name, page in table.pages.items():
            if "GET" in page.methods:
                pages += (
                    [(name, None)]
                    if page.allowed == PUBLIC
                    else [(name, PERSONAS[r]) for r in page.allowed]
                )
    return sorted(pages, key=lambda page: (page[0], page[1] or ""))


PAGES = _get_pages()


@pytest.fixture
def booking_urls(clinic, patient, practitioner):
    """The booking access table's addresses, with its records written for this test."""
    return booking_page_urls(clinic, patient, practitioner)


@pytest.fixture
def records(patient, practitioner, location):
    """The intake access table's records, written for this test."""
    return build_records(patient, practitioner, location)


@pytest.fixture
def address_of(request, location):
    """`address_of(name)`: the page's address with the records the access tables use."""

    def _address(name: str) -> str:
        if name.startswith("booking:"):
            return request.getfixturevalue("booking_urls")[name]
        if name.startswith("intake:"):
            return INTAKE.url(name, request.getfixturevalue("records"))
        return CLINIC.url(name)

    return _address


def _open(client, request, address: str, persona: str | None, query: dict):
    client.logout()
    if persona:
        client.force_login(user_of(request, persona))
    return client.get(address, query)


@pytest.mark.parametrize(("name", "persona"), PAGES)
def test_dates_no_calendar_holds_never_give_a_500(client, request, address_of, name, persona):
    address = address_of(name)
    for value in [*OUT_OF_RANGE, "garbage", "\x00"]:
        response = _open(client, request, address, persona, dict.fromkeys(DATE_PARAMETERS, value))
        assert response.status_code < 500, (name, persona, value)


# Each app's pages in a test of their own: the booking and intake tables build their records
# on the same clinic, and cannot share one test.
@pytest.mark.parametrize(
    ("app", "persona"), sorted({(name.split(":")[0], persona or "") for name, persona in PAGES})
)
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_hostile_query_strings_never_give_a_500(client, request, address_of, app, persona, data):
    pages = [n for n, p in PAGES if (p or "") == persona and n.startswith(f"{app}:")]
    name = data.draw(st.sampled_from(pages), label="page")
    query = data.draw(hostile_queries, label="query")
    response = _open(client, request, address_of(name), persona or None, query)
    assert response.status_code < 500


def test_an_impossible_date_in_the_address_is_a_plain_400(login, front_desk, location):
    response = login(front_desk).get(
        reverse("booking:location_day", args=[location.slug]), {"date": "9999-12-31"}
    )
    assert response.status_code == 400
    assert b"could not understand" in response.content


def test_an_ordinary_date_in_the_address_still_shows_that_day(login, front_desk, location):
    day = location.today() + dt.timedelta(days=3)
    response = login(front_desk).get(
        reverse("booking:location_day", args=[location.slug]), {"date": day.isoformat()}
    )
    assert response.status_code == 200


def test_a_next_address_that_is_not_a_path_is_ignored_not_a_500(login, manager):
    response = login(manager).get(reverse("clinic:two_factor_verify"), {"next": "home"})
    assert response.status_code == 302
    assert response.url == reverse("clinic:home")


@pytest.mark.parametrize("born", ["0001-01-01", "9999-12-31"])
def test_searching_for_a_patient_by_an_impossible_birth_date_is_a_field_error(
    login, front_desk, location, born
):
    response = login(front_desk).post(
        reverse("booking:find_patient", args=[location.slug]), {"q": "Miles", "born": born}
    )
    assert response.status_code == 200
    assert "born" in response.context["form"].errors


@pytest.mark.parametrize(
    "slot", ["1|9999-12-31T23:59:59-12:00", "1|0001-01-01T00:00:00+14:00", "1|\x00", "x|y"]
)
def test_a_forged_slot_choice_is_refused_not_a_500(slot):
    from booking.forms import parse_slot_choice

    assert parse_slot_choice(slot) is None


# --- Free text has a bound, in the form and in the database ---------------------------------------


def _our_text_fields():
    from django.apps import apps
    from django.db import models

    for model in apps.get_models():
        if model._meta.app_label in {"clinic", "intake", "booking"}:
            for field in model._meta.local_fields:
                if isinstance(field, models.TextField):
                    yield model, field


def test_every_free_text_field_has_a_maximum_the_database_enforces():
    from django.db import connection

    unbounded, unchecked = [], []
    with connection.cursor() as cursor:
        for model, field in _our_text_fields():
            if not field.max_length:
                unbounded.append(f"{model.__name__}.{field.name}")
                continue
            names = connection.introspection.get_constraints(cursor, model._meta.db_table)
            if (
                f"{model._meta.db_table.removeprefix(model._meta.app_label + '_')}_{field.name}_at_most_{field.max_length}_chars"
                not in (names)
            ):
                unchecked.append(f"{model.__name__}.{field.name}")
    assert (unbounded, unchecked) == ([], [])


def test_the_forms_refuse_an_overlong_answer_on_the_field():
    from intake.clinical.forms.notes import AssessmentForm

    form = AssessmentForm(data={"subjective": "x" * 900_000})
    form.is_valid()
    assert "at most 5000 characters" in " ".join(form.errors.get("subjective", []))


def test_the_database_refuses_a_900_kb_plan_and_900_kb_goals(patient, practitioner):
    from django.db import IntegrityError, transaction

    from intake.clinical.models import AssessmentNote
    from intake.questionnaire.models import Intake
    from tests.intake.factories import IntakeFactory, complete_assessment

    assessment = AssessmentNote.objects.create(
        patient=patient, author=practitioner, **complete_assessment()
    )
    with pytest.raises(IntegrityError, match="assessment_goals_at_most_4000_chars"):
        with transaction.atomic():
            AssessmentNote.objects.filter(pk=assessment.pk).update(
                goals=[{"goal": "x" * 900_000, "target": ""}]
            )
    draft = IntakeFactory(patient=patient)
    with pytest.raises(IntegrityError, match="intake_goals_at_most_2000_chars"):
        with transaction.atomic():
            Intake.objects.filter(pk=draft.pk).update(goals="x" * 900_000)
