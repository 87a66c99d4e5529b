"""A waitlist place for an earlier time than an appointment the patient already has: only
earlier times are offered to it, and taking one moves that appointment (history, emails, and
the time it leaves offered on, as for any move) instead of booking a second visit. A place
whose appointment is cancelled, has begun or moved to another location is withdrawn; course
sessions are never linked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from booking import services
from booking.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    Notification,
    Status,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.notifications import render_parts
from booking.webhooks.models import Delivery, Event
from booking.webhooks.services import register_endpoint
from clinic import world
from clinic.models import ServiceKind
from clinic.templatetags.clinic_time import at_location
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_booking,
    a_clinic,
    a_course,
    a_needling_place_from_before,
    a_waitlist_entry,
    joined_waitlist,
)
from tests.booking.races import first_holds_its_lock
from tests.conftest import messages_said, raw_sql
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

WISH = {"weekdays": [0, 1, 2, 3, 4], "earliest_time": "09:00", "latest_time": "17:00"}


@pytest.fixture
def later(clinic, patient, front_desk):
    """The patient's assessment, booked three weeks out (a Thursday at 14:00)."""
    starts_at = next_weekday(clinic.location, 3, 14, weeks_ahead=3)
    return a_booking(clinic, starts_at, patient=patient, actor=front_desk)


def _free_up(clinic, starts_at: dt.datetime) -> Appointment:
    """Another patient's assessment at `starts_at`, booked and then cancelled: the time is freed."""
    booked = a_booking(clinic, starts_at)
    services.cancel_appointment(booked, by="patient", actor=None, reason="Unwell")
    return booked


@pytest.fixture
def offered(clinic, patient, later):
    """The patient waits for an earlier time than `later`; next Tuesday at 10:00 frees up and is
    offered to them."""
    joined_waitlist(clinic, patient, replaces=later)
    _free_up(clinic, next_weekday(clinic.location, 1, 10))
    return WaitlistOffer.objects.get(entry__patient=patient, state=WaitlistOffer.State.OPEN)


def _when(appointment) -> str:
    return at_location(appointment.starts_at, appointment.location, "l j F, g:i A")


# --- Taking the offer moves the appointment ---------------------------------------------------


def test_taking_an_offer_moves_the_appointment_the_place_is_for(login, patient, later, offered):
    response = login(patient.user).post(reverse("booking:offer_accept", args=[offered.pk]))
    assert response.url == reverse("booking:appointment_detail", args=[later.pk])
    # One appointment, not two: the one booked three weeks out, now at the offered time.
    assert list(Appointment.objects.filter(patient=patient)) == [later]
    later.refresh_from_db()
    assert (later.starts_at, later.status) == (offered.hold.starts_at, Status.CONFIRMED)
    moved = later.events.get(kind=AppointmentEvent.Kind.MOVED)
    assert moved.reason == "Moved to an earlier time offered from the waitlist"
    assert (moved.actor, moved.details["waitlist_offer"]) == (patient.user, offered.pk)
    assert later.notifications.filter(kind=Notification.Kind.RESCHEDULED).exists()
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.ACCEPTED
    assert offered.entry.state == WaitlistEntry.State.BOOKED
    assert not offered.hold.is_live()


def test_taking_it_says_the_appointment_moved(login, patient, offered):
    client = login(patient.user)
    response = client.post(reverse("booking:offer_accept", args=[offered.pk]), follow=True)
    assert "your appointment is moved there" in messages_said(response)


def test_taking_it_twice_finds_the_moved_appointment(patient, later, offered):
    first = services.accept_offer(offered, actor=patient.user)
    again = services.accept_offer(offered, actor=patient.user)
    assert first == again == later
    assert Appointment.objects.filter(patient=patient).count() == 1


def test_the_time_the_appointment_leaves_goes_to_the_next_patient_waiting(
    clinic, patient, other_patient, later, offered
):
    thursdays = joined_waitlist(clinic, other_patient, weekdays=[3])
    old_start = later.starts_at
    services.accept_offer(offered, actor=patient.user)
    passed_on = WaitlistOffer.objects.get(state=WaitlistOffer.State.OPEN)
    assert passed_on.entry == thursdays
    assert passed_on.hold.starts_at == old_start


@pytest.fixture
def requested(clinic, patient, front_desk):
    """The patient's request for an assessment three weeks out, not yet confirmed."""
    return a_booking(
        clinic,
        next_weekday(clinic.location, 3, 14, weeks_ahead=3),
        patient=patient,
        actor=front_desk,
        status=Status.REQUESTED,
    )


def test_a_requested_appointment_is_confirmed_at_its_earlier_time(clinic, patient, requested):
    joined_waitlist(clinic, patient, replaces=requested)
    _free_up(clinic, next_weekday(clinic.location, 1, 10))
    moved = services.accept_offer(WaitlistOffer.objects.get(), actor=patient.user)
    assert moved == requested and moved.status == Status.CONFIRMED
    assert moved.events.filter(to_status=Status.CONFIRMED, reason="Accepted a waitlist offer")


def test_a_request_moved_and_confirmed_by_an_offer_gets_one_email_with_both(
    clinic, patient, requested, manager
):
    register_endpoint(
        name="Portal",
        url="https://hooks.example.org/c",
        events=list(Event.values),
        locations=(),
        by=manager,
        now=timezone.now(),
    )
    asked_for = requested.starts_at
    joined_waitlist(clinic, patient, replaces=requested)
    _free_up(clinic, next_weekday(clinic.location, 1, 10))
    moved = services.accept_offer(WaitlistOffer.objects.get(), actor=patient.user)
    pending = moved.notifications.filter(state=Notification.State.PENDING).exclude(
        kind__in=[
            Notification.Kind.REQUEST_RECEIVED,
            Notification.Kind.REMINDER,
            Notification.Kind.INTAKE_MISSING,
        ]
    )
    # One email: the confirmation, carrying the new time and the time asked for.
    email = pending.get()
    assert email.kind == Notification.Kind.CONFIRMED
    subject, text, html, attachments = render_parts(email, now=timezone.now())
    assert at_location(moved.starts_at, moved.location) in subject
    assert f"You asked for: {at_location(asked_for, clinic.location)}" in text
    assert "confirmed, at a new time" in text and "confirmed</strong>, at a new time" in html
    assert [part.get_filename() for part in attachments] == ["appointment.ics"]
    # Both steps still leave their history and tell the webhooks.
    kinds = list(moved.events.order_by("id").values_list("kind", "to_status"))
    assert kinds[-2:] == [
        (AppointmentEvent.Kind.MOVED, ""),
        (AppointmentEvent.Kind.STATUS, "confirmed"),
    ]
    told = list(
        Delivery.objects.filter(payload__data__reference=f"Appointment/{moved.pk}")
        .order_by("id")
        .values_list("event", flat=True)
    )
    assert told[-2:] == [Event.APPOINTMENT_MOVED, Event.APPOINTMENT_CONFIRMED]


def test_an_appointment_moved_earlier_since_the_offer_is_left_where_it_is(
    clinic, patient, front_desk, later, offered
):
    # The day before the offered Tuesday, on the location's clock (whatever today's weekday).
    sooner = offered.hold.starts_at.astimezone(clinic.location.zone) - dt.timedelta(days=1)
    services.reschedule_appointment(later, starts_at=sooner, actor=front_desk)
    with pytest.raises(services.BookingError, match="no later than this offer"):
        services.accept_offer(offered, actor=patient.user)
    later.refresh_from_db()
    assert later.starts_at == sooner


# --- Only earlier times are offered to such a place -------------------------------------------


def test_a_time_after_the_appointment_is_not_offered_to_its_place(
    clinic, patient, other_patient, later
):
    joined_waitlist(clinic, patient, replaces=later)
    anyone = joined_waitlist(clinic, other_patient)
    _free_up(clinic, next_weekday(clinic.location, 1, 10, weeks_ahead=4))
    assert WaitlistOffer.objects.get().entry == anyone


def test_the_desk_cannot_offer_such_a_place_a_time_after_the_appointment(
    clinic, patient, front_desk, later
):
    entry = joined_waitlist(clinic, patient, replaces=later)
    with pytest.raises(services.BookingError, match="offer a time before it"):
        services.offer_slot_by_hand(
            entry=entry,
            practitioner=clinic.practitioner,
            starts_at=later.starts_at + dt.timedelta(days=7),
            actor=front_desk,
        )


def test_the_desks_offer_page_lists_only_times_before_the_appointment(
    login, clinic, patient, front_desk, later
):
    entry = joined_waitlist(clinic, patient, replaces=later)
    page = login(front_desk).get(reverse("booking:waitlist_offer", args=[entry.pk]))
    listed = [day for day in page.context["days"]]
    assert listed and max(listed) <= later.starts_at.astimezone(clinic.location.zone).date()
    assert "For an earlier time than their appointment" in page.content.decode()


# --- A place whose appointment is gone ------------------------------------------------------


def test_cancelling_the_appointment_withdraws_its_place_and_passes_the_offer_on(
    clinic, patient, other_patient, later, offered
):
    next_in_line = joined_waitlist(clinic, other_patient)
    services.patient_cancel(later, actor=patient.user, reason="Feeling better")
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.WITHDRAWN
    assert offered.entry.state == WaitlistEntry.State.WITHDRAWN
    passed_on = WaitlistOffer.objects.get(state=WaitlistOffer.State.OPEN)
    assert passed_on.entry == next_in_line and passed_on.hold.starts_at == offered.hold.starts_at
    # And nothing is booked for them from the offer they can no longer take.
    with pytest.raises(services.BookingError):
        services.accept_offer(offered, actor=patient.user)
    assert not Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES).exists()


def test_moving_the_appointment_to_another_location_withdraws_its_place(
    clinic, patient, front_desk, other_location, later, offered
):
    """The place was asked for at the location the appointment left: an offer taken from it
    would move the visit back there."""
    elsewhere = a_clinic(location=other_location, rooms=1)
    services.reschedule_appointment(
        later,
        starts_at=next_weekday(other_location, 3, 14, weeks_ahead=2),
        actor=front_desk,
        location=other_location,
        practitioner=elsewhere.practitioner,
    )
    offered.refresh_from_db()
    assert offered.state == WaitlistOffer.State.WITHDRAWN
    assert offered.entry.state == WaitlistEntry.State.WITHDRAWN


def test_moving_the_appointment_within_its_location_keeps_its_place(
    clinic, patient, front_desk, later, offered
):
    moved = services.reschedule_appointment(
        later, starts_at=next_weekday(clinic.location, 2, 14, weeks_ahead=3), actor=front_desk
    )
    offered.refresh_from_db()
    assert offered.entry.state == WaitlistEntry.State.OFFERED
    assert offered.entry.replaces == moved


def _join_for_earlier_than(clinic, patient, appointment):
    return lambda: joined_waitlist(clinic, patient, replaces=appointment)


def _cancel(appointment, patient):
    return lambda: services.patient_cancel(appointment, actor=patient.user, reason="Away")


@pytest.mark.django_db(transaction=True)
def test_a_place_joined_while_its_appointment_is_cancelled_is_refused(clinic, patient, later):
    """At the same instant: the patient cancels the appointment in one tab and asks for an
    earlier time than it in another. Joining waits for the cancellation, then is refused: no
    live place is left for a cancelled appointment (it would be offered times nobody can take)."""
    cancelled, joining, waited = first_holds_its_lock(
        _cancel(later, patient),
        _join_for_earlier_than(clinic, patient, later),
        won="done",
        lost=(services.PlaceLinkRefused, "refused"),
    )
    assert (cancelled, waited) == ("done", True), (cancelled, joining)
    assert joining.startswith("refused: That appointment is cancelled"), joining
    assert not WaitlistEntry.objects.filter(state__in=["waiting", "offered"]).exists()


@pytest.mark.django_db(transaction=True)
def test_an_appointment_cancelled_while_a_place_joins_for_it_takes_the_place_along(
    clinic, patient, later
):
    """The other order: the place is being made when the cancellation comes; the cancellation
    waits for it, then withdraws it."""
    joined, cancelled, waited = first_holds_its_lock(
        _join_for_earlier_than(clinic, patient, later),
        _cancel(later, patient),
        won="done",
        lost=(services.BookingError, "refused"),
    )
    assert (joined, cancelled, waited) == ("done", "done", True)
    assert WaitlistEntry.objects.get().state == WaitlistEntry.State.WITHDRAWN


def test_a_place_is_linked_only_to_an_appointment_it_can_bring_forward(
    clinic, patient, other_patient, front_desk, later, other_location
):
    def join(appointment, service=None):
        return services.join_waitlist(
            patient=patient,
            location=clinic.location,
            service=service or clinic.assessment,
            minutes=60,
            weekdays=[1],
            earliest_time=dt.time(9),
            latest_time=dt.time(12),
            actor=patient.user,
            replaces=appointment,
        )

    someone_elses = a_booking(
        clinic, later.starts_at + dt.timedelta(days=1), patient=other_patient, actor=front_desk
    )
    with pytest.raises(services.PlaceLinkRefused, match="not this patient's"):
        join(someone_elses)
    reassessment = world.service(ServiceKind.REASSESSMENT)
    with pytest.raises(services.PlaceLinkRefused, match="not a re-assessment"):
        join(later, service=reassessment)
    elsewhere = a_clinic(location=other_location)
    there = a_booking(elsewhere, later.starts_at + dt.timedelta(days=1), patient=patient)
    with pytest.raises(services.PlaceLinkRefused, match="brings forward an appointment at"):
        join(there)
    services.patient_cancel(later, actor=patient.user, reason="Away")
    with pytest.raises(services.PlaceLinkRefused, match="nothing to bring forward"):
        join(later)
    assert not WaitlistEntry.objects.exists()


def test_a_course_session_is_never_brought_forward_from_the_waitlist(clinic, patient):
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 1, 10, weeks_ahead=2),
    )
    session = course.appointments.get()
    with pytest.raises(services.BookingError):
        services.join_waitlist(
            patient=patient,
            location=clinic.location,
            service=clinic.needling,
            minutes=30,
            weekdays=[1],
            earliest_time=dt.time(9),
            latest_time=dt.time(12),
            actor=patient.user,
            replaces=session,
        )
    assert session not in services.replaceable_appointments(
        patient=patient, location=clinic.location
    )


def test_a_second_place_for_the_same_appointment_is_refused_with_the_reason(clinic, patient, later):
    first = joined_waitlist(clinic, patient, replaces=later)
    assert joined_waitlist(clinic, patient, replaces=later) == first  # sent twice: one place
    with pytest.raises(services.PlaceLinkRefused, match="leave that place first"):
        joined_waitlist(clinic, patient, replaces=later, weekdays=[2])


# --- PostgreSQL keeps the link honest -------------------------------------------------------


def test_the_database_refuses_a_place_for_another_patients_appointment(
    clinic, patient, other_patient, front_desk, later
):
    entry = a_waitlist_entry(clinic, other_patient, created_by=front_desk)
    with pytest.raises(IntegrityError, match="waitlist_entry_appointment_is_the_patients"):
        raw_sql(
            "UPDATE booking_waitlistentry SET replaces_id = %s WHERE id = %s", [later.pk, entry.pk]
        )


def test_the_database_refuses_a_place_for_an_appointment_of_another_service(clinic, patient, later):
    entry = a_waitlist_entry(clinic, patient, service=world.service(ServiceKind.REASSESSMENT))
    with pytest.raises(IntegrityError, match="waitlist_place_replaces_its_own_service"):
        raw_sql(
            "UPDATE booking_waitlistentry SET replaces_id = %s WHERE id = %s", [later.pk, entry.pk]
        )


def test_the_database_refuses_a_place_for_a_course_session(clinic, patient):
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 1, 10, weeks_ahead=2),
    )
    entry = a_needling_place_from_before(clinic, patient)
    with pytest.raises(IntegrityError, match="waitlist_place_replaces_its_own_service"):
        raw_sql(
            "UPDATE booking_waitlistentry SET replaces_id = %s WHERE id = %s",
            [course.appointments.get().pk, entry.pk],
        )


def test_the_database_refuses_two_live_places_for_one_appointment(clinic, patient, later):
    a_waitlist_entry(clinic, patient, replaces=later)
    with pytest.raises(IntegrityError, match="waitlist_one_live_place_per_appointment"):
        raw_sql(
            "INSERT INTO booking_waitlistentry (patient_id, location_id, service_id, minutes, "
            "weekdays, earliest_time, latest_time, state, created_at, created_by_id, "
            "replaces_id) VALUES (%s, %s, %s, 60, '{2}', '09:00', '12:00', 'waiting', now(), "
            "%s, %s)",
            [patient.pk, clinic.location.pk, clinic.assessment.pk, patient.user.pk, later.pk],
        )


# --- The patient's pages and emails, the desk's board ------------------------------------


def test_the_join_form_asks_which_appointment_to_bring_forward_and_links_it(
    login, clinic, patient, later
):
    client = login(patient.user)
    url = reverse("booking:waitlist_join", args=[clinic.location.slug])
    page = client.get(url)
    field = page.context["form"].fields["replaces"]
    assert list(field.queryset) == [later] and field.initial == later.pk
    assert "keep one appointment, not two" in page.content.decode()
    refused = client.post(url, WISH)
    assert refused.context["form"].errors["replaces"] == [
        "Choose the appointment to move to an earlier time."
    ]
    client.post(url, WISH | {"replaces": later.pk})
    assert WaitlistEntry.objects.get().replaces == later


def test_a_tampered_join_form_naming_another_appointment_is_refused_on_its_field(
    login, clinic, patient, other_patient, front_desk, later
):
    someone_elses = a_booking(
        clinic, later.starts_at + dt.timedelta(days=1), patient=other_patient, actor=front_desk
    )
    url = reverse("booking:waitlist_join", args=[clinic.location.slug])
    refused = login(patient.user).post(url, WISH | {"replaces": someone_elses.pk})
    assert refused.status_code == 200
    assert "can no longer be moved earlier" in refused.context["form"].errors["replaces"][0]
    assert not WaitlistEntry.objects.exists()


@pytest.mark.parametrize("by", ["patient", "front desk"])
def test_a_second_place_for_the_same_appointment_is_refused_on_its_field(
    login, clinic, patient, front_desk, later, by
):
    """The appointment already has a place (other times that suit): the patient's page and the
    desk's both say so on the appointment to bring forward, and make no second place."""
    first = joined_waitlist(clinic, patient, replaces=later)
    if by == "patient":
        client = login(patient.user)
        url = reverse("booking:waitlist_join", args=[clinic.location.slug])
    else:
        client = login(front_desk)
        url = reverse("booking:waitlist_add", args=[clinic.location.slug, patient.pk])
    wish = WISH | {"replaces": later.pk, "service": clinic.assessment.pk, "minutes": "60"}
    refused = client.post(url, wish)
    assert refused.status_code == 200
    assert "leave that place first" in refused.context["form"].errors["replaces"][0]
    assert list(WaitlistEntry.objects.all()) == [first]


def test_a_patient_with_no_appointment_here_is_not_asked(login, clinic, patient):
    page = login(patient.user).get(reverse("booking:waitlist_join", args=[clinic.location.slug]))
    assert "replaces" not in page.context["form"].fields


def test_the_appointment_page_offers_the_waitlist_for_an_earlier_time(
    login, clinic, patient, later
):
    client = login(patient.user)
    detail = reverse("booking:appointment_detail", args=[later.pk])
    join = f"{reverse('booking:waitlist_join', args=[clinic.location.slug])}?appointment={later.pk}"
    assert join in client.get(detail).content.decode()
    assert client.get(join).context["form"]["replaces"].initial == later.pk
    client.post(join, WISH | {"replaces": later.pk})
    assert "You are on the waitlist for an earlier time" in client.get(detail).content.decode()


def test_the_offer_and_its_email_say_it_is_for_the_appointment(login, patient, later, offered):
    said = f"An earlier time for your appointment on {at_location(later.starts_at, later.location)}"
    html = login(patient.user).get(reverse("booking:my_appointments")).content.decode()
    assert said in html and "Taking it moves that appointment here" in html
    subject, text, _, _ = render_parts(offered.notifications.get(), now=timezone.now())
    assert subject.startswith("An earlier time for your appointment on")
    assert said in text and "your appointment moves to this time" in text


def test_the_board_shows_which_appointment_a_place_would_move(
    login, clinic, patient, front_desk, later
):
    joined_waitlist(clinic, patient, replaces=later)
    html = (
        login(front_desk)
        .get(reverse("booking:waitlist_board", args=[clinic.location.slug]))
        .content.decode()
    )
    when = at_location(later.starts_at, clinic.location, "D j M g:i A")
    assert f"Earlier than their appointment of {when}" in html


def test_the_desk_puts_a_patient_on_the_waitlist_for_an_earlier_time(
    login, clinic, patient, front_desk, later
):
    url = reverse("booking:waitlist_add", args=[clinic.location.slug, patient.pk])
    wish = WISH | {"service": clinic.assessment.pk, "minutes": 45, "replaces": later.pk}
    login(front_desk).post(url, wish)
    entry = WaitlistEntry.objects.get()
    # Of the appointment's own length: the move keeps it.
    assert (entry.replaces, entry.minutes) == (later, 60)


def test_a_waiting_patient_with_no_link_still_books_a_new_appointment(clinic, patient):
    """Unchanged for a place with no appointment to move (the desk chose none)."""
    joined_waitlist(clinic, PatientFactory(), weekdays=[4])
    joined_waitlist(clinic, patient)
    _free_up(clinic, next_weekday(clinic.location, 1, 10))
    booked = services.accept_offer(WaitlistOffer.objects.get(), actor=patient.user)
    assert booked.events.get().kind == AppointmentEvent.Kind.CREATED


def test_a_place_whose_appointment_has_begun_unmarked_goes_with_the_next_pass(
    clinic, patient, later
):
    # Nobody checked the patient in or marked them missed: the worker's pass over the offers
    # takes the place off the board, since no earlier time can be offered to it any more.
    entry = joined_waitlist(clinic, patient, replaces=later)
    services.expire_offers(now=later.starts_at - dt.timedelta(minutes=1))
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WAITING
    services.expire_offers(now=later.starts_at + dt.timedelta(minutes=1))
    entry.refresh_from_db()
    assert entry.state == WaitlistEntry.State.WITHDRAWN
