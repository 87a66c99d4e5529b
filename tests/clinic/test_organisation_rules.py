"""The organisation's invariants: refused with a message on the field by validation, and
refused by PostgreSQL itself when validation is bypassed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from clinic.models import (
    Certification,
    Location,
    OpeningHours,
    ScheduleException,
    Service,
    User,
    WorkingHours,
)
from tests.conftest import raw_sql
from tests.factories import (
    LocationFactory,
    OpeningHoursFactory,
    PatientFactory,
    PractitionerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _wednesday_hours(practitioner, location, starts: int, ends: int) -> WorkingHours:
    """`practitioner`'s working hours at `location` on Wednesdays from `starts` to `ends`
    o'clock, not saved yet."""
    return WorkingHours(
        practitioner=practitioner,
        location=location,
        weekday=2,
        starts_at=dt.time(starts),
        ends_at=dt.time(ends),
    )


def test_opening_hours_that_end_before_they_start_are_refused_on_the_field(location):
    hours = OpeningHours(location=location, weekday=1, opens_at=dt.time(17), closes_at=dt.time(9))
    with pytest.raises(ValidationError) as refused:
        hours.full_clean()
    assert "closes_at" in refused.value.message_dict


def test_the_database_refuses_opening_hours_that_end_before_they_start(location):
    with pytest.raises(IntegrityError, match="opening_hours_open_before_close"):
        raw_sql(
            "INSERT INTO clinic_openinghours (location_id, weekday, opens_at, closes_at) "
            "VALUES (%s, 1, '17:00', '09:00')",
            [location.pk],
        )


def test_a_certification_that_expires_before_it_starts_is_refused(practitioner):
    certification = Certification(
        practitioner=practitioner,
        issued_by="Institute",
        valid_from=dt.date(2026, 5, 1),
        valid_until=dt.date(2026, 4, 1),
    )
    with pytest.raises(ValidationError) as refused:
        certification.full_clean()
    assert "valid_until" in refused.value.message_dict
    with pytest.raises(IntegrityError, match="certification_expires_after_it_starts"):
        raw_sql(
            "INSERT INTO clinic_certification (practitioner_id, issued_by, certificate_number, "
            "valid_from, valid_until) VALUES (%s, 'x', '', '2026-05-01', '2026-04-01')",
            [practitioner.pk],
        )


def test_the_database_refuses_overlapping_working_hours_for_one_practitioner(
    location, other_location
):
    practitioner = PractitionerFactory(user__locations=[location, other_location])
    _wednesday_hours(practitioner, location, 9, 13).save()
    # Back to back is fine; overlapping at another location is not.
    _wednesday_hours(practitioner, other_location, 13, 17).save()
    with pytest.raises(IntegrityError, match="working_hours_no_overlap_per_practitioner"):
        raw_sql(
            "INSERT INTO clinic_workinghours (practitioner_id, location_id, weekday, starts_at, "
            "ends_at) VALUES (%s, %s, 2, '12:00', '14:00')",
            [practitioner.pk, other_location.pk],
        )


def test_overlapping_working_hours_get_a_message_on_the_field(location):
    practitioner = PractitionerFactory(user__locations=[location])
    _wednesday_hours(practitioner, location, 9, 13).save()
    clash = _wednesday_hours(practitioner, location, 12, 14)
    with pytest.raises(ValidationError) as refused:
        clash.full_clean()
    assert "overlap" in refused.value.message_dict["starts_at"][0]


def test_working_hours_only_at_a_location_the_practitioner_works_at(location, other_location):
    practitioner = PractitionerFactory(user__locations=[location])
    hours = _wednesday_hours(practitioner, other_location, 9, 12)
    with pytest.raises(ValidationError) as refused:
        hours.full_clean()
    assert "does not work at this location" in refused.value.message_dict["location"][0]


def test_extra_hours_need_a_location(practitioner):
    start = dt.datetime(2026, 12, 1, 14, tzinfo=dt.UTC)
    extra = ScheduleException(
        practitioner=practitioner,
        kind="extra_hours",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
    )
    with pytest.raises(ValidationError) as refused:
        extra.full_clean()
    assert "location" in refused.value.message_dict
    with pytest.raises(IntegrityError, match="schedule_exception_extra_hours_have_a_location"):
        with transaction.atomic():
            extra.save()


def test_a_service_default_length_must_be_one_of_its_lengths():
    with pytest.raises(IntegrityError, match="service_default_length_is_allowed"):
        with transaction.atomic():
            Service.objects.create(
                kind="reassessment", name="Re-assessment", allowed_minutes=[30], default_minutes=45
            )


def test_an_unknown_time_zone_is_refused_on_the_field():
    location = LocationFactory.build(time_zone="America/Atlantis")
    with pytest.raises(ValidationError) as refused:
        location.full_clean()
    assert "not a known time zone" in refused.value.message_dict["time_zone"][0]


def test_emails_are_unique_whatever_their_case():
    UserFactory(email="Ava@Example.org")
    assert User.objects.get_by_natural_key("AVA@example.ORG").email == "ava@example.org"
    with pytest.raises(IntegrityError):
        with transaction.atomic():
            UserFactory(email="ava@EXAMPLE.org")
    with pytest.raises(IntegrityError, match="user_email_lowercase"):
        raw_sql("UPDATE clinic_user SET email = 'Ava@Example.org'")


def test_the_database_refuses_a_birth_date_before_1900():
    patient = PatientFactory()
    with pytest.raises(IntegrityError, match="patient_born_after_1900"):
        raw_sql(
            "UPDATE clinic_patient SET date_of_birth = '1850-01-01' WHERE id = %s", [patient.pk]
        )


def test_a_manager_saving_bad_opening_hours_in_the_admin_gets_a_message_and_nothing_changes(
    login, manager, location
):
    OpeningHoursFactory(location=location, weekday=0)
    hours = OpeningHours.objects.get()
    data = {
        "name": "Leaside renamed",
        "slug": location.slug,
        "is_active": "on",
        "street_address": location.street_address,
        "city": location.city,
        "region": location.region,
        "postal_code": location.postal_code,
        "phone": location.phone,
        "email": "",
        "time_zone": location.time_zone,
        "min_notice_minutes": 120,
        "booking_horizon_days": 56,
        "buffer_minutes": 5,
        "cancellation_notice_hours": 24,
        "opening_hours-TOTAL_FORMS": 1,
        "opening_hours-INITIAL_FORMS": 1,
        "opening_hours-MIN_NUM_FORMS": 0,
        "opening_hours-MAX_NUM_FORMS": 7,
        "opening_hours-0-id": hours.pk,
        "opening_hours-0-location": location.pk,
        "opening_hours-0-weekday": 0,
        "opening_hours-0-opens_at": "18:00",
        "opening_hours-0-closes_at": "08:00",
        "holidays-TOTAL_FORMS": 0,
        "holidays-INITIAL_FORMS": 0,
        "holidays-MIN_NUM_FORMS": 0,
        "holidays-MAX_NUM_FORMS": 1000,
    }
    response = login(manager).post(
        reverse("admin:clinic_location_change", args=[location.pk]), data
    )
    assert response.status_code == 200
    assert "Closing time must be after opening time." in response.content.decode()
    location.refresh_from_db()
    assert location.name == "Leaside"  # nothing half-saved
    assert Location.objects.count() == 1


def test_a_services_kind_is_chosen_when_it_is_added_and_never_changed(login, manager):
    """Every rule about a visit reads its service's kind; the admin shows it read-only once the
    service exists (and PostgreSQL refuses the change once visits name it: booking 0024)."""
    client = login(manager)
    assert 'name="kind"' in client.get(reverse("admin:clinic_service_add")).content.decode()
    service = Service.objects.create(
        kind="reassessment", name="Re-assessment", allowed_minutes=[30], default_minutes=30
    )
    url = reverse("admin:clinic_service_change", args=[service.pk])
    assert 'name="kind"' not in client.get(url).content.decode()
    saved = client.post(
        url,
        {
            "kind": "dry_needling",
            "name": "Re-assessment",
            "allowed_minutes": "30",
            "default_minutes": 30,
            "is_active": "on",
        },
    )
    assert saved.status_code == 302  # saved: the rest of the form was valid
    service.refresh_from_db()
    assert service.kind == "reassessment"
