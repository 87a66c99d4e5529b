"""A dry-needling session is booked only as a session of a course, from an assessment that says
needling is appropriate: the booking services refuse a one-off needling session with the
clinic's reason."""

from __future__ import annotations

import pytest

from booking import services
from booking.models import Appointment, SlotHold, Status
from booking.services.slots import check_slot, write_appointment
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking

pytestmark = pytest.mark.django_db


# --- The booking services --------------------------------------------------------------------


def test_booking_a_needling_session_outside_a_course_is_refused_with_the_reason(
    clinic, patient, front_desk
):
    with pytest.raises(services.BookingError) as refused:
        a_booking(
            clinic,
            next_weekday(clinic.location, 1, 10),
            patient=patient,
            service=clinic.needling,
            actor=front_desk,
        )
    assert str(refused.value) == services.NEEDLING_IS_BOOKED_AS_A_COURSE
    assert str(refused.value).startswith(
        "Dry-needling sessions are booked as a course after the assessment"
    )
    assert not Appointment.objects.filter(patient=patient).exists()


def test_the_reason_comes_before_the_time_is_looked_at(clinic, patient, front_desk):
    """A Sunday, when nobody works: what the desk reads is still why needling is not booked so."""
    with pytest.raises(services.BookingError, match="booked as a course"):
        a_booking(
            clinic,
            next_weekday(clinic.location, 6, 10),
            patient=patient,
            service=clinic.needling,
            actor=front_desk,
        )


def test_writing_a_checked_needling_slot_without_its_course_is_refused(clinic, patient):
    """`write_appointment`, which every workflow writes through, refuses it whatever checked
    the slot before."""
    checked = check_slot(
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.needling,
        starts_at=next_weekday(clinic.location, 2, 10),
        minutes=30,
        patient=patient,
        for_patient=False,
    )
    with pytest.raises(services.BookingError, match="booked as a course"):
        write_appointment(
            checked,
            patient=patient,
            service=clinic.needling,
            status=Status.CONFIRMED,
            actor=clinic.practitioner.user,
        )
    assert not Appointment.objects.filter(patient=patient).exists()


def test_holding_a_needling_slot_is_refused(clinic, patient):
    """A hold could only ever be requested as a visit of its own."""
    with pytest.raises(services.BookingError, match="booked as a course"):
        services.place_hold(
            patient=patient,
            location=clinic.location,
            practitioner=clinic.practitioner,
            service=clinic.needling,
            starts_at=next_weekday(clinic.location, 2, 10),
            minutes=30,
            placed_by=patient.user,
        )
    assert not SlotHold.objects.filter(patient=patient).exists()


def test_a_course_is_still_booked(clinic, patient, book_course):
    course = book_course(patient, 4)
    sessions = Appointment.objects.filter(patient=patient).order_by("session_number")
    assert [(s.service, s.course, s.session_number) for s in sessions] == [
        (clinic.needling, course, n) for n in range(1, 5)
    ]


def test_other_services_are_booked_as_before(clinic, patient, front_desk):
    assessment = a_booking(
        clinic, next_weekday(clinic.location, 1, 10), patient=patient, actor=front_desk
    )
    assert assessment.service == clinic.assessment
    assert assessment.course is None
