"""The cancellation policy's fees are shown to the patient before they book, and when cancelling
now would be late (and whether a first offence would be waived)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.billing import world as billing_world
from booking.billing.notices import late_cancel_notice, policy_notice
from booking.models import Status
from tests.booking.factories import a_placed_hold, an_appointment

pytestmark = pytest.mark.django_db


def test_the_policy_reads_in_one_sentence_with_the_currency(billed):
    assert policy_notice(billed.location) == (
        "You can cancel free of charge until 24 hours before; a later cancellation costs "
        "40.00 CAD; missing the appointment costs 60.00 CAD. Your first late cancellation or "
        "missed appointment here is not charged."
    )


def test_a_location_that_charges_nothing_says_nothing(clinic):
    assert policy_notice(clinic.location) == ""
    billing_world.cancellation_policy(clinic.location)
    assert policy_notice(clinic.location) == ""


def test_the_patient_sees_the_policy_before_requesting(billed, patient, login):
    from tests.booking.conftest import next_weekday

    hold = a_placed_hold(billed, patient, next_weekday(billed.location, 2, 10))
    page = login(patient.user).get(reverse("booking:request_confirm", args=[hold.pk]))
    assert "a later cancellation costs 40.00 CAD" in page.content.decode()


def test_cancelling_late_says_what_it_costs_and_whether_it_is_waived(billed, patient):
    policy = billed.location.cancellation_policy
    soon = an_appointment(
        billed, patient, timezone.now() + dt.timedelta(hours=5), status=Status.CONFIRMED
    )
    assert late_cancel_notice(soon, timezone.now()).endswith(
        "costs 40.00 CAD, but not this time: it would be your first late cancellation here."
    )
    policy.first_offence_waived = False
    policy.save()
    assert late_cancel_notice(soon, timezone.now()).endswith("costs 40.00 CAD.")
    later = an_appointment(
        billed,
        patient,
        timezone.now() + dt.timedelta(days=3),
        status=Status.CONFIRMED,
        room=billed.rooms[1],
    )
    assert late_cancel_notice(later, timezone.now()) == ""


def test_inside_the_notice_the_patient_is_told_to_phone_and_what_cancelling_costs(
    billed, patient, login
):
    """One notice (the location's, here 48 hours) closes online changes and makes the fee due:
    the patient is never able to cancel online at a time that is charged."""
    billed.location.cancellation_notice_hours = 48
    billed.location.save(update_fields=["cancellation_notice_hours"])
    billing_world.cancellation_policy(
        billed.location, late_cancellation_fee="40.00", first_offence_waived=False
    )
    visit = an_appointment(
        billed, patient, timezone.now() + dt.timedelta(hours=30), status=Status.CONFIRMED
    )
    detail = login(patient.user).get(reverse("booking:appointment_detail", args=[visit.pk]))
    html = detail.content.decode()
    assert (
        "It is less than 48 hours before your appointment: to change or cancel it, please phone"
        in html
    )
    assert "Cancelling now costs 40.00 CAD." in html
    assert reverse("booking:appointment_cancel", args=[visit.pk]) not in html


def test_the_email_link_inside_the_notice_says_to_phone_and_what_cancelling_costs(
    billed, patient, client
):
    """The manage-this-appointment page a patient opens from an email, with no login, says the
    same as their appointment page."""
    from booking.notifications import links

    visit = an_appointment(
        billed, patient, timezone.now() + dt.timedelta(hours=20), status=Status.CONFIRMED
    )
    address = reverse("booking:link_manage", args=[visit.pk, links.make_token(visit)])
    html = client.get(address).content.decode()
    assert (
        "less than 24 hours before your appointment: to change or cancel it, please phone" in html
    )
    assert "Cancelling now costs 40.00 CAD, but not this time" in html
