"""What intake adds to each role's home page and navigation (through clinic.pages)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import PatientFactory
from tests.intake.factories import IntakeFactory, submitted_intake

pytestmark = pytest.mark.django_db


def _home(login, user, name):
    return login(user).get(reverse(name)).content.decode()


def test_the_patients_home_says_not_started(login, patient):
    html = _home(login, patient.user, "clinic:patient_home")
    assert "Your intake questionnaire" in html and "Not started" in html
    assert reverse("intake:my_intake") in html


def test_the_patients_home_says_which_step_is_next(login, patient):
    IntakeFactory(patient=patient, steps_done=["contact", "complaint"])
    html = _home(login, patient.user, "clinic:patient_home")
    assert "In progress" in html and "step 3 of 8" in html


def test_the_patients_home_says_submitted(login, patient):
    submitted_intake(patient)
    html = _home(login, patient.user, "clinic:patient_home")
    assert "Submitted" in html


def _counts_row(html: str, location_name: str) -> tuple[int, int, int]:
    """(waiting for review, in progress, missing) in the panel's row for `location_name`."""
    row = re.search(
        rf'<th scope="row" class="fw-normal">{location_name}</th>(.*?)</tr>', html, re.S
    )
    assert row, f"no row for {location_name}"
    review, draft, missing = (int(n) for n in re.findall(r">(\d+)</a>", row.group(1)))
    return review, draft, missing


def test_the_front_desk_home_counts_intakes_per_location(
    login, front_desk, patient, location, other_location
):
    submitted_intake(patient, screen_diabetes=True, screen_diabetes_details="type 2")
    IntakeFactory(patient=PatientFactory(locations=[location]), steps_done=["contact"])
    IntakeFactory(patient=PatientFactory(locations=[location]), steps_done=["contact"])
    # Another location's patients are not counted at Leaside.
    submitted_intake(
        PatientFactory(locations=[other_location]),
        screen_diabetes=True,
        screen_diabetes_details="type 1",
    )
    html = _home(login, front_desk, "clinic:front_desk_home")
    assert "Intake questionnaires" in html
    assert f"{reverse('intake:intake_list')}?location=leaside&amp;show=review" in html
    review, draft, _missing = _counts_row(html, "Leaside")
    assert (review, draft) == (1, 2)
    assert "Rockville" not in html  # the front desk works at Leaside only


def test_the_practitioner_home_is_empty_when_nobody_waits(login, practitioner):
    html = _home(login, practitioner.user, "clinic:practitioner_home")
    assert "No screening answers wait for review at your locations." in html


@pytest.mark.parametrize(
    ("persona", "link"),
    [
        ("patient", "intake:my_intake"),
        ("front_desk", "intake:intake_list"),
        ("practitioner", "intake:intake_list"),
        ("manager", "intake:intake_list"),
    ],
)
def test_each_role_has_its_intake_link_in_the_navigation(client, request, persona, link):
    person = request.getfixturevalue(persona)
    client.force_login(getattr(person, "user", person))
    html = client.get(reverse("clinic:home"), follow=True).content.decode()
    assert f'href="{reverse(link)}"' in html
