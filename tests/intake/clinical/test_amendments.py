"""Amendments: after signing, changes are appended (who, when, why, what), each signed with
a password; the original stays readable and the note page shows the amendments in order."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from intake.clinical import services as clinical_services
from intake.clinical.models import AssessmentAmendment, fingerprint_of
from intake.questionnaire.models import Intake
from tests.factories import PASSWORD
from tests.intake.factories import (
    AssessmentFactory,
    an_amendment,
    assessment_data,
    session_note,
    sign_note_now,
    submitted_intake,
)

pytestmark = pytest.mark.django_db


def _amend(
    client, note, *, reason="Reviewed with the patient", password=PASSWORD, seen=None, **fields
):
    """Amend from a page opened now (or, with `seen`, when the note had that many amendments)."""
    seen = note.amendments.count() if seen is None else seen
    data = assessment_data(revision=seen, **fields) | {"reason": reason, "password": password}
    return client.post(reverse("intake:assessment_amend", args=[note.pk]), data)


def test_an_amendment_records_who_when_why_and_what_and_keeps_the_original(
    login, practitioner, prescribed
):
    client = login(practitioner.user)
    form = client.get(reverse("intake:assessment_amend", args=[prescribed.pk])).content.decode()
    assert "Active trigger points" in form  # the form starts from the note as it stands

    response = _amend(client, prescribed, reason="Four sessions are enough", planned_sessions="4")

    assert response.url == reverse("intake:assessment_detail", args=[prescribed.pk])
    amendment = AssessmentAmendment.objects.get()
    assert (amendment.number, amendment.author) == (1, practitioner)
    assert amendment.reason == "Four sessions are enough"
    assert amendment.changes == {"planned_sessions": {"from": 6, "to": 4}}
    prescribed.refresh_from_db()
    assert prescribed.planned_sessions == 6  # the original is untouched
    assert prescribed.current().planned_sessions == 4


def test_the_note_page_shows_the_original_then_the_amendments_in_order(
    login, practitioner, other_practitioner, prescribed
):
    _amend(login(practitioner.user), prescribed, reason="First change", session_minutes="20")
    _amend(
        login(other_practitioner.user),
        prescribed,
        reason="Second change",
        session_minutes="20",
        home_exercises="Towel curls",
    )
    html = (
        login(practitioner.user)
        .get(reverse("intake:assessment_detail", args=[prescribed.pk]))
        .content.decode()
    )
    original = html.index("The original note, as signed")
    first, second = html.index("Amendment 1 —"), html.index("Amendment 2 —")
    assert original < first < second
    assert "First change" in html and "Second change" in html
    assert other_practitioner.name in html[second:]
    assert "30 minutes" in html[original:first] and "20 minutes" in html[first:second]
    assert "The note as it stands after the amendments" in html


def test_amendments_are_signed_and_chained(login, practitioner, prescribed):
    client = login(practitioner.user)
    _amend(client, prescribed, addendum="", home_exercises="Calf raises")
    _amend(client, prescribed, home_exercises="Calf raises", addendum="Seen again: improving")
    first, second = AssessmentAmendment.objects.order_by("number")
    assert first.fingerprint == fingerprint_of(
        first.signed_content(previous_fingerprint=prescribed.fingerprint)
    )
    assert second.fingerprint == fingerprint_of(
        second.signed_content(previous_fingerprint=first.fingerprint)
    )
    assert second.changes == {} and second.addendum == "Seen again: improving"


def test_an_amendment_from_a_page_opened_before_another_is_refused_not_reverting_it(
    login, patient, practitioner, other_practitioner, prescribed
):
    """Two practitioners open the amend page; the first stops the course (a new
    contraindication). The second, sending the note as their page showed it, would put
    "needling appropriate" back and reopen the gate: refused, and shown the note as it stands."""
    from intake.clinical.selectors import course_gate

    stale = login(other_practitioner.user)
    opened = stale.get(reverse("intake:assessment_amend", args=[prescribed.pk]))
    assert opened.status_code == 200 and 'name="revision" value="0"' in opened.content.decode()

    stop = {"needling_appropriate": "False", "planned_sessions": None, "session_minutes": None}
    _amend(login(practitioner.user), prescribed, reason="Started anticoagulants", **stop)
    assert not course_gate(patient).allowed

    response = _amend(stale, prescribed, seen=0, home_exercises="Towel curls")
    assert response.status_code == 409
    page = response.content.decode()
    assert "amended by someone else after you opened this page" in page
    assert 'name="revision" value="1"' in page  # the page now shows the note as it stands
    assert AssessmentAmendment.objects.count() == 1
    assert not course_gate(patient).allowed


def test_a_wrong_password_amends_nothing(login, practitioner, prescribed):
    response = _amend(login(practitioner.user), prescribed, password="wrong", planned_sessions="4")
    assert "That is not your password. Nothing was amended." in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_an_amendment_needs_a_reason(login, practitioner, prescribed):
    response = _amend(login(practitioner.user), prescribed, reason="", planned_sessions="4")
    assert "Say why you amend the note." in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_an_addendum_too_long_is_refused_on_its_field_not_a_500(login, practitioner, prescribed):
    """The database keeps an addendum to 5,000 characters; a longer one (a whole letter pasted)
    is said on the field, with nothing amended, rather than refused by PostgreSQL as a 500."""
    response = _amend(login(practitioner.user), prescribed, addendum="a" * 5001)
    assert response.status_code == 200
    assert "Ensure this value has at most 5000 characters" in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_new_screening_answers_are_not_shown_as_already_acknowledged_on_the_amend_page(
    login, patient, practitioner, other_practitioner
):
    """The patient was on low-dose aspirin, acknowledged at the assessment; since it was
    signed they answered the questionnaire again: now warfarin. The amend page shows the new
    answer with its box unticked (the old acknowledgement read the old answer), so an
    amendment made for something else does not pass as the review of it."""
    first = submitted_intake(
        patient,
        at=timezone.now() - dt.timedelta(days=20),
        screen_anticoagulants=True,
        screen_anticoagulants_details="Aspirin 81 mg",
    )
    aspirin = {"screen_anticoagulants": "Low-dose aspirin: pressure after each needle"}
    note = sign_note_now(
        AssessmentFactory(patient=patient, author=practitioner, flag_acknowledgements=aspirin),
        at=timezone.now() - dt.timedelta(days=10),
    )
    answered_again = timezone.now() - dt.timedelta(days=1)
    Intake.objects.filter(pk=first.pk).update(
        status=Intake.Status.SUPERSEDED, superseded_at=answered_again
    )
    submitted_intake(
        patient,
        at=answered_again,
        screen_anticoagulants=True,
        screen_anticoagulants_details="Warfarin since May",
    )
    client = login(other_practitioner.user)

    page = client.get(reverse("intake:assessment_amend", args=[note.pk])).content.decode()
    box = page[page.index('name="ack_screen_anticoagulants"') :].split(">")[0]
    assert "Warfarin since May" in page and "checked" not in box

    # The form sent back as it is shown: the old note, the box not ticked.
    data = assessment_data(revision=0, home_exercises="Towel curls") | {
        "reason": "Exercises changed",
        "password": PASSWORD,
        "ack_screen_anticoagulants_note": aspirin["screen_anticoagulants"],
    }
    response = client.post(reverse("intake:assessment_amend", args=[note.pk]), data)
    assert "Tick to acknowledge, or clear the note." in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_an_amendment_that_changes_nothing_is_refused(login, practitioner, prescribed):
    response = _amend(login(practitioner.user), prescribed)
    assert "Nothing to amend" in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_an_amendment_cannot_leave_the_note_incomplete(login, practitioner, prescribed):
    response = _amend(login(practitioner.user), prescribed, decision_reason="")
    assert "Give the reason for the decision." in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_an_amendment_keeps_the_plan_rules(login, practitioner, prescribed):
    response = _amend(login(practitioner.user), prescribed, planned_sessions="8")
    assert "A course has 4, 5 or 6 sessions." in response.content.decode()
    assert not AssessmentAmendment.objects.exists()


def test_a_draft_is_not_amended(login, practitioner, assessment):
    response = login(practitioner.user).get(
        reverse("intake:assessment_amend", args=[assessment.pk])
    )
    assert response.url == reverse("intake:assessment_detail", args=[assessment.pk])


def _amend_a_signed_session_note(client, note, location):
    performed_here = timezone.localtime(note.performed_at, location.zone)
    response = client.post(
        reverse("intake:session_note_amend", args=[note.pk]),
        {
            "revision": "0",
            "reason": "Bruise reported the next day",
            "password": PASSWORD,
            "session_number": "1",
            "performed_at": f"{performed_here:%Y-%m-%dT%H:%M}",
            "location": location.pk,
            "pre_session_pain": "5",
            "needles_soleus_right": "2",
            "twitch_soleus_right": "on",
            "technique": "pistoning",
            "retention_minutes": "10",
            "tolerance": "well",
            "adverse_events": ["bruising"],
            "adverse_event_severity": "mild",
            "adverse_event_action": "Ice advised by phone",
        },
    )
    assert response.status_code == 302
    amendment = note.amendments.get()
    # The time shown and sent back unchanged is not a change, whatever the clock did that night.
    assert set(amendment.changes) == {
        "adverse_events",
        "adverse_event_severity",
        "adverse_event_action",
    }
    assert note.current().had_adverse_event
    assert note.current().performed_at == note.performed_at


def test_session_notes_are_amended_the_same_way(login, practitioner, prescribed, location):
    note = sign_note_now(session_note(prescribed, location=location))
    _amend_a_signed_session_note(login(practitioner.user), note, location)


# 01:30 in Toronto on the night the clocks go back happens twice (05:30 and 06:30 UTC); a note
# of the second 01:30 is amended without the time being refused as ambiguous or moved an hour.
@pytest.mark.time_machine(dt.datetime(2027, 11, 7, 6, 30, tzinfo=dt.UTC), tick=True)
def test_a_session_in_the_hour_the_clocks_go_back_is_amended_too(
    login, practitioner, prescribed, location
):
    note = sign_note_now(session_note(prescribed, location=location))
    _amend_a_signed_session_note(login(practitioner.user), note, location)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE intake_assessmentamendment SET reason = 'x'",
        "DELETE FROM intake_assessmentamendment",
    ],
)
def test_the_database_refuses_to_change_an_amendment(login, practitioner, prescribed, sql):
    _amend(login(practitioner.user), prescribed, planned_sessions="5")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AssessmentAmendment.objects.get().reason == "Reviewed with the patient"


def test_a_plan_is_not_amended_to_fewer_sessions_than_are_already_recorded(
    practitioner, prescribed
):
    """Five sessions given and signed: the plan may stop the course there (5), not say it had
    4, which the records of session 5 contradict (and the course's completion would count)."""
    from intake.clinical.services import NoteIncomplete

    for number in range(1, 6):
        sign_note_now(session_note(prescribed, number))
    with pytest.raises(NoteIncomplete) as refused:
        an_amendment(prescribed, practitioner, planned_sessions=4)
    assert refused.value.problems == {
        "planned_sessions": "Session 5 is already recorded: choose 5 sessions or more."
    }
    assert not AssessmentAmendment.objects.exists()
    an_amendment(prescribed, practitioner, planned_sessions=5, reason="Stopping: pain resolved")
    assert prescribed.current().planned_sessions == 5


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["amending", "signing"])
def test_a_plan_shortened_while_a_session_beyond_it_is_signed_lets_only_one_through(
    practitioner, other_practitioner, prescribed, first
):
    """The practitioner amends the plan to four sessions while a colleague signs the note of the
    session 5 they gave:
    each checked the other's record before it was written (the amendment saw no session 5, the
    signature a plan of six), so both went through, a plan of four with a fifth session on
    record. The signature waits for the assessment the amendment holds, or the other way round,
    and whichever comes second is refused."""
    from intake.clinical.services import NoteIncomplete
    from tests.booking.races import first_holds_its_lock

    for number in range(1, 5):
        sign_note_now(session_note(prescribed, number))
    fifth = session_note(prescribed, 5, author=other_practitioner)

    def amend():
        an_amendment(prescribed, practitioner, planned_sessions=4)

    def sign():
        clinical_services.sign_note(
            note=fifth, author=fifth.author, password=PASSWORD, seen_revision=fifth.revision
        )

    attempts = (amend, sign) if first == "amending" else (sign, amend)
    one, two, waited = first_holds_its_lock(*attempts, won="done", lost=(NoteIncomplete, "refused"))
    assert (one, two.split(":")[0], waited) == ("done", "refused", True)
    fifth.refresh_from_db()
    amended = AssessmentAmendment.objects.exists()
    assert (fifth.is_signed, amended) == ((False, True) if first == "amending" else (True, False))
