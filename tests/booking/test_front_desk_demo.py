"""With the demo data, the front desk at Leaside and Danforth has a day and a week to work
with: a request to confirm, someone to check in today (when Leaside is open), badges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from booking.availability import aware
from booking.forms import slot_choice_value
from booking.models import Appointment, Status, WaitlistEntry
from clinic.models import Location, Patient, Practitioner, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(intake, seeded_demo):
    return User.objects.get(email="frontdesk@example.org")


def test_the_front_desk_sees_the_week_at_leaside_with_badges(client, demo):
    client.force_login(demo)
    leaside = Location.objects.get(slug="leaside")
    html = client.get(reverse("booking:location_week", args=["leaside"])).content.decode()
    next_week = client.get(
        reverse("booking:location_week", args=["leaside"]),
        {"from": (leaside.today() + dt.timedelta(days=7)).isoformat()},
    ).content.decode()
    both = html + next_week
    for name in ("Nadia Haddad", "Ellen Park", "Jordan Miles"):
        assert name in both
    assert "Late-cancel history (1)" in both  # Jordan cancelled late last week
    assert "First visit" in both


def test_the_front_desk_confirms_the_pending_online_request(client, demo):
    client.force_login(demo)
    nadia = Appointment.objects.get(patient__last_name="Haddad")
    assert "Nadia Haddad" in client.get(reverse("booking:requests_queue")).content.decode()
    client.post(reverse("booking:desk_confirm", args=[nadia.pk]), {"version": nadia.version})
    nadia.refresh_from_db()
    assert nadia.status == Status.CONFIRMED


def _leaside_morning(day: dt.date) -> dt.datetime:
    return aware(day, dt.time(9), ZoneInfo("America/Toronto"))


def test_the_front_desk_checks_in_todays_patient(client, intake, time_machine):
    # Leaside opens Monday to Saturday but not on Christmas Day: on a day it is closed the demo
    # is seeded the next morning it opens.
    today = timezone.localdate(timezone=ZoneInfo("America/Toronto"))
    day = today
    while day.weekday() == 6 or (day.month, day.day) == (12, 25):
        day += dt.timedelta(days=1)
    if day != today:
        time_machine.move_to(_leaside_morning(day))
    call_command("seed_demo")
    demo = User.objects.get(email="frontdesk@example.org")
    robert = Patient.objects.get(last_name="Côté")
    leaside = Location.objects.get(slug="leaside")
    today = Appointment.objects.get(patient=robert, starts_at__date=leaside.today())
    client.force_login(demo)
    refused = client.post(
        reverse("booking:desk_check_in", args=[today.pk]), {"version": today.version}, follow=True
    )
    assert "has not signed the current version" in refused.content.decode()
    intake.ready(robert)  # he signs at the counter
    client.post(reverse("booking:desk_check_in", args=[today.pk]), {"version": today.version})
    today.refresh_from_db()
    assert today.status == Status.CHECKED_IN


def test_on_a_sunday_the_demo_has_nobody_at_the_closed_counter(intake, time_machine):
    today = timezone.localdate(timezone=ZoneInfo("America/Toronto"))
    sunday = today + dt.timedelta(days=(6 - today.weekday()) % 7)
    time_machine.move_to(_leaside_morning(sunday))
    call_command("seed_demo")
    robert = Patient.objects.get(last_name="Côté")
    assert not Appointment.objects.filter(
        patient=robert, starts_at__date=sunday, location__slug="leaside"
    ).exists()


def test_on_christmas_day_the_demo_books_no_visit_anywhere_that_day(intake, time_machine):
    """Every location closes on Christmas Day (the demo's holiday): seeded that morning, or in
    the days before it, the demo books nobody then, not at the counter, not in the week's
    bookings, not for a course session."""
    today = timezone.localdate(timezone=ZoneInfo("America/Toronto"))
    christmas = dt.date(today.year, 12, 25)
    if christmas < today:
        christmas = dt.date(today.year + 1, 12, 25)
    for seeded_on in (christmas - dt.timedelta(days=3), christmas):
        time_machine.move_to(_leaside_morning(seeded_on))
        call_command("seed_demo")
        on_christmas = [
            appointment
            for appointment in Appointment.objects.select_related("location")
            if appointment.starts_at.astimezone(appointment.location.zone).date() == christmas
            and appointment.status != Status.CANCELLED
        ]
        assert on_christmas == []


def test_the_waitlist_and_the_phone_patients_are_there(client, demo):
    client.force_login(demo)
    board = client.get(reverse("booking:waitlist_board", args=["leaside"])).content.decode()
    assert "Jordan Miles" in board
    assert WaitlistEntry.objects.count() == 1
    found = client.post(reverse("booking:find_patient", args=["danforth"]), {"q": "fernandez"})
    assert "Lucía Fernández" in found.content.decode()


def test_the_maryland_front_desk_does_not_see_leaside(client, demo):
    client.force_login(User.objects.get(email="frontdesk.md@example.org"))
    assert client.get(reverse("booking:location_day", args=["leaside"])).status_code == 404
    assert client.get(reverse("booking:location_day", args=["rockville"])).status_code == 200


def test_a_session_of_the_mid_course_patient_moves_to_another_location(client, demo):
    """Marcus Reid's next dry-needling session, at Rockville, moves to Largo (Laura Kim)."""
    client.force_login(User.objects.get(email="frontdesk.md@example.org"))
    session = (
        Appointment.objects.filter(
            patient__last_name="Reid", status=Status.CONFIRMED, course__isnull=False
        )
        .select_related("location", "course")
        .order_by("starts_at")
        .first()
    )
    largo = Location.objects.get(slug="largo")
    kim = Practitioner.objects.get(user__email="l.kim@example.org")
    page = client.get(
        reverse("booking:desk_move", args=[session.pk]),
        {"location": "largo", "practitioner": kim.pk, "date": largo.today().isoformat()},
    ).content.decode()
    assert f"DN {session.session_number}/{session.course.sessions_planned}" in page
    day = largo.today() + dt.timedelta(days=1)
    while day.weekday() not in (0, 2, 4):  # Laura Kim works at Largo Mon, Wed, Fri 8–16
        day += dt.timedelta(days=1)
    target = aware(day, dt.time(14), largo.zone)
    client.post(
        reverse("booking:desk_move", args=[session.pk]),
        {
            "version": session.version,
            "location": "largo",
            "slot": slot_choice_value(kim.pk, target),
        },
    )
    session.refresh_from_db()
    assert (session.location, session.practitioner, session.starts_at) == (largo, kim, target)
    assert session.events.filter(kind="moved").exists()


def test_hannahs_course_at_leaside_is_flagged_for_the_desk_to_mend(client, demo):
    """Booked with Tom Bergeron before his certification's lapse was recorded, and amended to
    four sessions since: every session is flagged on the schedule, the last two also as beyond
    the plan, and the course's page says how the plan differs."""
    client.force_login(demo)
    sessions = list(
        Appointment.objects.filter(patient__last_name="Becker").order_by("session_number")
    )
    assert [s.session_number for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert {s.status for s in sessions} == {Status.CONFIRMED}
    assert all(s.starts_at > timezone.now() for s in sessions)
    for session in sessions:
        day = client.get(
            reverse("booking:location_day", args=["leaside"]),
            {"date": session.starts_at.astimezone(session.location.zone).date().isoformat()},
        ).content.decode()
        assert "Practitioner not certified that day" in day
        assert ("Beyond the amended plan of 4 sessions" in day) == (session.session_number > 4)
    course = sessions[0].course
    page = client.get(reverse("booking:course_detail", args=[course.pk])).content.decode()
    assert "The assessment was amended since the course was booked" in page
    assert "It now plans 4 sessions of 30 minutes, every 7 days." in page


def test_the_demo_seeded_again_after_a_course_session_has_passed_keeps_its_sessions_apart(
    intake, time_machine
):
    """`seed_demo` is safe to run again: seeded again the day before Hannah Becker's second
    session, her first (gone by then) moves to the first day Tom Bergeron works from
    tomorrow, where her second session already was: PostgreSQL refused the double booking and
    the command failed. The course's sessions still to come move on together."""
    call_command("seed_demo")
    second = Appointment.objects.get(patient__last_name="Becker", session_number=2)
    time_machine.move_to(_leaside_morning(second.local_starts_at.date() - dt.timedelta(days=1)))
    call_command("seed_demo")
    sessions = list(
        Appointment.objects.filter(patient__last_name="Becker")
        .exclude(status=Status.CANCELLED)
        .order_by("session_number")
    )
    assert [s.session_number for s in sessions] == [1, 2, 3, 4, 5, 6]
    assert all(s.starts_at > timezone.now() for s in sessions)
    starts = [s.starts_at for s in sessions]
    assert starts == sorted(starts) and len(set(starts)) == 6


def test_the_demo_seeded_again_on_the_day_of_the_pending_request_books_the_counter(
    intake, time_machine
):
    """Seeded again on the morning of Nadia Haddad's requested assessment (10:00, two working
    days after the first seeding), the request stayed there, not yet gone, and Robert Côté's
    visit at the counter at 11:00 fell inside its time and buffer: PostgreSQL refused it and the
    command failed. A demo appointment behind its new date moves on to it."""
    call_command("seed_demo")
    nadia = Appointment.objects.get(patient__last_name="Haddad")
    day = nadia.local_starts_at.date()
    time_machine.move_to(_leaside_morning(day))
    call_command("seed_demo")
    robert = Appointment.objects.get(patient__last_name="Côté", status=Status.CONFIRMED)
    assert robert.local_starts_at.date() == day
    nadia.refresh_from_db()
    assert nadia.local_starts_at.date() > day
