"""A practitioner's registration and a location's superbill ids: an NPI's check digit is checked
(in Python, on the field, and by PostgreSQL), a registration number names its issuing body, an
EIN and a place-of-service code have their shape."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.urls import reverse

from clinic.models.practitioners import npi_is_valid
from tests.conftest import raw_sql
from tests.factories import LocationFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

# CMS's worked example, and two more made with the same rule.
VALID_NPIS = ["1234567893", "1987654328", "1543216786"]


@pytest.mark.parametrize("npi", VALID_NPIS)
def test_it_accepts_an_npi_whose_check_digit_checks_out(npi):
    assert npi_is_valid(npi)
    practitioner = PractitionerFactory(npi=npi)
    practitioner.full_clean()


@pytest.mark.parametrize(
    "npi",
    ["1234567890", "1234567894", "123456789", "12345678930", "abcdefghij", "１２３４５６７８９３"],
)
def test_it_refuses_a_mistyped_npi(npi):
    assert not npi_is_valid(npi)


def test_a_mistyped_npi_gets_a_message_on_the_field():
    practitioner = PractitionerFactory.build(user=PractitionerFactory().user, npi="1234567894")
    with pytest.raises(ValidationError) as refused:
        practitioner.full_clean(exclude=["user"])
    assert "check digit" in refused.value.message_dict["npi"][0]


def test_the_database_checks_the_npi_itself():
    practitioner = PractitionerFactory()
    raw_sql(
        "UPDATE clinic_practitioner SET npi = %s WHERE id = %s", ["1987654328", practitioner.pk]
    )
    with pytest.raises(IntegrityError, match="practitioner_npi_is_valid"):
        raw_sql(
            "UPDATE clinic_practitioner SET npi = %s WHERE id = %s", ["1987654327", practitioner.pk]
        )


def test_the_database_function_agrees_with_python_on_every_check_digit():
    with connection.cursor() as cursor:
        for base in ("123456789", "198765432", "000000000"):
            for digit in range(10):
                npi = f"{base}{digit}"
                cursor.execute("SELECT clinic_npi_is_valid(%s)", [npi])
                assert cursor.fetchone()[0] is npi_is_valid(npi), npi


def test_a_registration_number_names_its_issuing_body():
    practitioner = PractitionerFactory()
    practitioner.registration_number = "R14582"
    with pytest.raises(ValidationError) as refused:
        practitioner.full_clean()
    assert "registered_with" in refused.value.message_dict
    with pytest.raises(IntegrityError, match="practitioner_registration_names_its_body"):
        raw_sql(
            "UPDATE clinic_practitioner SET registration_number = 'R1' WHERE id = %s",
            [practitioner.pk],
        )


def test_registration_reads_as_an_insurer_expects():
    practitioner = PractitionerFactory(
        profession="physiotherapist", registration_number="R14582", registered_with="cpo"
    )
    assert practitioner.registration == (
        "Physiotherapist, registration R14582, College of Physiotherapists of Ontario"
    )


def test_a_location_tax_id_is_an_ein_and_place_of_service_two_digits():
    location = LocationFactory()
    assert location.place_of_service == "11"
    location.tax_id = "521234567"
    with pytest.raises(ValidationError) as refused:
        location.full_clean()
    assert "tax_id" in refused.value.message_dict
    with pytest.raises(IntegrityError, match="location_tax_id_is_an_ein"):
        raw_sql("UPDATE clinic_location SET tax_id = '5212' WHERE id = %s", [location.pk])
    with pytest.raises(IntegrityError, match="location_place_of_service_is_two_digits"):
        raw_sql("UPDATE clinic_location SET place_of_service = 'x' WHERE id = %s", [location.pk])


def _inline(prefix: str) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": 0,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_a_manager_keeps_the_registration_in_the_admin_and_a_bad_npi_is_refused_on_the_field(
    login, manager
):
    practitioner = PractitionerFactory()
    url = reverse("admin:clinic_practitioner_change", args=[practitioner.pk])
    browser = login(manager)
    assert "Registration (printed on receipts for insurers and superbills)" in (
        browser.get(url).content.decode()
    )
    data = {
        "user": practitioner.user_id,
        "title": "Physical Therapist, DPT",
        "bio": "",
        "profession": "physical_therapist",
        "registration_number": "PT23871",
        "registered_with": "md_bpte",
        "npi": "1234567894",
        **_inline("certifications"),
        **_inline("working_hours"),
        **_inline("schedule_exceptions"),
    }
    response = browser.post(url, data)
    assert response.status_code == 200
    assert "this one does not check out" in response.content.decode()
    response = browser.post(url, {**data, "npi": "1234567893"})
    assert response.status_code == 302
    practitioner.refresh_from_db()
    assert (practitioner.npi, practitioner.registration) == (
        "1234567893",
        "Physical therapist, registration PT23871, Maryland Board of Physical Therapy Examiners",
    )
