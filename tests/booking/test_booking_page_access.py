"""Who may open each booking page: every URL in the `booking` namespace is listed here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import Role
from tests import access_matrix as matrix
from tests.access_matrix import (
    ANONYMOUS,
    CLINICAL,
    EVERYONE,
    MANAGER,
    PATIENT,
    POST,
    PRACTITIONER,
    PUBLIC,
    ROLES,
    STAFF,
    Page,
)
from tests.booking.conftest import next_weekday
from tests.booking.factories import (
    a_clinic,
    a_course_record,
    a_placed_hold,
    a_slot_hold,
    a_waitlist_entry,
    a_waitlist_offer,
    an_appointment,
)
from tests.worlds import built_once

pytestmark = pytest.mark.django_db

# The personas of this module are a world written once for it, and so are the records behind
# its pages.
globals().update(matrix.world_fixtures())


# Every page is opened with GET: the actions, POST only, answer 405 to the roles allowed in.
MATRIX = matrix.Matrix(
    pages={
        "booking:request_start": Page(PATIENT),
        "booking:request_slots": Page(PATIENT),
        "booking:request_hold": Page(PATIENT, POST),
        "booking:request_confirm": Page(PATIENT),
        "booking:my_appointments": Page(PATIENT),
        "booking:appointment_detail": Page(EVERYONE),
        "booking:appointment_cancel": Page(PATIENT),
        "booking:appointment_reschedule": Page(PATIENT),
        "booking:waitlist_join": Page(PATIENT),
        "booking:waitlist_leave": Page(PATIENT, POST),
        "booking:offer_accept": Page(PATIENT, POST),
        "booking:offer_decline": Page(PATIENT, POST),
        "booking:course_book": Page(STAFF),
        "booking:course_detail": Page(STAFF),
        "booking:course_extend": Page(STAFF, POST),
        "booking:course_session_rebook": Page(STAFF),
        "booking:link_manage": Page(PUBLIC),
        "booking:link_cancel": Page(PUBLIC),
        "booking:link_reschedule": Page(PUBLIC),
        "booking:link_ics": Page(PUBLIC),
        "booking:link_outcome_survey": Page(PUBLIC),
        "booking:appointment_ics": Page(EVERYONE),
        "booking:course_ics": Page(EVERYONE),
        "booking:practitioner_feed": Page(PUBLIC),
        "booking:calendar_feed": Page(PRACTITIONER),
        "booking:calendar_feed_new": Page(PRACTITIONER, POST),
        "booking:calendar_feed_revoke": Page(PRACTITIONER, POST),
        "booking:reminder_settings": Page(PATIENT),
        "booking:email_problems": Page(STAFF),
        "booking:notification_send_again": Page(STAFF, POST),
        "booking:proposal_accept": Page(PATIENT, POST),
        # The front desk's schedule and actions.
        "booking:schedule": Page(STAFF),
        "booking:location_day": Page(STAFF),
        "booking:location_day_list": Page(STAFF),
        "booking:location_week": Page(STAFF),
        "booking:practitioner_day": Page(STAFF),
        "booking:practitioner_week": Page(STAFF),
        "booking:my_schedule": Page(PRACTITIONER),
        "booking:requests_queue": Page(STAFF),
        "booking:desk_confirm": Page(STAFF, POST),
        "booking:desk_decline": Page(STAFF),
        "booking:desk_propose": Page(STAFF),
        "booking:desk_check_in": Page(STAFF, POST),
        "booking:desk_undo_check_in": Page(STAFF),
        "booking:desk_complete": Page(STAFF, POST),
        "booking:desk_no_show": Page(STAFF, POST),
        "booking:desk_undo_no_show": Page(STAFF),
        "booking:desk_cancel": Page(STAFF),
        "booking:desk_move": Page(STAFF),
        "booking:desk_move_drop": Page(STAFF),
        "booking:find_patient": Page(STAFF),
        "booking:new_patient": Page(STAFF),
        "booking:book_for_patient": Page(STAFF),
        "booking:waitlist_board": Page(STAFF),
        "booking:waitlist_add": Page(STAFF),
        "booking:waitlist_offer": Page(STAFF),
        "booking:waitlist_remove": Page(STAFF, POST),
        "booking:my_record": Page(PATIENT),
        "booking:patient_record": Page(MANAGER),
        "booking:close_account": Page(PATIENT),
        "booking:reports": Page(CLINICAL),
        "booking:reports_csv": Page(CLINICAL),
        "booking:outcomes_csv": Page(CLINICAL),
    },
    # Pages that send the roles allowed in on to another page, and where: every other page a
    # role may open answers 200 itself.
    redirects={
        # The schedule opens on the day of the first location the person works at.
        **{("booking:schedule", role): "booking:location_day" for role in STAFF},
        # A practitioner's own schedule is their day.
        ("booking:my_schedule", Role.PRACTITIONER): "booking:practitioner_day",
    },
    visit="GET",
)
PAGES = MATRIX.pages
# Pages about one location's schedule, patients or waitlist: staff of another location get a
# 404, as if it did not exist.
LOCATION_BOUND = {
    "booking:location_day",
    "booking:location_day_list",
    "booking:location_week",
    "booking:practitioner_day",
    "booking:practitioner_week",
    "booking:desk_confirm",
    "booking:desk_decline",
    "booking:desk_propose",
    "booking:desk_check_in",
    "booking:desk_undo_check_in",
    "booking:desk_complete",
    "booking:desk_no_show",
    "booking:desk_undo_no_show",
    "booking:desk_cancel",
    "booking:desk_move",
    "booking:desk_move_drop",
    "booking:find_patient",
    "booking:new_patient",
    "booking:book_for_patient",
    "booking:waitlist_board",
    "booking:waitlist_add",
    "booking:waitlist_offer",
    "booking:waitlist_remove",
    "booking:appointment_detail",
    "booking:course_book",
    "booking:course_detail",
    "booking:course_extend",
    "booking:course_session_rebook",
}


def test_every_booking_page_is_in_the_access_table():
    assert MATRIX.url_names() == set(PAGES)


@pytest.fixture(scope="module")
def urls(world, django_db_blocker):
    """A clinic and one record behind each page, written once for the module: each page's
    address."""
    with built_once(django_db_blocker):
        clinic = a_clinic(location=world.location, practitioner=world.practitioner)
        yield _urls(clinic, world.patient, world.practitioner)


def _urls(clinic, patient, practitioner) -> dict[str, str]:
    from booking.models import Notification
    from booking.notifications import calendars, links

    start = next_weekday(clinic.location, 1, 10)
    appointment = an_appointment(clinic, patient, start)
    hold = a_placed_hold(clinic, patient, next_weekday(clinic.location, 2, 10))
    entry = a_waitlist_entry(clinic, patient, weekdays=[1], earliest=dt.time(9), latest=dt.time(12))
    held_for_the_entry = a_slot_hold(
        clinic,
        patient,
        next_weekday(clinic.location, 3, 10),
        room=clinic.rooms[1],
        expires_at=next_weekday(clinic.location, 3, 9),
    )
    offer = a_waitlist_offer(entry, held_for_the_entry)
    course = a_course_record(patient, clinic.practitioner)
    session_start = next_weekday(clinic.location, 4, 10)
    session = an_appointment(
        clinic, patient, session_start, service=clinic.needling, course=course, session_number=1
    )
    survey_link = [
        session.pk,
        links.make_token(session, purpose=links.survey_purpose("before_session")),
        "before_session",
    ]
    notification = Notification.objects.create(
        kind=Notification.Kind.CONFIRMED,
        appointment=appointment,
        patient=patient,
        location=clinic.location,
        state=Notification.State.FAILED,
    )
    link = [appointment.pk, links.make_token(appointment)]
    feed_token = calendars.new_feed(clinic.practitioner)
    slug = clinic.location.slug
    return {
        "booking:request_start": reverse("booking:request_start"),
        "booking:request_slots": reverse("booking:request_slots", args=[slug]),
        "booking:request_hold": reverse("booking:request_hold", args=[slug]),
        "booking:request_confirm": reverse("booking:request_confirm", args=[hold.pk]),
        "booking:my_appointments": reverse("booking:my_appointments"),
        "booking:appointment_detail": reverse("booking:appointment_detail", args=[appointment.pk]),
        "booking:appointment_cancel": reverse("booking:appointment_cancel", args=[appointment.pk]),
        "booking:appointment_reschedule": reverse(
            "booking:appointment_reschedule", args=[appointment.pk]
        ),
        "booking:waitlist_join": reverse("booking:waitlist_join", args=[slug]),
        "booking:waitlist_leave": reverse("booking:waitlist_leave", args=[entry.pk]),
        "booking:offer_accept": reverse("booking:offer_accept", args=[offer.pk]),
        "booking:offer_decline": reverse("booking:offer_decline", args=[offer.pk]),
        "booking:course_book": reverse("booking:course_book", args=[patient.pk]),
        "booking:course_detail": reverse("booking:course_detail", args=[course.pk]),
        "booking:course_extend": reverse("booking:course_extend", args=[course.pk]),
        "booking:course_session_rebook": reverse(
            "booking:course_session_rebook", args=[course.pk, 2]
        ),
        "booking:link_manage": reverse("booking:link_manage", args=link),
        "booking:link_cancel": reverse("booking:link_cancel", args=link),
        "booking:link_reschedule": reverse("booking:link_reschedule", args=link),
        "booking:link_ics": reverse("booking:link_ics", args=link),
        "booking:link_outcome_survey": reverse("booking:link_outcome_survey", args=survey_link),
        "booking:appointment_ics": reverse("booking:appointment_ics", args=[appointment.pk]),
        "booking:course_ics": reverse("booking:course_ics", args=[course.pk]),
        "booking:practitioner_feed": reverse("booking:practitioner_feed", args=[feed_token]),
        "booking:calendar_feed": reverse("booking:calendar_feed"),
        "booking:calendar_feed_new": reverse("booking:calendar_feed_new"),
        "booking:calendar_feed_revoke": reverse("booking:calendar_feed_revoke"),
        "booking:reminder_settings": reverse("booking:reminder_settings"),
        "booking:my_record": reverse("booking:my_record"),
        "booking:patient_record": reverse("booking:patient_record", args=[patient.pk]),
        "booking:close_account": reverse("booking:close_account"),
        "booking:email_problems": reverse("booking:email_problems"),
        "booking:notification_send_again": reverse(
            "booking:notification_send_again", args=[notification.pk]
        ),
        "booking:proposal_accept": reverse("booking:proposal_accept", args=[appointment.pk]),
        "booking:schedule": reverse("booking:schedule"),
        "booking:location_day": reverse("booking:location_day", args=[slug]),
        "booking:location_day_list": reverse("booking:location_day_list", args=[slug]),
        "booking:location_week": reverse("booking:location_week", args=[slug]),
        "booking:practitioner_day": reverse("booking:practitioner_day", args=[practitioner.pk]),
        "booking:practitioner_week": reverse("booking:practitioner_week", args=[practitioner.pk]),
        "booking:my_schedule": reverse("booking:my_schedule"),
        "booking:requests_queue": reverse("booking:requests_queue"),
        **{
            f"booking:desk_{action}": reverse(f"booking:desk_{action}", args=[appointment.pk])
            for action in (
                "confirm",
                "decline",
                "propose",
                "check_in",
                "undo_check_in",
                "complete",
                "no_show",
                "undo_no_show",
                "cancel",
                "move",
                "move_drop",
            )
        },
        "booking:find_patient": reverse("booking:find_patient", args=[slug]),
        "booking:new_patient": reverse("booking:new_patient", args=[slug]),
        "booking:book_for_patient": reverse("booking:book_for_patient", args=[slug, patient.pk]),
        "booking:waitlist_board": reverse("booking:waitlist_board", args=[slug]),
        "booking:waitlist_add": reverse("booking:waitlist_add", args=[slug, patient.pk]),
        "booking:waitlist_offer": reverse("booking:waitlist_offer", args=[entry.pk]),
        "booking:waitlist_remove": reverse("booking:waitlist_remove", args=[entry.pk]),
        "booking:reports": reverse("booking:reports"),
        "booking:reports_csv": reverse("booking:reports_csv"),
        "booking:outcomes_csv": reverse("booking:outcomes_csv"),
    }


@pytest.mark.parametrize(("name", "visitor", "answer"), MATRIX.cases(ANONYMOUS, *ROLES))
def test_each_role_is_allowed_or_refused(
    client, request, address, name, visitor, answer, prescribe
):
    matrix.check(MATRIX, client, request, address, name, visitor, answer)


@pytest.mark.parametrize(
    "name",
    [
        "booking:appointment_detail",
        "booking:appointment_cancel",
        "booking:request_confirm",
        "booking:offer_accept",
        "booking:appointment_ics",
        "booking:course_ics",
        "booking:proposal_accept",
    ],
)
def test_another_patient_gets_404(client, urls, other_patient, name):
    response = matrix.open_as(client, other_patient.user, PAGES[name], urls[name])
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(LOCATION_BOUND))
def test_front_desk_of_another_location_gets_404(client, urls, front_desk_elsewhere, name):
    response = matrix.open_as(client, front_desk_elsewhere, PAGES[name], urls[name])
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name", sorted(name for name, page in PAGES.items() if page.allowed != PUBLIC)
)
def test_a_wrong_method_is_refused(client, request, address, name, prescribe):
    """PUT is no method of any booking page: 405 for the roles allowed in."""
    matrix.check_wrong_method(MATRIX, client, request, address, name, "PUT")
