"""Step 1's "Where would you like to be seen?": the location the patient last asked to be seen
at is proposed (else their preferred one), and locations without dry needling say so."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.questionnaire.models import Intake
from tests.booking.factories import a_clinic, an_appointment
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db

CONTACT = reverse("intake:step", args=["contact"])


@pytest.fixture
def leaside(location):
    """Leaside, with a certified practitioner: it offers dry needling."""
    return a_clinic(location=location)


@pytest.fixture
def danforth(db):
    """A location with no dry-needling-trained practitioner."""
    return LocationFactory(name="Danforth", slug="danforth")


def _options(html: str) -> dict[str, bool]:
    """{option text: selected} of the location question."""
    select = re.search(r'<select name="preferred_location".*?</select>', html, re.S).group(0)
    return {
        text.strip(): "selected" in attrs
        for attrs, text in re.findall(r"<option([^>]*)>([^<]*)</option>", select)
    }


def _selected(html: str) -> list[str]:
    return [text for text, selected in _options(html).items() if selected]


def _request(clinic, patient, *, days: int = 3, **fields):
    return an_appointment(clinic, patient, timezone.now() + dt.timedelta(days=days), **fields)


def test_locations_without_dry_needling_say_so_in_the_option(
    login, patient, draft, leaside, danforth
):
    options = _options(login(patient.user).get(CONTACT).content.decode())
    assert "Leaside" in options
    assert "Danforth (no dry needling)" in options
    assert "Leaside (no dry needling)" not in options


def test_the_latest_request_s_location_is_proposed_over_the_preferred_one(
    login, patient, draft, leaside, danforth
):
    patient.preferred_location = danforth
    patient.save()
    _request(leaside, patient)
    assert _selected(login(patient.user).get(CONTACT).content.decode()) == ["Leaside"]


def test_the_most_recent_request_wins(login, patient, draft, leaside, other_location):
    rockville = a_clinic(location=other_location)
    _request(leaside, patient)
    _request(rockville, patient, days=1)  # requested last, for an earlier day
    assert _selected(login(patient.user).get(CONTACT).content.decode()) == ["Rockville"]


@pytest.mark.parametrize("requests", ["none", "cancelled"])
def test_without_a_live_request_the_preferred_location_is_proposed(
    login, patient, draft, leaside, danforth, requests
):
    patient.preferred_location = danforth
    patient.save()
    if requests == "cancelled":
        _request(leaside, patient, status="cancelled", cancelled_by="patient")
    html = login(patient.user).get(CONTACT).content.decode()
    assert _selected(html) == ["Danforth (no dry needling)"]


def test_nothing_is_proposed_without_a_request_or_a_preferred_location(
    login, patient, draft, leaside
):
    assert _selected(login(patient.user).get(CONTACT).content.decode()) == ["Choose a location"]


def test_an_answer_already_given_is_kept(login, patient, draft, leaside, danforth):
    draft.preferred_location = danforth
    draft.save()
    _request(leaside, patient)
    html = login(patient.user).get(CONTACT).content.decode()
    assert _selected(html) == ["Danforth (no dry needling)"]


def test_a_questionnaire_started_after_a_request_starts_at_its_location(
    login, patient, leaside, danforth
):
    patient.preferred_location = danforth
    patient.save()
    _request(leaside, patient)
    login(patient.user).post(reverse("intake:start"))
    assert Intake.objects.get(patient=patient).preferred_location == leaside.location
