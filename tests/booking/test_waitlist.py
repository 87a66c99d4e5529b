"""The waitlist: a freed slot (cancelled or moved) goes to the first matching patient who is
free then, held until a deadline, then to the next."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import Appointment, Status, WaitlistEntry, WaitlistOffer
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_booking,
    a_colleague,
    a_freed_slot,
    a_needling_place_from_before,
    a_placed_hold,
    an_appointment,
    joined_waitlist,
)
from tests.conftest import messages_said
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(clinic):
    return a_booking(clinic, next_weekday(clinic.location, 1, 10))


def _wait(patient, clinic, **fields):
    return joined_waitlist(clinic, patient, **fields)


def test_a_freed_slot_is_offered_to_the_first_matching_patient(
    clinic, booked, patient, other_patient
):
    _wait(PatientFactory(), clinic, weekdays=[4])  # Fridays only: does not match a Tuesday
    first = _wait(patient, clinic)
    _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert offer.entry == first
    assert offer.hold.starts_at == booked.starts_at
    assert offer.expires_at <= booked.starts_at - dt.timedelta(hours=1)


def test_the_offer_holds_the_slot_from_others(login, clinic, booked, patient, other_patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    with pytest.raises(services.SlotUnavailable):
        a_placed_hold(clinic, other_patient, booked.starts_at)


def test_accepting_books_the_slot(login, clinic, booked, patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    response = login(patient.user).post(reverse("booking:offer_accept", args=[offer.pk]))
    appointment = Appointment.objects.get(patient=patient)
    assert response.url == reverse("booking:appointment_detail", args=[appointment.pk])
    assert appointment.status == Status.CONFIRMED and appointment.starts_at == booked.starts_at
    assert WaitlistEntry.objects.get(patient=patient).state == "booked"


def test_accepting_while_booked_elsewhere_then_says_so_and_keeps_the_offer(
    login, clinic, booked, patient
):
    """The database would refuse the patient's second appointment at once as 'just taken';
    the time is not taken, it is theirs while the offer lasts."""
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    elsewhere = an_appointment(
        clinic,
        patient,
        booked.starts_at + dt.timedelta(minutes=30),
        practitioner=a_colleague(clinic),
    )
    client = login(patient.user)
    response = client.post(reverse("booking:offer_accept", args=[offer.pk]))
    said = messages_said(client.get(response.url))
    assert "You already have an appointment at that time" in said, said
    assert "just taken" not in said
    offer.refresh_from_db()
    assert offer.state == WaitlistOffer.State.OPEN
    assert list(Appointment.objects.filter(patient=patient)) == [elsewhere]


def test_declining_passes_the_slot_to_the_next_patient(
    login, clinic, booked, patient, other_patient
):
    _wait(patient, clinic)
    second = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    login(patient.user).post(
        reverse("booking:offer_decline", args=[WaitlistOffer.objects.get().pk])
    )
    open_offer = WaitlistOffer.objects.get(state="open")
    assert open_offer.entry == second
    # The first patient keeps their place for other times.
    assert WaitlistEntry.objects.get(patient=patient).state == "waiting"


def test_a_declined_time_is_not_offered_again_through_the_patients_other_place(
    login, clinic, booked, patient, other_patient
):
    _wait(patient, clinic)
    _wait(patient, clinic, weekdays=[1])  # a second place of theirs that also suits
    after_them = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    login(patient.user).post(reverse("booking:offer_decline", args=[offer.pk]))
    assert WaitlistOffer.objects.get(state="open").entry == after_them


def test_leaving_the_waitlist_with_an_offer_open_passes_the_slot_on(
    login, clinic, booked, patient, other_patient
):
    first = _wait(patient, clinic)
    second = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    login(patient.user).post(reverse("booking:waitlist_leave", args=[first.pk]))
    offer.refresh_from_db()
    assert offer.state == "withdrawn"
    passed_on = WaitlistOffer.objects.get(state="open")
    assert passed_on.entry == second and passed_on.hold.starts_at == booked.starts_at


def test_declining_an_offer_already_taken_says_it_stays_booked(login, clinic, booked, patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    client = login(patient.user)
    client.post(reverse("booking:offer_accept", args=[offer.pk]), follow=True)
    response = client.post(reverse("booking:offer_decline", args=[offer.pk]), follow=True)
    said = messages_said(response)
    assert "stays booked for you" in said and "Offer declined" not in said
    offer.refresh_from_db()
    assert offer.state == "accepted"
    assert Appointment.objects.get(patient=patient).status == Status.CONFIRMED


def test_declining_an_offer_that_ended_declines_nothing(login, clinic, booked, patient):
    entry = _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    client = login(patient.user)
    client.post(reverse("booking:waitlist_leave", args=[entry.pk]), follow=True)
    response = client.post(reverse("booking:offer_decline", args=[offer.pk]), follow=True)
    said = messages_said(response)
    assert "already ended" in said and "keep your place" not in said
    assert WaitlistEntry.objects.get(pk=entry.pk).state == "withdrawn"


def test_accepting_again_after_cancelling_the_appointment_says_the_offer_ended(
    login, clinic, booked, patient
):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    client = login(patient.user)
    client.post(reverse("booking:offer_accept", args=[offer.pk]), follow=True)
    taken = Appointment.objects.get(patient=patient)
    services.patient_cancel(taken, actor=patient.user, reason="Cannot come after all")
    response = client.post(reverse("booking:offer_accept", args=[offer.pk]), follow=True)
    said = messages_said(response)
    assert "since been cancelled" in said and "is yours" not in said
    assert Appointment.objects.get(patient=patient).status == Status.CANCELLED


def test_an_unanswered_offer_expires_and_passes_on(clinic, booked, patient, other_patient):
    _wait(patient, clinic)
    second = _wait(other_patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert services.expire_offers(now=offer.expires_at + dt.timedelta(seconds=1)) == 1
    offer.refresh_from_db()
    assert offer.state == "expired"
    assert WaitlistOffer.objects.get(state="open").entry == second


def test_offers_show_on_the_patients_page(login, clinic, booked, patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    html = login(patient.user).get(reverse("booking:my_appointments")).content.decode()
    assert "Earlier times offered to you" in html and "Take this time" in html


def test_a_patient_joins_the_waitlist_from_the_page(login, clinic, patient):
    client = login(patient.user)
    url = reverse("booking:waitlist_join", args=[clinic.location.slug])
    bad = client.post(url, {"weekdays": [], "earliest_time": "17:00", "latest_time": "09:00"})
    assert "Choose at least one day" in bad.content.decode()
    assert "must be after the start" in bad.content.decode()
    client.post(url, {"weekdays": [1, 3], "earliest_time": "09:00", "latest_time": "12:00"})
    entry = WaitlistEntry.objects.get()
    assert (entry.weekdays, entry.patient) == ([1, 3], patient)


def test_joining_twice_with_the_same_wish_makes_one_place(login, clinic, patient):
    client = login(patient.user)
    url = reverse("booking:waitlist_join", args=[clinic.location.slug])
    wish = {"weekdays": [1, 3], "earliest_time": "09:00", "latest_time": "12:00"}
    client.post(url, wish)
    client.post(url, wish)
    assert WaitlistEntry.objects.filter(patient=patient).count() == 1
    client.post(url, wish | {"latest_time": "13:00"})  # another wish is another place
    assert WaitlistEntry.objects.filter(patient=patient).count() == 2


def test_a_patient_cannot_accept_someone_elses_offer(login, clinic, booked, patient, other_patient):
    _wait(patient, clinic)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    offer = WaitlistOffer.objects.get()
    assert (
        login(other_patient.user).post(reverse("booking:offer_accept", args=[offer.pk])).status_code
        == 404
    )
    assert timezone.now() < offer.expires_at


# --- Which freed times are offered, and to whom ---------------------------------------------------


@pytest.fixture
def colleague(clinic):
    """A second practitioner at the clinic, working the same hours."""
    return a_colleague(clinic)


def _busy_at(patient, clinic, practitioner, starts_at):
    """`patient` has another appointment at `starts_at`, with `practitioner`."""
    return a_booking(
        clinic,
        starts_at,
        patient=patient,
        practitioner=practitioner,
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
        # Thursday of the same week: after the "now" of the move, whatever today is.
        starts_at=booked.starts_at + dt.timedelta(days=2, hours=4),
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
    entry = a_needling_place_from_before(clinic, patient, created_by=front_desk)
    start = next_weekday(clinic.location, 2, 10)
    assert services.offer_freed_slot(a_freed_slot(clinic, start, service=clinic.needling)) is None
    with pytest.raises(services.BookingError, match="booked as a course"):
        services.offer_slot_by_hand(
            entry=entry, practitioner=clinic.practitioner, starts_at=start, actor=front_desk
        )
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING and not entry.offers.exists()
