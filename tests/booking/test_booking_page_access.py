"""Who may open each booking page: every URL in the `booking` namespace is listed here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from clinic.models import Role
from tests.booking.conftest import next_weekday
from tests.booking.factories import AppointmentFactory, a_clinic, prescribing_assessment
from tests.worlds import built_once, fresh, personas

pytestmark = pytest.mark.django_db

PATIENT = {Role.PATIENT}
STAFF = {Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER}
EVERYONE = PATIENT | STAFF
PRACTITIONER = {Role.PRACTITIONER}
RESULTS = {Role.PRACTITIONER, Role.MANAGER}
# No login: the page is opened by a secret in its address (a signed link, a feed's token).
PUBLIC = "public"

# name -> (roles allowed, GET allowed?)
PAGES = {
    "booking:request_start": (PATIENT, True),
    "booking:request_slots": (PATIENT, True),
    "booking:request_hold": (PATIENT, False),
    "booking:request_confirm": (PATIENT, True),
    "booking:my_appointments": (PATIENT, True),
    "booking:appointment_detail": (EVERYONE, True),
    "booking:appointment_cancel": (PATIENT, True),
    "booking:appointment_reschedule": (PATIENT, True),
    "booking:waitlist_join": (PATIENT, True),
    "booking:waitlist_leave": (PATIENT, False),
    "booking:offer_accept": (PATIENT, False),
    "booking:offer_decline": (PATIENT, False),
    "booking:course_book": (STAFF, True),
    "booking:course_detail": (STAFF, True),
    "booking:course_session_rebook": (STAFF, True),
    "booking:link_manage": (PUBLIC, True),
    "booking:link_cancel": (PUBLIC, True),
    "booking:link_reschedule": (PUBLIC, True),
    "booking:link_ics": (PUBLIC, True),
    "booking:link_checkin": (PUBLIC, True),
    "booking:appointment_ics": (EVERYONE, True),
    "booking:course_ics": (EVERYONE, True),
    "booking:practitioner_feed": (PUBLIC, True),
    "booking:calendar_feed": (PRACTITIONER, True),
    "booking:calendar_feed_new": (PRACTITIONER, False),
    "booking:calendar_feed_revoke": (PRACTITIONER, False),
    "booking:reminder_settings": (PATIENT, True),
    "booking:email_problems": (STAFF, True),
    "booking:notification_send_again": (STAFF, False),
    "booking:proposal_accept": (PATIENT, False),
    # The front desk's schedule and actions.
    "booking:schedule": (STAFF, True),
    "booking:location_day": (STAFF, True),
    "booking:location_day_list": (STAFF, True),
    "booking:location_week": (STAFF, True),
    "booking:practitioner_day": (STAFF, True),
    "booking:practitioner_week": (STAFF, True),
    "booking:my_schedule": ({Role.PRACTITIONER}, True),
    "booking:requests_queue": (STAFF, True),
    "booking:desk_confirm": (STAFF, False),
    "booking:desk_decline": (STAFF, True),
    "booking:desk_propose": (STAFF, True),
    "booking:desk_check_in": (STAFF, False),
    "booking:desk_complete": (STAFF, False),
    "booking:desk_no_show": (STAFF, False),
    "booking:desk_cancel": (STAFF, True),
    "booking:desk_move": (STAFF, True),
    "booking:find_patient": (STAFF, True),
    "booking:new_patient": (STAFF, True),
    "booking:book_for_patient": (STAFF, True),
    "booking:waitlist_board": (STAFF, True),
    "booking:waitlist_add": (STAFF, True),
    "booking:waitlist_offer": (STAFF, True),
    "booking:waitlist_remove": (STAFF, False),
    "booking:my_record": (PATIENT, True),
    "booking:patient_record": ({Role.MANAGER}, True),
    "booking:close_account": (PATIENT, True),
    "booking:reports": (RESULTS, True),
    "booking:reports_csv": (RESULTS, True),
    "booking:outcomes_csv": (RESULTS, True),
}
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
    "booking:desk_complete",
    "booking:desk_no_show",
    "booking:desk_cancel",
    "booking:desk_move",
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
    "booking:course_session_rebook",
}
# Pages that send the roles allowed in on to another page, and where: every other page a role
# may open answers 200 itself.
REDIRECTS = {
    # The schedule opens on the day of the first location the person works at.
    "booking:schedule": lambda world: reverse("booking:location_day", args=["leaside"]),
    "booking:my_schedule": lambda world: reverse(
        "booking:practitioner_day", args=[world.practitioner.pk]
    ),
}
POST_ONLY = {name for name, (_, get_allowed) in PAGES.items() if not get_allowed}
PERSONAS = {
    Role.PATIENT: "patient",
    Role.FRONT_DESK: "front_desk",
    Role.PRACTITIONER: "practitioner",
    Role.MANAGER: "manager",
}


def _booking_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace == "booking":
                names.add(f"booking:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_booking_page_is_in_the_access_table():
    assert _booking_url_names() == set(PAGES)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The personas, a clinic and one record behind each page, written once for the module."""
    with built_once(django_db_blocker):
        world = personas()
        clinic = a_clinic(location=world.location, practitioner=world.practitioner)
        world.urls = _urls(clinic, world.patient, world.practitioner)
        yield world


# In this module the personas are the world's, read afresh for each test.
@pytest.fixture
def location(world):
    return fresh(world.location)


@pytest.fixture
def patient(world):
    return fresh(world.patient)


@pytest.fixture
def other_patient(world):
    return fresh(world.other_patient)


@pytest.fixture
def front_desk(world):
    return fresh(world.front_desk)


@pytest.fixture
def front_desk_elsewhere(world):
    return fresh(world.front_desk_elsewhere)


@pytest.fixture
def practitioner(world):
    return fresh(world.practitioner)


@pytest.fixture
def manager(world):
    return fresh(world.manager)


@pytest.fixture
def urls(world):
    return world.urls


def _urls(clinic, patient, practitioner) -> dict[str, str]:
    from booking import services
    from booking.models import Course, Notification, SlotHold, WaitlistEntry, WaitlistOffer
    from booking.notifications import calendars, links

    start = next_weekday(clinic.location, 1, 10)
    appointment = AppointmentFactory(
        location=clinic.location,
        practitioner=clinic.practitioner,
        room=clinic.rooms[0],
        patient=patient,
        service=clinic.assessment,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        blocks_until=start + dt.timedelta(minutes=65),
    )
    hold = services.place_hold(
        patient=patient,
        location=clinic.location,
        practitioner=clinic.practitioner,
        service=clinic.assessment,
        starts_at=next_weekday(clinic.location, 2, 10),
        minutes=60,
    )
    entry = WaitlistEntry.objects.create(
        patient=patient,
        location=clinic.location,
        service=clinic.assessment,
        minutes=60,
        weekdays=[1],
        earliest_time="09:00",
        latest_time="12:00",
        created_by=patient.user,
    )
    offer = WaitlistOffer.objects.create(
        entry=entry,
        hold=SlotHold.objects.create(
            location=clinic.location,
            practitioner=clinic.practitioner,
            room=clinic.rooms[1],
            service=clinic.assessment,
            patient=patient,
            starts_at=next_weekday(clinic.location, 3, 10),
            ends_at=next_weekday(clinic.location, 3, 11),
            blocks_until=next_weekday(clinic.location, 3, 11),
            expires_at=next_weekday(clinic.location, 3, 9),
        ),
        expires_at=next_weekday(clinic.location, 3, 9),
    )
    course = Course.objects.create(
        patient=patient,
        practitioner=clinic.practitioner,
        assessment_id=prescribing_assessment(patient, clinic.practitioner).pk,
        sessions_planned=6,
        minutes=30,
        created_by=clinic.practitioner.user,
    )
    session_start = next_weekday(clinic.location, 4, 10)
    session = AppointmentFactory(
        location=clinic.location,
        practitioner=clinic.practitioner,
        room=clinic.rooms[0],
        patient=patient,
        service=clinic.needling,
        starts_at=session_start,
        ends_at=session_start + dt.timedelta(minutes=30),
        blocks_until=session_start + dt.timedelta(minutes=35),
        course=course,
        session_number=1,
    )
    checkin_link = [
        session.pk,
        links.make_token(session, purpose=links.checkin_purpose("before_session")),
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
        "booking:course_session_rebook": reverse(
            "booking:course_session_rebook", args=[course.pk, 2]
        ),
        "booking:link_manage": reverse("booking:link_manage", args=link),
        "booking:link_cancel": reverse("booking:link_cancel", args=link),
        "booking:link_reschedule": reverse("booking:link_reschedule", args=link),
        "booking:link_ics": reverse("booking:link_ics", args=link),
        "booking:link_checkin": reverse("booking:link_checkin", args=checkin_link),
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
                "complete",
                "no_show",
                "cancel",
                "move",
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


@pytest.mark.parametrize("name", sorted(PAGES))
def test_anonymous_visitors_are_sent_to_log_in(client, urls, name):
    response = client.get(urls[name])
    if PAGES[name][0] == PUBLIC:
        assert response.status_code == 200
    else:
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", list(PERSONAS))
@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_role_is_allowed_or_refused(client, request, world, urls, role, name, prescribe):
    person = request.getfixturevalue(PERSONAS[role])
    client.force_login(getattr(person, "user", person))
    allowed, get_allowed = PAGES[name]
    response = client.get(urls[name])
    if allowed == PUBLIC:
        assert response.status_code == 200
    elif role not in allowed:
        assert response.status_code == 403
    elif get_allowed and name in REDIRECTS:
        assert response.status_code == 302
        assert response.url == REDIRECTS[name](world)
    elif get_allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 405  # actions are POST only


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
    client.force_login(other_patient.user)
    method = client.post if name in POST_ONLY else client.get
    assert method(urls[name]).status_code == 404


@pytest.mark.parametrize("name", sorted(LOCATION_BOUND))
def test_front_desk_of_another_location_gets_404(client, urls, front_desk_elsewhere, name):
    client.force_login(front_desk_elsewhere)
    method = client.post if name in POST_ONLY else client.get
    assert method(urls[name]).status_code == 404


@pytest.mark.parametrize(
    "name", sorted(name for name, (roles, _) in PAGES.items() if roles != PUBLIC)
)
def test_a_wrong_method_is_refused(client, request, urls, name, prescribe):
    """PUT is no method of any booking page: 405 for the roles allowed in."""
    allowed, _ = PAGES[name]
    person = request.getfixturevalue(PERSONAS[sorted(allowed)[0]])
    client.force_login(getattr(person, "user", person))
    assert client.put(urls[name]).status_code == 405
