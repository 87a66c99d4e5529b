"""Treatment-session notes: one per dry-needling session of a prescribed course, started from
its booked appointment (its number and time taken from it, not before it starts), checked,
signed and locked like the assessment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Status
from intake.clinical import services as clinical
from intake.clinical.models import SessionNote
from tests.booking.factories import a_clinic, a_course
from tests.booking.races import first_holds_its_lock
from tests.conftest import messages_said
from tests.factories import PASSWORD, PractitionerFactory
from tests.intake.factories import (
    AssessmentFactory,
    an_amendment,
    session_data,
    session_note,
    sign_note_now,
    signed_assessment,
)

pytestmark = pytest.mark.django_db


def _start_url(patient, query=""):
    return reverse("intake:session_note_start", args=[patient.pk]) + query


def _start(client, patient, query=""):
    return client.post(_start_url(patient, query))


def _edit(note):
    return reverse("intake:session_note_edit", args=[note.pk])


def test_no_session_note_without_a_signed_prescription(login, practitioner, patient, assessment):
    client = login(practitioner.user)
    page = client.get(_start_url(patient)).content.decode()
    assert "The assessment note is not signed yet." in page
    response = _start(client, patient)
    assert response.url == reverse("intake:patient_chart", args=[patient.pk])
    assert not SessionNote.objects.exists()


@pytest.fixture
def course_of(location, practitioner, patient, prescribed):
    """`course_of(*statuses, first_start=...)`: the course the signed assessment prescribed,
    booked for the patient with the practitioner, one session a status."""

    def make(*statuses, first_start):
        clinic = a_clinic(location=location, practitioner=practitioner)
        return a_course(
            clinic, patient, statuses=list(statuses), first_start=first_start, assessment=prescribed
        )

    return make


def test_starting_from_an_appointment_takes_its_session_number_and_time(
    login, course_of, location, practitioner, patient, prescribed
):
    # The third session of the course the signed assessment prescribed, begun 2 hours ago.
    course = course_of(
        Status.COMPLETED,
        Status.COMPLETED,
        Status.CHECKED_IN,
        first_start=timezone.now() - dt.timedelta(days=14, hours=2),
    )
    visit = course.appointments.get(session_number=3)
    client = login(practitioner.user)
    url = _start_url(patient, f"?appointment={visit.pk}&session=3")
    assert "This is session 3 of the course" in client.get(url).content.decode()
    # A session number typed in the address does not count: the appointment's does.
    response = client.post(url, {"appointment": str(visit.pk), "session": "5"})
    note = SessionNote.objects.get()
    assert response.url == _edit(note)
    assert (note.appointment_id, note.session_number, note.assessment) == (visit.pk, 3, prescribed)
    assert note.performed_at == visit.starts_at
    assert note.location == visit.location
    # Starting again from the same appointment resumes the same draft.
    client.post(url, {"appointment": str(visit.pk), "session": "3"})
    assert SessionNote.objects.count() == 1


def test_a_session_note_is_refused_before_the_session_starts(
    login, course_of, location, practitioner, patient
):
    course = course_of(
        Status.CONFIRMED, Status.CONFIRMED, first_start=timezone.now() + dt.timedelta(days=3)
    )
    visit = course.appointments.get(session_number=2)
    local = timezone.localtime(visit.starts_at, location.zone)
    expected = (
        f"Session 2 starts {local:%a} {local.day} {local:%b} {local.strftime('%I:%M %p').lstrip('0')}"
        ": its note can be written from then."
    )
    client = login(practitioner.user)
    url = _start_url(patient, f"?appointment={visit.pk}&session=2")
    page = client.get(url).content.decode()
    assert expected in page
    assert "Start the note of session 2" not in page
    response = client.post(url, follow=True)
    assert expected in messages_said(response)
    assert not SessionNote.objects.exists()


def test_a_cancelled_session_has_no_note(login, course_of, practitioner, patient):
    course = course_of(Status.CANCELLED, first_start=timezone.now() - dt.timedelta(hours=2))
    visit = course.appointments.get()
    url = _start_url(patient)
    response = login(practitioner.user).post(f"{url}?appointment={visit.pk}", follow=True)
    said = messages_said(response)
    assert "Session 1 was cancelled" in said
    assert not SessionNote.objects.exists()


def test_a_session_note_without_an_appointment_is_refused(login, course_of, practitioner, patient):
    course = course_of(
        Status.COMPLETED, Status.CONFIRMED, first_start=timezone.now() - dt.timedelta(days=1)
    )
    client = login(practitioner.user)
    url = _start_url(patient)
    page = client.get(url).content.decode()
    # The page offers the course's sessions: the one begun, and when the next one can be.
    first = course.appointments.get(session_number=1)
    assert f"{url}?appointment={first.pk}&amp;session=1" in page
    assert "Session 2, " in page and "its note can be written from then" in page
    assert "Start the session note" not in page
    response = client.post(url, follow=True)
    said = messages_said(response)
    assert "start it from that session's appointment" in said
    assert not SessionNote.objects.exists()


def test_without_booked_sessions_the_page_says_book_the_course_first(
    login, practitioner, patient, prescribed
):
    client = login(practitioner.user)
    page = client.get(_start_url(patient)).content.decode()
    assert "Book the course first" in page
    assert "?appointment=" not in page and 'name="appointment"' not in page


def test_a_session_number_already_noted_is_refused(
    login, course_of, practitioner, patient, prescribed
):
    course = course_of(
        Status.COMPLETED, Status.COMPLETED, first_start=timezone.now() - dt.timedelta(days=8)
    )
    sign_note_now(session_note(prescribed, 2))
    visit = course.appointments.get(session_number=2)
    response = _start(login(practitioner.user), patient, f"?appointment={visit.pk}&session=2")
    assert SessionNote.objects.count() == 1
    follow = login(practitioner.user).get(response.url).content.decode()
    assert "Session 2 already has a note" in follow


def test_a_practitioner_without_a_current_certification_cannot_record_needling(
    login, location, patient, prescribed
):
    uncertified = PractitionerFactory(user__locations=[location])
    _start(login(uncertified.user), patient)
    assert not SessionNote.objects.exists()


def _last_evening_of_certification(location, practitioner) -> dt.datetime:
    """21:00 at `location` on the last day of `practitioner`'s certification, yesterday: the
    server's UTC date is already the next day then, in summer and in winter."""
    evening = dt.datetime.combine(
        location.today() - dt.timedelta(days=1), dt.time(21), tzinfo=location.zone
    )
    practitioner.certifications.update(valid_until=evening.date())
    return evening


def test_a_session_on_the_last_evening_of_a_certification_can_be_signed(
    course_of, location, practitioner, prescribed
):
    evening = _last_evening_of_certification(location, practitioner)
    visit = course_of(Status.COMPLETED, first_start=evening).appointments.get()
    note = session_note(prescribed, appointment_id=visit.pk, location=location)
    assert clinical.signing_problems(note) == {}
    note.performed_at = evening + dt.timedelta(hours=3)  # the next day there
    assert "had no current dry-needling certification" in clinical.signing_problems(note).get(
        "performed_at", ""
    )


def test_a_session_note_can_be_started_on_the_last_evening_of_a_certification(
    login, course_of, location, practitioner, patient, time_machine
):
    evening = _last_evening_of_certification(location, practitioner)
    time_machine.move_to(evening + dt.timedelta(minutes=30), tick=True)
    course = course_of(Status.CHECKED_IN, first_start=evening)
    visit = course.appointments.get()
    client = login(practitioner.user)
    url = _start_url(patient, f"?appointment={visit.pk}&session=1")
    assert "Start the note of session 1" in client.get(url).content.decode()
    client.post(url)
    assert SessionNote.objects.filter(appointment_id=visit.pk).exists()


def test_a_session_note_saves_the_muscle_grid(login, practitioner, prescribed):
    note = session_note(prescribed, pre_session_pain=None, muscles_needled=[])
    data = session_data(
        revision=0,
        muscles_needled=[
            {"muscle": "gastrocnemius", "side": "left", "needles": 3, "twitch": True},
            {"muscle": "abductor_hallucis", "side": "right", "needles": 1, "twitch": False},
        ],
    )
    response = login(practitioner.user).post(_edit(note), data)
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.muscles_needled == [
        {"muscle": "gastrocnemius", "side": "left", "needles": 3, "twitch": True},
        {"muscle": "abductor_hallucis", "side": "right", "needles": 1, "twitch": False},
    ]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"adverse_events": ["bruising"]}, "Give the severity of the adverse event."),
        ({"adverse_events": ["none", "bleeding"]}, "“None” cannot go with an adverse event."),
        (
            {"adverse_events": ["other"], "adverse_event_severity": "mild"},
            "Name the other adverse event.",
        ),
        ({"pre_session_pain": "11"}, "Choose a pain score from 0 to 10."),
        ({"retention_minutes": "90"}, "Enter at most 60 minutes."),
        ({"performed_at": "yesterday"}, "Enter a valid date/time."),
        (
            {
                "muscles_needled": [
                    {"muscle": "soleus", "side": "left", "needles": 0, "twitch": True}
                ]
            },
            "Record the needles where you saw a twitch response.",
        ),
        (
            {
                "muscles_needled": [
                    {"muscle": "soleus", "side": "left", "needles": 50, "twitch": False}
                ]
            },
            "At most 20 needles.",
        ),
    ],
)
def test_bad_input_is_refused_on_the_field_and_nothing_is_lost(
    login, practitioner, prescribed, overrides, message
):
    note = session_note(prescribed)
    data = session_data(revision=0, advice_given="Typed before the mistake", **overrides)
    response = login(practitioner.user).post(_edit(note), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "Typed before the mistake" in html
    note.refresh_from_db()
    assert note.revision == 0


def test_the_session_number_is_the_appointments_whatever_is_typed(login, practitioner, prescribed):
    note = session_note(prescribed, 2)
    response = login(practitioner.user).post(
        _edit(note), session_data(revision=0, session_number=5)
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert (note.session_number, note.revision) == (2, 1)


def test_a_note_dated_before_its_session_starts_is_refused(login, practitioner, prescribed):
    note = session_note(prescribed)
    before = timezone.localtime(note.performed_at - dt.timedelta(days=3), dt.UTC)
    data = session_data(revision=0, performed_at=f"{before:%Y-%m-%dT%H:%M}")
    response = login(practitioner.user).post(_edit(note), data)
    assert response.status_code == 200
    assert "the note cannot be dated before." in response.content.decode()
    note.refresh_from_db()
    assert note.revision == 0


def test_a_session_in_the_future_is_refused(login, practitioner, prescribed):
    note = session_note(prescribed)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    data = session_data(revision=0, performed_at=f"{tomorrow:%Y-%m-%dT%H:%M}")
    response = login(practitioner.user).post(_edit(note), data)
    assert "The session cannot be in the future." in response.content.decode()


@pytest.mark.parametrize("typed", ["9999-12-31T23:59", "9999-12-31T22:00"])
def test_a_time_past_the_calendars_end_in_utc_is_refused_on_its_field(
    login, practitioner, prescribed, location, typed
):
    """On Toronto's clock, the last hours of year 9999 are in year 10000 in UTC."""
    note = session_note(prescribed, location=location)
    data = session_data(revision=0, performed_at=typed, location=location.pk)
    response = login(practitioner.user).post(_edit(note), data)
    assert response.status_code == 200
    assert "Enter a valid date/time." in response.content.decode()
    note.refresh_from_db()
    assert note.revision == 0


def test_an_adverse_event_with_its_severity_and_action_is_saved(login, practitioner, prescribed):
    note = session_note(prescribed)
    data = session_data(
        revision=0,
        adverse_events=["fainting"],
        adverse_event_severity="moderate",
        adverse_event_action="Lay down, legs raised; recovered in 5 minutes.",
    )
    login(practitioner.user).post(_edit(note), data)
    note.refresh_from_db()
    assert note.adverse_events == ["fainting"] and note.adverse_event_severity == "moderate"


def test_signing_a_session_note(login, practitioner, prescribed):
    note = session_note(prescribed)
    client = login(practitioner.user)
    response = client.post(
        reverse("intake:session_note_sign", args=[note.pk]),
        {"password": PASSWORD, "revision": note.revision},
    )
    assert response.url == reverse("intake:session_note_detail", args=[note.pk])
    note.refresh_from_db()
    assert note.is_signed and note.fingerprint_verified


def test_signing_needs_the_adverse_events_answered_and_the_action_taken(
    login, practitioner, prescribed
):
    note = session_note(prescribed, adverse_events=[])
    page = login(practitioner.user).get(reverse("intake:session_note_sign", args=[note.pk]))
    assert "Record adverse events, or “None”." in page.content.decode()

    note = session_note(prescribed, 2, adverse_events=["soreness"], adverse_event_severity="mild")
    page = login(practitioner.user).get(reverse("intake:session_note_sign", args=[note.pk]))
    assert "Record the action taken." in page.content.decode()


def test_a_session_beyond_the_plan_is_not_signed(login, practitioner, patient):
    """Session 5 of a course of 6, whose plan was then amended to 4 sessions (the database
    keeps a course's sessions within the course's own plan, not within later amendments)."""
    six = signed_assessment(patient, practitioner, planned_sessions=6)
    note = session_note(six, 5)
    an_amendment(six, practitioner, reason="Four sessions are enough", planned_sessions=4)
    page = login(practitioner.user).get(reverse("intake:session_note_sign", args=[note.pk]))
    assert "The plan has 4 sessions; amend the assessment to extend it." in page.content.decode()


def test_only_the_author_signs_a_session_note(login, other_practitioner, prescribed):
    note = session_note(prescribed)
    response = login(other_practitioner.user).post(
        reverse("intake:session_note_sign", args=[note.pk]),
        {"password": PASSWORD, "revision": note.revision},
    )
    assert response.status_code == 403
    note.refresh_from_db()
    assert not note.is_signed


def _session_begun_an_hour_ago(clinic, patient, prescribed):
    """Session 1 of the course `prescribed` prescribes, still 'confirmed' an hour after its
    start (nobody checked the patient in)."""
    course = a_course(
        clinic,
        patient,
        statuses=[Status.CONFIRMED],
        first_start=timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1),
        assessment=prescribed,
    )
    return course.appointments.get()


def test_a_note_of_a_session_missed_after_it_was_started_is_not_signed(
    login, clinic, practitioner, patient, prescribed
):
    """The note was started once the session began; then the patient was marked a no-show. It
    would record a needling that never happened, and keep session 1's number from the session
    booked again: signing it is refused with the reason, nothing locked."""
    from booking.models import Appointment

    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    note = session_note(prescribed, 1, appointment_id=visit.pk)
    Appointment.objects.filter(pk=visit.pk).update(status=Status.NO_SHOW)
    response = login(practitioner.user).post(
        reverse("intake:session_note_sign", args=[note.pk]),
        {"password": PASSWORD, "revision": note.revision},
    )
    assert "Session 1 was missed" in response.content.decode()
    note.refresh_from_db()
    assert not note.is_signed


def _move(visit, starts_at):
    """The desk moved the session to `starts_at` (written directly: the rules of moving are
    booking's tests', and the clock's hour may be outside the location's)."""
    from booking.models import Appointment

    Appointment.objects.filter(pk=visit.pk).update(
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=30),
        blocks_until=starts_at + dt.timedelta(minutes=35),
    )


def test_a_note_of_a_session_moved_after_it_was_started_is_not_signed_unseen(
    login, clinic, practitioner, front_desk, patient, prescribed
):
    """The note was started once the session began; then the desk moved the session to next
    week (the patient phoned: ill). Signing the draft, dated at the old time, was a 500 from
    PostgreSQL's 'not before its session' rule: it is refused with the reason, nothing
    locked."""
    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    note = session_note(prescribed, 1, appointment_id=visit.pk)
    _move(visit, visit.starts_at + dt.timedelta(days=7))

    response = login(practitioner.user).post(
        reverse("intake:session_note_sign", args=[note.pk]),
        {"password": PASSWORD, "revision": note.revision},
    )
    assert response.status_code == 200
    assert "Session 1 was moved to" in response.content.decode()
    note.refresh_from_db()
    assert not note.is_signed


def test_a_note_of_a_session_that_began_later_than_booked_is_dated_from_its_start(
    login, clinic, practitioner, patient, prescribed
):
    """The session was moved half an hour later once its note was started (the patient came
    late): the note is not signed at the old time, but dated from the new start it is."""
    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    note = session_note(prescribed, 1, appointment_id=visit.pk)
    later = visit.starts_at + dt.timedelta(minutes=30)
    _move(visit, later)
    client = login(practitioner.user)
    sign = reverse("intake:session_note_sign", args=[note.pk])

    response = client.post(sign, {"password": PASSWORD, "revision": note.revision})
    assert response.status_code == 200
    assert "Session 1 now starts" in response.content.decode()
    note.refresh_from_db()
    assert not note.is_signed

    # Dated from the new start (as the edit page's time field saves it).
    SessionNote.objects.filter(pk=note.pk).update(performed_at=later)
    note.refresh_from_db()
    assert client.post(sign, {"password": PASSWORD, "revision": note.revision}).status_code == 302
    note.refresh_from_db()
    assert note.is_signed


def test_a_visit_a_signed_note_records_is_not_then_missed_or_cancelled(
    clinic, practitioner, front_desk, patient, prescribed
):
    """The other order: the note of session 1 signed while the visit was still 'confirmed'
    (nobody checked the patient in). Marking it a no-show would charge the no-show fee for a
    needling the record says was given; cancelling it would free a time that was used."""
    from booking import services

    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    sign_note_now(session_note(prescribed, 1, appointment_id=visit.pk))
    with pytest.raises(services.TransitionRefused, match="signed note records this visit"):
        services.change_status(visit, to=Status.NO_SHOW, actor=front_desk)
    with pytest.raises(services.TransitionRefused, match="cannot be cancelled"):
        services.cancel_appointment(visit, by="patient", actor=front_desk, reason="Ill")
    visit.refresh_from_db()
    assert visit.status == Status.CONFIRMED


def test_a_visit_a_signed_note_records_is_not_then_moved(
    clinic, practitioner, front_desk, patient, prescribed
):
    """As it is not missed nor cancelled, a session a signed note records is not moved to
    next week either: the course would show session 1 still to come (and book the patient's
    needling twice), while the record says it was given."""
    from booking import services

    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    sign_note_now(session_note(prescribed, 1, appointment_id=visit.pk))
    booked_at = visit.starts_at
    with pytest.raises(services.TransitionRefused, match="signed note records this visit"):
        services.reschedule_appointment(
            visit, starts_at=booked_at + dt.timedelta(days=7), actor=front_desk, reason="Moved"
        )
    visit.refresh_from_db()
    assert visit.starts_at == booked_at


def _sign(note):
    return lambda: clinical.sign_note(
        note=note, author=note.author, password=PASSWORD, seen_revision=note.revision
    )


def _mark_missed(visit, front_desk):
    from booking import services as booking

    return lambda: booking.change_status(visit, to=Status.NO_SHOW, actor=front_desk)


@pytest.mark.django_db(transaction=True)
def test_a_no_show_being_marked_holds_back_the_signature_of_its_note(
    clinic, front_desk, patient, prescribed
):
    """At the same instant: the desk marks the visit a no-show while the practitioner signs
    its note. The signature waits for the visit (a locked row), then is refused: never both."""
    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    note = session_note(prescribed, 1, appointment_id=visit.pk)
    missed, signing, waited = first_holds_its_lock(
        _mark_missed(visit, front_desk),
        _sign(note),
        won="done",
        lost=(clinical.NoteIncomplete, "refused"),
    )
    assert (missed, signing, waited) == (
        "done",
        "refused: " + clinical.NoteIncomplete.message,
        True,
    )
    note.refresh_from_db()
    visit.refresh_from_db()
    assert (note.is_signed, visit.status) == (False, Status.NO_SHOW)


@pytest.mark.django_db(transaction=True)
def test_a_note_being_signed_holds_back_marking_its_visit_a_no_show(
    clinic, front_desk, patient, prescribed
):
    """The other order: the signature goes first, and the no-show waits, then is refused."""
    from booking import services as booking

    visit = _session_begun_an_hour_ago(clinic, patient, prescribed)
    note = session_note(prescribed, 1, appointment_id=visit.pk)
    signed, missed, waited = first_holds_its_lock(
        _sign(note),
        _mark_missed(visit, front_desk),
        won="done",
        lost=(booking.TransitionRefused, "refused"),
    )
    assert (signed, waited) == ("done", True)
    assert missed.startswith("refused: A signed note records this visit"), missed
    note.refresh_from_db()
    visit.refresh_from_db()
    assert (note.is_signed, visit.status) == (True, Status.CONFIRMED)


def test_an_assessment_of_a_visit_the_patient_missed_is_not_signed(
    login, clinic, practitioner, patient
):
    """An assessment note started from the appointment, which the desk then marked a no-show:
    signing it would record an assessment that never took place."""
    from booking.models import Appointment
    from tests.booking.factories import an_appointment

    visit = an_appointment(clinic, patient, timezone.now() - dt.timedelta(hours=1))
    note = AssessmentFactory(patient=patient, author=practitioner, appointment_id=visit.pk)
    Appointment.objects.filter(pk=visit.pk).update(status=Status.NO_SHOW)
    with pytest.raises(clinical.NoteIncomplete) as refused:
        _sign(note)()
    assert refused.value.problems["appointment"].startswith("The assessment visit was missed")
    note.refresh_from_db()
    assert not note.is_signed


def test_a_note_linked_to_a_visit_still_ahead_does_not_stop_cancelling_it(
    clinic, front_desk, patient, prescribed
):
    """An assessment started from the chart may name a visit still to come; that says nothing
    of the visit, which is cancelled as any other (closing the account cancels it too)."""
    from booking import services
    from tests.booking.factories import an_appointment

    ahead = an_appointment(clinic, patient, timezone.now() + dt.timedelta(days=3))
    signed_assessment(patient, prescribed.author, appointment_id=ahead.pk)
    services.cancel_appointment(ahead, by="patient", actor=front_desk, reason="Ill")
    ahead.refresh_from_db()
    assert ahead.status == Status.CANCELLED
