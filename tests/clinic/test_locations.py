"""Which locations offer dry needling, and the public pages that say so."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.access import get_visible_location, visible_locations
from clinic.models import Location
from tests.factories import (
    CertificationFactory,
    LocationFactory,
    OpeningHoursFactory,
    PractitionerFactory,
    certified_practitioner,
)

pytestmark = pytest.mark.django_db


def _offering() -> set[str]:
    return set(Location.objects.offering_dry_needling().values_list("slug", flat=True))


def test_a_location_offers_dry_needling_when_a_currently_certified_practitioner_works_there(
    location, other_location
):
    certified_practitioner(locations=[location])
    assert _offering() == {"leaside"}


def test_an_expired_certification_does_not_count(location):
    practitioner = PractitionerFactory(user__locations=[location])
    CertificationFactory(
        practitioner=practitioner,
        valid_from=location.today() - dt.timedelta(days=800),
        valid_until=location.today() - dt.timedelta(days=1),
    )
    assert _offering() == set()


def test_a_certification_that_has_not_started_does_not_count(location):
    practitioner = PractitionerFactory(user__locations=[location])
    CertificationFactory(
        practitioner=practitioner,
        valid_from=location.today() + dt.timedelta(days=1),
        valid_until=location.today() + dt.timedelta(days=400),
    )
    assert _offering() == set()


def test_a_certification_counts_on_its_last_day(location):
    practitioner = PractitionerFactory(user__locations=[location])
    CertificationFactory(practitioner=practitioner, valid_until=location.today())
    assert _offering() == {"leaside"}
    assert (
        Location.objects.offering_dry_needling(on=location.today() + dt.timedelta(days=1)).count()
        == 0
    )


def test_a_certification_ends_with_the_locations_own_day_not_the_servers(location, monkeypatch):
    # 9 PM in Toronto on the certification's last day is already the next day in UTC.
    last_day = dt.date(2026, 12, 1)
    evening = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: evening)
    practitioner = PractitionerFactory(user__locations=[location])
    CertificationFactory(
        practitioner=practitioner, valid_from=dt.date(2025, 1, 1), valid_until=last_day
    )
    assert _offering() == {"leaside"}
    assert Location.objects.with_dry_needling_flag().get().offers_dry_needling
    monkeypatch.setattr(timezone, "now", lambda: evening + dt.timedelta(hours=4))  # 1 AM there
    assert _offering() == set()


def test_a_practitioner_who_left_does_not_count(location):
    practitioner = certified_practitioner(locations=[location])
    practitioner.user.is_active = False
    practitioner.user.save()
    assert _offering() == set()


def test_a_certified_practitioner_counts_only_where_they_work(location, other_location):
    certified_practitioner(locations=[other_location])
    assert _offering() == {"rockville"}


def test_the_public_list_shows_which_locations_offer_dry_needling(client, location, other_location):
    certified_practitioner(locations=[location])
    html = client.get(reverse("clinic:location_list")).content.decode()
    assert html.count("Offers dry needling") == 1
    assert "No dry needling here" in html

    only = client.get(reverse("clinic:location_list"), {"dry_needling": "1"}).content.decode()
    assert "Leaside" in only and "Rockville" not in only


def test_a_location_page_shows_address_hours_and_certified_practitioners(client, location):
    practitioner = certified_practitioner(locations=[location], first_name="Priya")
    OpeningHoursFactory(location=location, weekday=0, opens_at=dt.time(8), closes_at=dt.time(19))
    html = client.get(location.get_absolute_url()).content.decode()
    assert location.street_address in html
    assert "Monday" in html and "8:00 AM – 7:00 PM" in html
    assert practitioner.name in html
    assert "America/Toronto" in html


def test_the_location_list_runs_a_fixed_number_of_queries(client, django_assert_num_queries):
    for _n in range(6):
        location = LocationFactory()
        OpeningHoursFactory(location=location)
        certified_practitioner(locations=[location])
    with django_assert_num_queries(2):  # locations with their flag, then opening hours
        client.get(reverse("clinic:location_list"))


def test_staff_see_only_the_locations_they_work_at(front_desk, location, other_location, manager):
    assert list(visible_locations(front_desk)) == [location]
    assert set(visible_locations(manager)) == {location, other_location}
    with pytest.raises(Exception) as refused:
        get_visible_location(front_desk, other_location.slug)
    assert refused.typename == "Http404"
