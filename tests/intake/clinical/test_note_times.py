"""Times on the clinical notes are written the site's way, on the 12-hour clock as on
booking's pages ("4:45 PM", never "16:45"), in the note's location's time zone. Locations
have no clock convention of their own, so there is one format throughout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from intake.clinical.models import AssessmentNote, SessionNote
from tests.intake.factories import an_amendment, assessment_data, session_note, sign_note_now

pytestmark = pytest.mark.django_db


def _tomorrow_at(location, hour: int, minute: int) -> dt.datetime:
    """A wall-clock time at `location` tomorrow (after the suite's instant, whatever it is)."""
    day = location.today() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=location.zone)


def _day(moment: dt.datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"  # "10 June 2027"


def test_a_note_page_writes_its_times_on_the_12_hour_clock(
    login, time_machine, location, practitioner, prescribed
):
    started = _tomorrow_at(location, 14, 5)
    performed = _tomorrow_at(location, 15, 30)
    signed = _tomorrow_at(location, 16, 45)
    amended = _tomorrow_at(location, 17, 10)
    time_machine.move_to(started, tick=False)
    note = session_note(prescribed, 1)
    SessionNote.objects.filter(pk=note.pk).update(performed_at=performed, location=location)
    note.refresh_from_db()
    sign_note_now(note, at=signed)
    time_machine.move_to(amended, tick=False)
    an_amendment(note, practitioner, reason="Pain score corrected", pre_session_pain=4)

    html = (
        login(practitioner.user)
        .get(reverse("intake:session_note_detail", args=[note.pk]))
        .content.decode()
    )
    zone = signed.strftime("%Z")  # EST or EDT, as the day has it
    assert f"started {_day(started)}, 2:05 PM" in html
    assert f"Signed {_day(signed)}, 4:45 PM {zone}" in html
    assert f"{_day(performed)}, 3:30 PM" in html  # when the session took place
    assert f"{practitioner.name}, {_day(amended)}, 5:10 PM {zone}" in html  # the amendment
    for twenty_four_hour in ("14:05", "15:30", "16:45", "17:10"):
        assert twenty_four_hour not in html


def test_saving_a_draft_says_when_on_the_12_hour_clock(
    login, time_machine, location, practitioner, assessment
):
    AssessmentNote.objects.filter(pk=assessment.pk).update(location=location)
    time_machine.move_to(_tomorrow_at(location, 16, 10), tick=False)
    client = login(practitioner.user)
    edit = reverse("intake:assessment_edit", args=[assessment.pk])
    at = {"location": location.pk}
    saved = client.post(edit, assessment_data(revision=0) | at | {"action": "save"}, follow=True)
    assert "Draft saved at 4:10 PM." in saved.content.decode()
    autosaved = client.post(edit, assessment_data(revision=1) | at, headers={"X-Autosave": "1"})
    assert autosaved.json()["saved_at"] == "4:10:00 PM"
