"""A patient's own waitlist place names, and is offered, only practitioners the patient could
book online (trained in dry needling, certified on some day they could book); a place the desk
made for them keeps the desk's freedom to offer anyone working there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking import services
from booking.forms import slot_choice_value
from booking.models import WaitlistEntry, WaitlistOffer
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking, a_colleague, a_waitlist_entry
from tests.conftest import messages_said

pytestmark = pytest.mark.django_db

WISH = {"weekdays": [1, 3], "earliest_time": "09:00", "latest_time": "12:00"}


@pytest.fixture
def uncertified(clinic):
    """A colleague at the clinic with no dry-needling training, working the same hours."""
    return a_colleague(clinic, certified=False)


@pytest.fixture
def expired(clinic):
    """A colleague whose certification ran out last month."""
    colleague = a_colleague(clinic)
    colleague.certifications.update(valid_until=clinic.location.today() - dt.timedelta(days=30))
    return colleague


def _join_url(clinic):
    return reverse("booking:waitlist_join", args=[clinic.location.slug])


def _freed_with(clinic, practitioner):
    """`practitioner`'s assessment next Tuesday at 10:00, booked and cancelled: the freed time."""
    start = next_weekday(clinic.location, 1, 10)
    booked = a_booking(clinic, start, practitioner=practitioner)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    return start


def test_the_patients_join_form_lists_only_certified_practitioners(
    login, clinic, patient, uncertified, expired
):
    response = login(patient.user).get(_join_url(clinic))
    listed = list(response.context["form"].fields["practitioner"].queryset)
    assert listed == [clinic.practitioner]
    html = response.content.decode()
    assert uncertified.name not in html and expired.name not in html


def test_the_desk_form_lists_everyone_working_there(
    login, clinic, patient, front_desk, uncertified
):
    url = reverse("booking:waitlist_add", args=[clinic.location.slug, patient.pk])
    listed = set(login(front_desk).get(url).context["form"].fields["practitioner"].queryset)
    assert listed == {clinic.practitioner, uncertified}


@pytest.mark.parametrize("who", ["uncertified", "expired"])
def test_a_tampered_form_naming_an_uncertified_practitioner_is_refused_on_its_field(
    login, clinic, patient, request, who
):
    chosen = request.getfixturevalue(who)
    response = login(patient.user).post(_join_url(clinic), WISH | {"practitioner": chosen.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["practitioner"] == [
        "Choose one of the practitioners listed: online, only practitioners trained in dry "
        "needling can be chosen."
    ]
    assert not WaitlistEntry.objects.exists()


def test_a_freed_time_with_an_uncertified_practitioner_passes_over_a_patients_own_place(
    clinic, patient, other_patient, front_desk, uncertified
):
    a_waitlist_entry(clinic, patient)  # made by the patient online, first in line
    by_the_desk = a_waitlist_entry(clinic, other_patient, created_by=front_desk)
    start = _freed_with(clinic, uncertified)
    offer = WaitlistOffer.objects.get()
    assert offer.entry == by_the_desk
    assert (offer.hold.practitioner, offer.hold.starts_at) == (uncertified, start)
    assert patient.waitlist_entries.get().state == WaitlistEntry.State.WAITING


def test_a_freed_time_with_an_uncertified_practitioner_is_offered_to_no_patients_own_place(
    clinic, patient, uncertified
):
    a_waitlist_entry(clinic, patient)
    _freed_with(clinic, uncertified)
    assert not WaitlistOffer.objects.exists()


def test_a_freed_time_with_a_certified_practitioner_still_goes_to_the_patients_own_place(
    clinic, patient
):
    entry = a_waitlist_entry(clinic, patient)
    _freed_with(clinic, clinic.practitioner)
    assert WaitlistOffer.objects.get().entry == entry


def test_the_desk_cannot_offer_a_patients_own_place_an_uncertified_practitioners_time(
    login, clinic, patient, front_desk, uncertified
):
    # A place naming them, made before the form refused it.
    entry = a_waitlist_entry(clinic, patient, practitioner=uncertified)
    start = next_weekday(clinic.location, 1, 10)
    url = reverse("booking:waitlist_offer", args=[entry.pk])
    client = login(front_desk)
    page = client.get(url)
    assert page.context["days"] == {}
    assert "No free time suits them" in page.content.decode()
    response = client.post(url, {"slot": slot_choice_value(uncertified.pk, start)}, follow=True)
    said = messages_said(response)
    assert "Nothing was offered" in said, said
    assert not WaitlistOffer.objects.exists()
    with pytest.raises(services.SlotUnavailable):
        services.offer_slot_by_hand(
            entry=entry, practitioner=uncertified, starts_at=start, actor=front_desk
        )


def test_the_desk_may_offer_its_own_place_an_uncertified_practitioners_time(
    login, clinic, patient, front_desk, uncertified
):
    entry = a_waitlist_entry(clinic, patient, created_by=front_desk, practitioner=uncertified)
    start = next_weekday(clinic.location, 1, 10)
    url = reverse("booking:waitlist_offer", args=[entry.pk])
    client = login(front_desk)
    assert uncertified.name in client.get(url).content.decode()
    client.post(url, {"slot": slot_choice_value(uncertified.pk, start)})
    offer = WaitlistOffer.objects.get()
    assert (offer.entry, offer.hold.practitioner) == (entry, uncertified)
