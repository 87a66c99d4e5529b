"""Workflows of the outcome surveys: recording a patient's answers (once, or as a correction
kept beside them) and the practitioner's response to a worrying one. As the notes' workflows
(`intake.clinical.services`), they take domain objects, run in one transaction and lock the
rows they change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import User
from intake.clinical.models import (
    SESSION_KINDS,
    SURVEY_QUESTIONS,
    AfterCareResponse,
    OutcomeSurvey,
    SurveyKind,
)
from intake.clinical.selectors import SurveySubject


class SurveyError(Exception):
    """A survey that cannot be recorded; `message` says why, in the patient's words."""

    message = "Your answers could not be saved."

    def __init__(self, message: str | None = None, *, answer: OutcomeSurvey | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.answer = answer


class AlreadyAnswered(SurveyError):
    message = (
        "You have already sent these answers; here is what we received. If something is not "
        "right, correct it below: we keep both."
    )


class SurveyClosed(SurveyError):
    message = "This survey is closed. Please tell your practitioner at your next visit."


@transaction.atomic
def record_survey(
    *,
    subject: SurveySubject,
    answers: Mapping[str, Any],
    channel: str,
    by: User | None,
    collected_by: User | None = None,
    corrects: int | None = None,
    now: dt.datetime | None = None,
) -> OutcomeSurvey:
    """Record the patient's answers about `subject` (see `intake.clinical.selectors.survey_subject`).

    A first answer is a new row. Answering again is a correction: `corrects` must name the
    current answer the patient saw, and the new row supersedes it (the old one stays). A
    second first answer (a link used twice, two tabs) raises `AlreadyAnswered` with what was
    received, so the page can show it and offer the correction."""
    now = now or timezone.now()
    if not subject.window.is_open(now):
        raise SurveyClosed()
    visit = subject.visit
    kind = subject.kind
    about = (
        {"appointment_id": visit.appointment_id}
        if kind in SESSION_KINDS
        else {"course_id": visit.course_id}
    )
    chain = OutcomeSurvey.objects.select_for_update().filter(
        patient_id=visit.patient_id, kind=kind, **about
    )
    current = next(iter(chain.current()), None)
    if current is not None and corrects != current.pk:
        raise AlreadyAnswered(answer=current)
    if current is None and corrects is not None:
        raise SurveyError("The answer you were correcting could not be found; please start again.")
    checkin = OutcomeSurvey(
        patient_id=visit.patient_id,
        kind=kind,
        channel=channel,
        appointment_id=visit.appointment_id,
        course_id=visit.course_id,
        session_number=visit.session_number if kind in SESSION_KINDS else None,
        location=visit.location,
        practitioner_id=visit.practitioner_id,
        supersedes=current,
        reported_at=current.reported_at if current is not None else now,
        submitted_at=now,
        submitted_by=by if by is not None and by.is_authenticated else None,
        collected_by=collected_by,
    )
    for name in SURVEY_QUESTIONS[kind]:
        if name in answers:
            setattr(checkin, name, answers[name])
    if not checkin.worrying:
        checkin.worrying_details = ""
    try:
        with transaction.atomic():
            checkin.save()
    except IntegrityError:
        # Sent from somewhere else a moment ago (checkin_one_first_answer_per_session, or the
        # one-to-one `supersedes`): show that answer rather than lose either.
        raise AlreadyAnswered(answer=chain.current().first()) from None
    return checkin


@transaction.atomic
def respond_to_worry(*, checkin: OutcomeSurvey, by: User, note: str) -> AfterCareResponse:
    """A practitioner records what they did about a worrying after-care answer; the answer
    leaves the alert list."""
    if checkin.kind != SurveyKind.AFTER_CARE or not checkin.worrying:
        raise SurveyError("Only a worrying after-care answer needs a response.")
    if not note.strip():
        raise SurveyError("Say what you did (for example: phoned, advised ice, no concern).")
    if "\x00" in note:
        # PostgreSQL cannot store a NUL character in text (a pasted or forged one).
        raise SurveyError("The note has a character that cannot be stored: type it again.")
    limit = AfterCareResponse._meta.get_field("note").max_length
    if len(note.strip()) > limit:
        # Refused, not cut short: a cut note could end mid-sentence ("no concern unless…").
        raise SurveyError(
            f"Keep the note to {limit} characters (it has {len(note.strip())}); nothing was "
            "recorded."
        )
    if OutcomeSurvey.objects.filter(supersedes=checkin).exists():
        raise SurveyError(
            "The patient has corrected this answer since: respond to the corrected one."
        )
    try:
        with transaction.atomic():
            return AfterCareResponse.objects.create(
                checkin=checkin, by=by, at=timezone.now(), note=note.strip()
            )
    except IntegrityError:
        raise SurveyError("Someone has already responded to this answer.") from None
