"""Only a practitioner with a dry-needling certification current on the session's date (on the
location's clock) is booked for a dry-needling session: PostgreSQL refuses the rest, however it
is written (booking migration 0019, `needling_session_with_a_certified_practitioner`), and the
booking services, which check it first, say so if it changed in between."""

from __future__ import annotations

import datetime as dt

import pytest

from booking import services
from booking.availability import aware
from booking.models import Appointment, Status
from booking.services.slots import check_slot, write_appointment
from tests.booking.conftest import next_weekday
from tests.booking.factories import a_colleague, a_course, a_course_record, an_appointment
from tests.database import refused_by, write_sql

pytestmark = pytest.mark.django_db

RULE = "needling_session_with_a_certified_practitioner"


@pytest.fixture
def session(clinic, patient) -> Appointment:
    """Session 1 of the patient's course with the clinic's (certified) practitioner, next
    Tuesday at 10:00."""
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED],
        first_start=next_weekday(clinic.location, 1, 10),
    )
    return course.appointments.get()


def test_a_needling_session_with_an_uncertified_practitioner_is_refused(clinic, patient):
    untrained = a_colleague(clinic, certified=False)
    with refused_by(RULE):
        a_course(
            clinic,
            patient,
            statuses=[Status.CONFIRMED],
            first_start=next_weekday(clinic.location, 2, 10),
            practitioner=untrained,
        )


def test_moving_a_session_to_an_uncertified_colleague_is_refused(clinic, session):
    untrained = a_colleague(clinic, certified=False)
    with refused_by(RULE):
        write_sql(
            "UPDATE booking_appointment SET practitioner_id = %s WHERE id = %s",
            untrained.pk,
            session.pk,
        )


def _move_in_sql(session: Appointment, starts_at: dt.datetime) -> None:
    """The 30-minute session (and its 5 minutes' buffer) moved to `starts_at` past the
    services, as any writer could: only PostgreSQL's rule is left to refuse it."""
    write_sql(
        "UPDATE booking_appointment SET starts_at = %s, ends_at = %s, blocks_until = %s "
        "WHERE id = %s",
        starts_at,
        starts_at + dt.timedelta(minutes=30),
        starts_at + dt.timedelta(minutes=35),
        session.pk,
    )


def test_a_session_after_the_certification_ends_is_refused(clinic, session):
    """Certified until Tuesday: 20:00 that Tuesday in Toronto (Wednesday in UTC) is still
    within it; Wednesday morning is not."""
    tuesday = session.local_starts_at.date()
    clinic.practitioner.certifications.update(valid_until=tuesday)
    evening = aware(tuesday, dt.time(20), clinic.location.zone)
    assert evening.astimezone(dt.UTC).date() > tuesday
    _move_in_sql(session, evening)
    morning = aware(tuesday + dt.timedelta(days=1), dt.time(9), clinic.location.zone)
    with refused_by(RULE):
        _move_in_sql(session, morning)


def test_other_services_need_no_certification(clinic, patient):
    untrained = a_colleague(clinic, certified=False)
    assessment = an_appointment(
        clinic, patient, next_weekday(clinic.location, 2, 10), practitioner=untrained
    )
    assert assessment.practitioner == untrained


def test_a_session_booked_under_a_certification_that_ended_since_still_changes_status(
    clinic, session
):
    """Only booking is checked: the visit booked while the practitioner was certified is still
    checked in, marked a no-show or cancelled when the certification has ended since (moving it
    is then the desk's job, and the rule's)."""
    clinic.practitioner.certifications.all().delete()
    write_sql("UPDATE booking_appointment SET status = 'checked_in' WHERE id = %s", session.pk)
    session.refresh_from_db()
    assert session.status == Status.CHECKED_IN


def test_a_cancelled_session_is_not_held_to_it(clinic, patient):
    """A cancelled row occupies no one's time: written (a history imported, say) with a
    practitioner who holds no certification, it goes through."""
    untrained = a_colleague(clinic, certified=False)
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CANCELLED],
        first_start=next_weekday(clinic.location, 2, 10),
        practitioner=untrained,
    )
    cancelled = course.appointments.get()
    assert cancelled.status == Status.CANCELLED


def test_a_certification_ended_between_the_check_and_the_write_is_refused_with_a_reason(
    clinic, patient
):
    """The services check the slot, then write it: a manager ending the certification in
    between is seen by the database, and the person booking is told why nothing was booked."""
    starts_at = next_weekday(clinic.location, 2, 10)
    checked = check_slot(
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.needling,
        starts_at=starts_at,
        minutes=30,
        patient=patient,
        for_patient=False,
    )
    course = a_course_record(patient, clinic.practitioner)
    clinic.practitioner.certifications.update(valid_until=starts_at.date() - dt.timedelta(days=1))
    with pytest.raises(services.SlotUnavailable, match="no dry-needling certification current"):
        write_appointment(
            checked,
            patient=patient,
            service=clinic.needling,
            status=Status.CONFIRMED,
            actor=clinic.practitioner.user,
            course=course,
            session_number=1,
        )
    assert not Appointment.objects.filter(patient=patient).exists()
