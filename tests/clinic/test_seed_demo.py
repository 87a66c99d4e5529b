"""`python manage.py seed_demo` builds the demo story, and running it again changes nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.demo import DEMO_PASSWORD
from clinic.models import Location
from tests.factories import current_code

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for config in apps.get_app_configs()
        if config.label in {"clinic", "intake", "booking"}
        for model in config.get_models()
    }


def test_running_it_twice_gives_the_same_counts(seeded_demo):
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
    assert first["clinic.Location"] == 4


def test_the_story_has_a_location_without_dry_needling_and_an_expired_certification(seeded_demo):
    offering = set(Location.objects.offering_dry_needling().values_list("name", flat=True))
    assert offering == {"Leaside", "Rockville", "Largo"}
    assert Location.objects.get(name="Danforth").time_zone == "America/Toronto"
    assert Location.objects.get(name="Largo").time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("email", "home"),
    [
        ("patient@example.org", "clinic:patient_home"),
        ("frontdesk@example.org", "clinic:front_desk_home"),
        ("practitioner@example.org", "clinic:practitioner_home"),
        ("manager@example.org", "clinic:manager_home"),
    ],
)
def test_each_demo_login_lands_on_its_roles_home(seeded_demo, email, home, settings):
    settings.DEBUG = True  # the demo's authenticator code is shown in development only
    client = Client()
    response = client.post(
        reverse("login"), {"username": email, "password": DEMO_PASSWORD}, follow=True
    )
    if email != "patient@example.org":
        assert response.redirect_chain[-1][0].startswith(reverse("clinic:two_factor_verify"))
        code = response.context["demo_code"]
        assert code == current_code(TOTPDevice.objects.get(user__email=email))
        response = client.post(response.redirect_chain[-1][0], {"token": code}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.status_code == 200
