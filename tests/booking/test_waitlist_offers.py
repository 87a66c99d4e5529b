"""Automatic waitlist offers: a time freed by a move is offered like a cancelled one, and only
to a waiting patient who is free then."""

from __future__ import annotations

import datetime as dt

import pytest

from booking import services
from booking.models import WaitlistOffer
from clinic.models import WorkingHours
from tests.booking.conftest import next_weekday
from tests.factories import PatientFactory, certified_practitioner

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(clinic):
    """A Tuesday 10:00 assessment with the clinic's practitioner, booked through the service."""
    return services.book_appointment(
        patient=PatientFactory(),
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.assessment,
        starts_at=next_weekday(clinic.location, 1, 10),
        minutes=60,
        actor=clinic.practitioner.user,
    )


@pytest.fixture
def colleague(clinic):
    """A second practitioner at the clinic, working the same hours."""
    practitioner = certified_practitioner(locations=[clinic.location])
    for weekday in range(5):
        WorkingHours.objects.create(
            practitioner=practitioner,
            location=clinic.location,
            weekday=weekday,
            starts_at=dt.time(9),
            ends_at=dt.time(17),
        )
    return practitioner


def _wait(patient, clinic, **fields):
    return services.join_waitlist(
        patient=patient,
        location=clinic.location,
        service=clinic.assessment,
        minutes=60,
        weekdays=[0, 1, 2, 3, 4],
        earliest_time=dt.time(8),
        latest_time=dt.time(18),
        actor=clinic.practitioner.user,
        **fields,
    )


def _busy_at(patient, clinic, practitioner, starts_at):
    """`patient` has another appointment at `starts_at`, with `practitioner`."""
    return services.book_appointment(
        patient=patient,
        location=clinic.location,
        practitioner=practitioner,
        service=clinic.assessment,
        starts_at=starts_at,
        minutes=60,
        actor=clinic.practitioner.user,
    )


# --- A time freed by a move -----------------------------------------------------------------


def test_the_time_a_move_frees_is_offered_to_the_first_waiting_patient(clinic, booked, patient):
    entry = _wait(patient, clinic)
    old_start, old_end = booked.starts_at, booked.ends_at
    services.reschedule_appointment(
        booked,
        starts_at=next_weekday(clinic.location, 3, 14),
        actor=clinic.practitioner.user,
        reason="The patient asked for Thursday",
    )
    offer = WaitlistOffer.objects.get()
    # The old time, not the one the appointment moved to.
    assert offer.entry == entry
    assert (offer.hold.starts_at, offer.hold.ends_at) == (old_start, old_end)
    assert offer.hold.practitioner == clinic.practitioner
    assert offer.offered_by is None


def test_a_move_to_another_practitioner_offers_the_old_practitioners_time(
    clinic, booked, patient, colleague
):
    _wait(patient, clinic, practitioner=clinic.practitioner)
    services.reschedule_appointment(
        booked,
        starts_at=booked.starts_at,
        practitioner=colleague,
        actor=clinic.practitioner.user,
    )
    offer = WaitlistOffer.objects.get()
    assert offer.hold.practitioner == clinic.practitioner
    assert offer.hold.starts_at == booked.starts_at


def test_a_move_that_still_covers_part_of_the_old_time_offers_nothing(clinic, booked, patient):
    _wait(patient, clinic)
    services.reschedule_appointment(
        booked,
        starts_at=booked.starts_at + dt.timedelta(minutes=30),
        actor=clinic.practitioner.user,
    )
    assert not WaitlistOffer.objects.exists()


def test_the_patient_who_moved_is_not_offered_their_old_time(clinic, booked):
    _wait(booked.patient, clinic)
    services.reschedule_appointment(
        booked, starts_at=next_weekday(clinic.location, 3, 14), actor=clinic.practitioner.user
    )
    assert not WaitlistOffer.objects.exists()


def test_a_time_already_past_is_not_offered_after_a_move(clinic, booked, patient):
    _wait(patient, clinic)
    services.reschedule_appointment(
        booked,
        starts_at=next_weekday(clinic.location, 3, 14),
        actor=clinic.practitioner.user,
        now=booked.starts_at + dt.timedelta(minutes=5),
    )
    assert not WaitlistOffer.objects.exists()


# --- Patients who are busy then are passed over ---------------------------------------------


def test_an_automatic_offer_passes_over_a_patient_busy_at_that_time(
    clinic, booked, patient, other_patient, colleague
):
    _wait(patient, clinic)
    second = _wait(other_patient, clinic)
    _busy_at(patient, clinic, colleague, booked.starts_at)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert offer.entry == second
    # The busy patient keeps their place for other times.
    assert patient.waitlist_entries.get().state == "waiting"


def test_an_offer_passed_on_also_passes_over_a_busy_patient(
    clinic, booked, patient, other_patient, colleague
):
    first = _wait(patient, clinic)
    busy = PatientFactory()
    _wait(busy, clinic)
    third = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert offer.entry == first
    # While the first patient thinks it over, the second books something else at that time.
    _busy_at(busy, clinic, colleague, booked.starts_at)
    passed = services.decline_offer(offer)
    assert passed is not None and passed.entry == third


def test_when_nobody_waiting_is_free_nothing_is_held(clinic, booked, patient, colleague):
    _wait(patient, clinic)
    _busy_at(patient, clinic, colleague, booked.starts_at)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    assert not WaitlistOffer.objects.exists()
    assert not booked.practitioner.holds.exists()


def test_a_needling_place_from_before_is_never_offered_a_time(clinic, patient, front_desk):
    """Needling places can no longer be made (they would skip the course gate); one left
    from before gets no automatic offer and cannot be offered a time by hand."""
    from booking.models import WaitlistEntry

    entry = WaitlistEntry.objects.create(
        patient=patient,
        location=clinic.location,
        service=clinic.needling,
        minutes=30,
        weekdays=[0, 1, 2, 3, 4],
        earliest_time=dt.time(8),
        latest_time=dt.time(18),
        created_by=front_desk,
    )
    start = next_weekday(clinic.location, 2, 10)
    freed = services.FreedSlot(
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.needling,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
    )
    assert services.offer_freed_slot(freed) is None
    with pytest.raises(services.BookingError, match="booked as a course"):
        services.offer_slot_by_hand(
            entry=entry, practitioner=clinic.practitioner, starts_at=start, actor=front_desk
        )
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING and not entry.offers.exists()
