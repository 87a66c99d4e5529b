"""The day view shows free time for a service: a free box stands only where the service chosen
at the top (remembered on the device) can really be booked, with that practitioner and a room,
the buffer after it, at the clinic's slot starts; the by-room view agrees with the
practitioners' availability; a box leads to booking exactly that."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from booking.desk import free_time, schedule
from booking.forms import slot_choice_value
from booking.models import Appointment
from tests.booking.conftest import next_weekday
from tests.booking.factories import an_appointment

pytestmark = pytest.mark.django_db


def _offer(minutes: int) -> free_time.Offer:
    return next(o for o in free_time.offers() if o.minutes == minutes)  # 45, 60: assessments


def _free_labels(clinic, day, minutes, *, by="practitioners", column=0):
    loaded = schedule.load_location_day(clinic.location, day)
    grid = schedule.day_grid(loaded, by=by, book_url="/book/", offer=_offer(minutes))
    return [item.label for item in grid.columns[column].items if item.kind == "free"]


def _day(clinic, patient, *starts):
    """The clinic's practitioner (9:00–17:00) with an assessment at each local hour given."""
    first = next_weekday(clinic.location, 1, 9)
    for hour, minute in starts:
        an_appointment(clinic, patient, first.replace(hour=hour, minute=minute))
    return first.date()


def test_free_boxes_are_the_starts_where_the_whole_service_fits(clinic, patient):
    day = _day(clinic, patient, (10, 0), (12, 15))  # each busy for 60 minutes and a 5-minute buffer
    hour = _free_labels(clinic, day, 60)
    # 9:00 would run into 10:00 with its buffer; after 11:05 only 1 h 10 min is free before
    # 12:15, not enough for 60 minutes and a buffer; after 13:20 the next start is 13:30.
    assert "9:00 AM" not in hour
    assert "11:15 AM" not in hour and "11:05 AM" not in hour
    assert hour[:3] == ["1:30 PM", "1:45 PM", "2:00 PM"]
    assert hour[-1] == "4:00 PM"  # the last hour that ends by 17:00
    shorter = _free_labels(clinic, day, 45)
    assert "11:15 AM" in shorter and "11:30 AM" not in shorter  # 45 + 5 minutes fit until 12:15


def test_free_boxes_start_on_the_quarter_hour_never_at_the_end_of_a_buffer(clinic, patient):
    day = _day(clinic, patient, (10, 0))
    loaded = schedule.load_location_day(clinic.location, day)
    grid = schedule.day_grid(loaded, book_url="/book/", offer=_offer(60))
    minutes = {item.start % 60 for item in grid.columns[0].items if item.kind == "free"}
    assert minutes <= {0, 15, 30, 45}


def test_a_room_is_not_free_while_the_only_practitioner_is_busy(clinic, patient):
    day = _day(clinic, patient, (10, 0))  # in Room 1
    room_2 = _free_labels(clinic, day, 60, by="rooms", column=1)
    assert "10:00 AM" not in room_2 and "10:30 AM" not in room_2
    assert "11:15 AM" in room_2
    # Both rooms offer what the practitioner can do, and no more.
    assert room_2 == _free_labels(clinic, day, 60, by="practitioners")


def test_a_free_box_leads_to_booking_that_service_at_that_time(
    login, front_desk, clinic, patient, intake
):
    day = _day(clinic, patient, (10, 0))
    client = login(front_desk)
    page = client.get(
        reverse("booking:location_day", args=[clinic.location.slug]),
        {"date": day.isoformat(), "offer": "assessment:45"},
    ).content.decode()
    assert "times initial assessment (45 min) can start" in page
    assert "Book 11:15 AM with" in page and "(Initial assessment, 45 min)" in page
    start = next_weekday(clinic.location, 1, 11, 15)
    at = f"{start.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"
    assert f"service=assessment&amp;minutes=45&amp;practitioner={clinic.practitioner.pk}" in page
    book = reverse("booking:book_for_patient", args=[clinic.location.slug, patient.pk])
    carried = {"service": "assessment", "minutes": "45", "practitioner": clinic.practitioner.pk}
    form = client.get(book, carried | {"at": at}).content.decode()
    value = slot_choice_value(clinic.practitioner.pk, start)
    assert f'value="{value}" required checked' in form
    client.post(book, {"service": "assessment", "minutes": "45", "slot": value})
    booked = Appointment.objects.filter(patient=patient).latest("starts_at")
    assert (booked.starts_at, booked.minutes) == (start, 45)


def test_the_service_chosen_is_remembered_on_the_device(login, front_desk, clinic, patient):
    day = _day(clinic, patient)
    client = login(front_desk)
    url = reverse("booking:location_day", args=[clinic.location.slug])
    first = client.get(url, {"date": day.isoformat()}).content.decode()
    assert '<option value="assessment:60" selected>' in first  # the usual length at first
    client.get(url, {"date": day.isoformat(), "offer": "assessment:45"})
    later = client.get(url, {"date": day.isoformat()}).content.decode()
    assert '<option value="assessment:45" selected>' in later
    assert "(Initial assessment, 45 min)" in later
    # Something that is not an offer is ignored, not an error.
    odd = client.get(url, {"date": day.isoformat(), "offer": "x:99"})
    assert odd.status_code == 200


def test_needling_lengths_show_where_a_session_fits_without_booking_from_the_box(
    login, front_desk, clinic, patient
):
    """Needling sessions are booked with their course; chosen at the top, their free boxes
    show where a 20-minute session fits (to drag one there, or to offer on the phone) and lead
    nowhere that would refuse them."""
    day = _day(clinic, patient, (10, 0))
    assert [o.key for o in free_time.offers()] == [
        "assessment:45",
        "assessment:60",
        "dry_needling:15",
        "dry_needling:20",
        "dry_needling:30",
    ]
    labels = _free_labels(clinic, day, 20)
    assert "9:30 AM" in labels and "9:45 AM" not in labels  # 9:45 + 20 + 5 runs into 10:00
    page = (
        login(front_desk)
        .get(
            reverse("booking:location_day", args=[clinic.location.slug]),
            {"date": day.isoformat(), "offer": "dry_needling:20"},
        )
        .content.decode()
    )
    assert "needling sessions are booked with their course" in page
    assert '<div class="sched-free sched-fits' in page and '<a class="sched-free' not in page
    assert "Free at 9:30 AM with" in page and "for Dry-needling session, 20 min" in page
