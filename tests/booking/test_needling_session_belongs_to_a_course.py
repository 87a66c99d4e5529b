"""A dry-needling session is booked only as a session of a course, from an assessment that says
needling is appropriate: the booking services refuse a one-off needling session with the
clinic's reason, and PostgreSQL refuses it however it is written (booking migration 0023,
`needling_session_belongs_to_a_course`). Visits written before the rule stay as they were."""

from __future__ import annotations

import pytest

from booking import services
from booking.models import Appointment, SlotHold, Status
from booking.services.slots import check_slot, write_appointment
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_booking, a_course, an_appointment
from tests.database import refused_by, rule_set_aside, write_sql

pytestmark = pytest.mark.django_db

RULE = "needling_session_belongs_to_a_course"


def a_needling_visit_from_before(clinic, patient, starts_at, **fields) -> Appointment:
    """A dry-needling visit of no course, as one could be written before the rule."""
    with rule_set_aside("booking_appointment", RULE):
        return an_appointment(clinic, patient, starts_at, service=clinic.needling, **fields)


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


# --- PostgreSQL ----------------------------------------------------------------------------


def test_a_needling_session_of_no_course_is_refused(clinic, patient):
    with refused_by(RULE):
        an_appointment(
            clinic, patient, next_weekday(clinic.location, 2, 10), service=clinic.needling
        )
    assert not Appointment.objects.filter(patient=patient).exists()


def test_a_cancelled_one_is_refused_too(clinic, patient):
    """A needling visit of no course is no course's session, whatever its status."""
    with refused_by(RULE):
        an_appointment(
            clinic,
            patient,
            next_weekday(clinic.location, 2, 10),
            service=clinic.needling,
            status=Status.CANCELLED,
            cancelled_by="clinic",
        )


def test_an_assessment_made_a_needling_session_is_refused(clinic, patient):
    visit = an_appointment(clinic, patient, next_weekday(clinic.location, 2, 10), minutes=30)
    with refused_by(RULE):
        write_sql(
            "UPDATE booking_appointment SET service_id = %s WHERE id = %s",
            clinic.needling.pk,
            visit.pk,
        )


def test_a_session_taken_out_of_its_course_is_refused(clinic, patient):
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 1, 10),
    )
    session = course.appointments.get()
    with refused_by(RULE):
        write_sql(
            "UPDATE booking_appointment SET course_id = NULL, session_number = NULL WHERE id = %s",
            session.pk,
        )
    session.refresh_from_db()
    assert session.course == course


def test_a_session_of_a_course_is_accepted(clinic, patient):
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED, Status.CANCELLED],
        first_start=next_weekday(clinic.location, 1, 10),
    )
    assert course.appointments.filter(service=clinic.needling).count() == 2


def test_a_refusal_found_only_by_postgresql_reads_as_the_rule(clinic, patient):
    """A writer that skipped the services' check is told the rule in words, not a 500."""
    with pytest.raises(services.SlotUnavailable) as refused:
        services.write(
            lambda: an_appointment(
                clinic, patient, next_weekday(clinic.location, 2, 10), service=clinic.needling
            )
        )
    assert refused.value.problems == [services.NEEDLING_IS_BOOKED_AS_A_COURSE]


# --- Visits from before the rule -----------------------------------------------------------


def test_a_needling_visit_from_before_the_rule_is_kept_and_can_be_cancelled(
    clinic, patient, front_desk
):
    visit = a_needling_visit_from_before(clinic, patient, next_weekday(clinic.location, 2, 10))
    cancelled = services.cancel_appointment(
        visit, by="clinic", actor=front_desk, reason="Needling is booked as a course"
    )
    assert cancelled.status == Status.CANCELLED
    visit.refresh_from_db()
    assert (visit.service, visit.course, visit.status) == (clinic.needling, None, Status.CANCELLED)


def test_a_visit_from_before_the_rule_is_saved_and_marked_as_before(clinic, patient):
    """Saved whole, marked, or written with its own service and course again, it passes: only
    a new service or course wakes the rule."""
    visit = a_needling_visit_from_before(clinic, patient, next_weekday(clinic.location, 2, 10))
    visit.patient_note = "Saved whole"
    visit.save()
    write_sql("UPDATE booking_appointment SET status = 'checked_in' WHERE id = %s", visit.pk)
    write_sql(
        "UPDATE booking_appointment SET service_id = service_id, course_id = NULL WHERE id = %s",
        visit.pk,
    )
    visit.refresh_from_db()
    assert (visit.status, visit.patient_note) == (Status.CHECKED_IN, "Saved whole")


def test_a_needling_visit_from_before_the_rule_can_still_be_moved(clinic, patient, front_desk):
    visit = a_needling_visit_from_before(clinic, patient, next_weekday(clinic.location, 2, 10))
    later = next_weekday(clinic.location, 2, 14)
    moved = services.reschedule_appointment(visit, starts_at=later, actor=front_desk)
    assert (moved.starts_at, moved.service, moved.course) == (later, clinic.needling, None)
