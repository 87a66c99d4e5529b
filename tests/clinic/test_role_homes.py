"""Each kind of user logs in and lands on a home page of their own, at their locations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import ScheduleException
from tests.factories import PASSWORD, WorkingHoursFactory, current_code

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("persona", "home"),
    [
        ("patient", "clinic:patient_home"),
        ("front_desk", "clinic:front_desk_home"),
        ("practitioner", "clinic:practitioner_home"),
        ("manager", "clinic:manager_home"),
    ],
)
def test_logging_in_lands_on_the_roles_home(request, persona, home):
    client = Client()
    person = request.getfixturevalue(persona)
    user = getattr(person, "user", person)
    response = client.post(
        reverse("login"), {"username": user.email, "password": PASSWORD}, follow=True
    )
    if user.role != "patient":  # staff set up their second factor first
        assert response.redirect_chain[-1][0].startswith(reverse("clinic:two_factor_setup"))
        device = TOTPDevice.objects.get(user=user, confirmed=False)
        response = client.post(response.redirect_chain[-1][0], {"token": current_code(device)})
        assert "recovery codes" in response.content.decode()
        response = client.get(response.context["next"], follow=True)
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.status_code == 200


def test_front_desk_home_shows_only_their_locations_today(
    login, front_desk, location, other_location, practitioner
):
    weekday = location.today().weekday()
    WorkingHoursFactory(practitioner=practitioner, location=location, weekday=weekday)
    response = login(front_desk).get(reverse("clinic:front_desk_home"))
    html = response.content.decode()
    assert location.name in html
    assert other_location.name not in html
    assert practitioner.name in html
    assert "Certified" in html


def test_practitioner_home_shows_their_hours_and_time_off(login, practitioner, location):
    today = location.today()
    WorkingHoursFactory(
        practitioner=practitioner,
        location=location,
        weekday=today.weekday(),
        starts_at=dt.time(9),
        ends_at=dt.time(13),
    )
    start = dt.datetime.combine(today, dt.time(10), tzinfo=location.zone)
    ScheduleException.objects.create(
        practitioner=practitioner,
        kind=ScheduleException.Kind.TIME_OFF,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
    )
    html = login(practitioner.user).get(reverse("clinic:practitioner_home")).content.decode()
    assert "9:00 AM – 1:00 PM" in html
    assert "Time off 10:00 AM" in html
    assert "certification current until" in html


def test_practitioner_home_warns_about_an_expired_certification(login, practitioner):
    certification = practitioner.certifications.get()
    certification.valid_until = timezone.localdate() - dt.timedelta(days=3)
    certification.valid_from = certification.valid_until - dt.timedelta(days=300)
    certification.save()
    html = login(practitioner.user).get(reverse("clinic:practitioner_home")).content.decode()
    assert "certification expired on" in html


@pytest.fixture
def last_evening_of_certification(location, practitioner, time_machine):
    """21:00 at `location` on the last day of `practitioner`'s certification: the server's UTC
    date is already the next day then, in summer and in winter."""
    evening = dt.datetime.combine(location.today(), dt.time(21), tzinfo=location.zone)
    time_machine.move_to(evening, tick=True)
    practitioner.certifications.update(valid_until=evening.date())
    return evening


def test_a_certification_is_current_until_the_end_of_its_last_day_at_the_location(
    login, practitioner, last_evening_of_certification
):
    html = login(practitioner.user).get(reverse("clinic:practitioner_home")).content.decode()
    assert "certification current until" in html
    assert "certification expired" not in html


def test_manager_home_counts_a_certification_on_its_last_evening(
    login, manager, practitioner, last_evening_of_certification
):
    html = login(manager).get(reverse("clinic:manager_home")).content.decode()
    assert "<strong>1</strong> of 1 practitioners certified for dry needling today" in html
    assert "<strong>expired</strong>" not in html


def test_manager_home_lists_every_location(login, manager, location, other_location, practitioner):
    html = login(manager).get(reverse("clinic:manager_home")).content.decode()
    assert location.name in html and other_location.name in html
    assert "Offered" in html and "Not offered" in html


def test_patient_home_shows_their_details(login, patient):
    html = login(patient.user).get(reverse("clinic:patient_home")).content.decode()
    assert patient.full_name in html
    assert "Hello, Jordan" in html


def test_a_patient_changes_their_details(login, patient):
    client = login(patient.user)
    url = reverse("clinic:patient_details")
    response = client.post(url, {"phone": "not a phone", "emergency_contact_name": "Sam"})
    assert "Enter a phone number" in response.content.decode()
    patient.refresh_from_db()
    assert patient.emergency_contact_name == ""

    client.post(
        url,
        {
            "phone": "416-555-0111",
            "emergency_contact_name": "Sam Miles",
            "emergency_contact_phone": "416-555-0112",
        },
    )
    patient.refresh_from_db()
    assert (patient.phone, patient.emergency_contact_name) == ("416-555-0111", "Sam Miles")
