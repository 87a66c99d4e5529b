"""Workflows of the clinical records: starting, saving, signing, amending and discarding
assessment and session notes (the outcome surveys' are in `intake.clinical.surveys`).

Services take domain objects and keyword arguments, never a request or a form, run in one
transaction and lock the rows they change, so that two tabs or two devices cannot interleave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import dateformat, timezone

from clinic.models import Location, Patient, Practitioner
from intake.clinical.models import (
    MAX_GOALS,
    Amendment,
    AssessmentNote,
    SessionNote,
    SignedNote,
    fingerprint_of,
    jsonable,
)
from intake.clinical.selectors import Visit, VisitState, course_gate, find_visit
from intake.questionnaire.models import (
    Intake,
)
from intake.zones import patient_zone

# --- Clinical notes --------------------------------------------------------------------------


class NoteError(Exception):
    """A change to a clinical note that is refused; `message` says why."""

    message = "This could not be done."

    def __init__(self, message: str | None = None, *, note=None, problems=None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.note = note
        self.problems: dict[str, str] = problems or {}


class NotTheAuthor(NoteError):
    message = "Only the note's author can change, sign or discard it."


class WrongPassword(NoteError):
    message = "That is not your password. Nothing was signed."


class NoteLocked(NoteError):
    message = "This note is signed and locked. To change it, add an amendment."


class NoteChangedElsewhere(NoteError):
    message = (
        "This note was saved from another tab or window after you opened this page. Your "
        "version is shown below and has NOT been saved; compare it with the saved version, "
        "then save again to replace it."
    )


class NoteIncomplete(NoteError):
    message = "The note cannot be signed yet: complete the parts listed."


class NoCourse(NoteError):
    message = "No signed assessment prescribes a course of dry needling for this patient."


class NotThePatientsVisit(NoteError):
    message = (
        "That appointment is not one of this patient's: the note was not started. Start it "
        "from the patient's own appointment, or from their chart."
    )


def _check_visit_is_the_patients(appointment_id: int | None, patient: Patient) -> None:
    """A note records one of the patient's own visits (or none): a note started from another
    patient's appointment would put this patient's findings in that patient's visit. The
    database refuses it as well (the `..._appointment_is_the_patients` constraints)."""
    if appointment_id is None:
        return
    visit = find_visit(appointment_id)
    if visit is None or visit.patient_id != patient.pk:
        raise NotThePatientsVisit()


class NoAppointment(NoteError):
    message = (
        "A session note is written for a booked session of the course: start it from that "
        "session's appointment, on your day or the patient's chart."
    )


class SessionNotStarted(NoteError):
    message = "This session has not started yet: its note can be written from its start."


class NotACourseSession(NoteError):
    message = (
        "That appointment is not a dry-needling session of the course this patient's "
        "assessment prescribed: the note was not started. Start it from a session of that "
        "course, or from their chart."
    )


def _constraint_name(error: IntegrityError) -> str:
    """The constraint PostgreSQL named when it refused the write ('' if it named none)."""
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""


def _not_a_session_refusal(error: IntegrityError) -> bool:
    """Whether PostgreSQL refused a session note for recording a visit that is not a session
    of the course its assessment prescribed (intake migration 0008)."""
    return _constraint_name(error) == "treatment_note_appointment_is_a_session_of_the_course"


def _same_patient_refusal(error: IntegrityError) -> bool:
    """Whether PostgreSQL refused a record for naming another patient's visit (a race with
    the check above, or a caller that skipped it)."""
    return _constraint_name(error).endswith("_is_the_patients")


def _minute(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)


def _lock(note: SignedNote) -> SignedNote:
    return type(note).objects.select_for_update().select_related("author__user").get(pk=note.pk)


def lock_assessment(assessment_id: int) -> None:
    """Lock an assessment note's row until the transaction ends (FOR NO KEY UPDATE: records
    that refer to it can still be written meanwhile). Booking takes it while it books the
    course the assessment prescribes."""
    list(
        AssessmentNote.objects.select_for_update(no_key=True)
        .filter(pk=assessment_id)
        .values_list("pk", flat=True)
    )


def current_flags(patient: Patient) -> list[tuple[str, str, str]]:
    """(field, reason, details) of each screening "yes" in the patient's current
    questionnaire: every one must be acknowledged in an assessment note."""
    current = Intake.objects.current_submissions().filter(patient=patient).first()
    return current.screening_flags if current else []


@transaction.atomic
def start_assessment(
    *,
    patient: Patient,
    author: Practitioner,
    appointment_id: int | None = None,
    location: Location | None = None,
) -> AssessmentNote:
    """The author's draft assessment of `patient`: the one in progress, or a new one whose
    subjective part and goals are filled in from the current questionnaire."""
    _check_visit_is_the_patients(appointment_id, patient)
    draft = AssessmentNote.objects.filter(
        patient=patient, author=author, signed_at__isnull=True
    ).first()
    if draft is not None:
        if appointment_id and not draft.appointment_id:
            draft.appointment_id = appointment_id
            draft.save(update_fields=["appointment_id", "updated_at"])
        return draft
    intake = Intake.objects.current_submissions().filter(patient=patient).first()
    note = AssessmentNote(
        patient=patient,
        author=author,
        location=location,
        appointment_id=appointment_id,
        intake=intake,
    )
    if intake is not None:
        note.subjective = intake.subjective_summary()
        lines = [line.strip() for line in intake.goals.splitlines() if line.strip()]
        note.goals = [{"goal": line, "target": ""} for line in lines[:MAX_GOALS]]
    try:
        with transaction.atomic():
            note.save()
    except IntegrityError as error:
        if _same_patient_refusal(error):
            raise NotThePatientsVisit() from error
        # Started a moment ago in another tab (assessment_one_draft_per_patient_and_author).
        return AssessmentNote.objects.get(patient=patient, author=author, signed_at__isnull=True)
    return note


@transaction.atomic
def start_session_note(
    *,
    patient: Patient,
    author: Practitioner,
    appointment_id: int | None,
    location: Location | None = None,
    now: dt.datetime | None = None,
) -> SessionNote:
    """The author's draft note of the booked session `appointment_id` of the patient's
    prescribed course: the one in progress for that appointment if there is one, otherwise a
    new one whose session number and date are the appointment's. Refused before the session
    starts."""
    if appointment_id is None:
        raise NoAppointment()
    _check_visit_is_the_patients(appointment_id, patient)
    visit = find_visit(appointment_id)
    if not certified_today(author, patient, visit.location):
        raise NoteError(
            "Only a practitioner with a current dry-needling certification records needling "
            "sessions."
        )
    gate = course_gate(patient)
    if not gate.allowed:
        raise NoCourse(f"{NoCourse.message} {gate.reason}")
    if not visit.needling or visit.course_id is None or visit.session_number is None:
        raise NotACourseSession()
    session_number = visit.session_number
    if visit.state not in (VisitState.BOOKED, VisitState.ATTENDED):
        raise NoteError(
            f"Session {session_number} was {visit.state}: a session note records a session "
            "that takes place."
        )
    if (now or timezone.now()) < visit.starts_at:
        raise SessionNotStarted(
            f"Session {session_number} starts {when_session_starts(visit)}: its note can be "
            "written from then."
        )
    assessment = AssessmentNote.objects.get(pk=gate.prescription.assessment_id)
    notes = SessionNote.objects.filter(assessment=assessment)
    draft = notes.filter(
        author=author, signed_at__isnull=True, appointment_id=appointment_id
    ).first()
    if draft is not None:
        return draft
    taken = notes.filter(session_number=session_number).select_related("author__user").first()
    if taken is not None:
        raise NoteError(f"Session {session_number} already has a note, by {taken.author.name}.")
    note = SessionNote(
        patient=patient,
        author=author,
        assessment=assessment,
        session_number=session_number,
        appointment_id=appointment_id,
        location=location or visit.location,
        performed_at=visit.starts_at,
    )
    try:
        with transaction.atomic():
            note.save()
    except IntegrityError as error:
        if _same_patient_refusal(error):
            raise NotThePatientsVisit() from error
        if _not_a_session_refusal(error):
            raise NotACourseSession() from error
        raise NoteError(f"Session {session_number} already has a note.") from None
    return note


def certified_today(author: Practitioner, patient: Patient, location: Location | None) -> bool:
    """Whether `author` holds a dry-needling certification current today on the clock of the
    session's location (else the patient's): a certification lasts to the end of its last
    day there, and every evening the server's UTC date is already the next day."""
    return author.is_certified_on(timezone.localdate(timezone=patient_zone(patient, location)))


def when_session_starts(visit: Visit) -> str:
    """'Tue 22 Jun 10:00 AM': when a session starts, at its location."""
    local = timezone.localtime(visit.starts_at, visit.location.zone)
    return dateformat.format(local, "D j M g:i A")


@transaction.atomic
def save_note_draft(
    *, note: SignedNote, author: Practitioner, content: Mapping[str, Any], seen_revision: int
) -> SignedNote:
    """Save the author's changes to a draft note. A page opened at an older revision (another
    tab, another window) is refused with `NoteChangedElsewhere`, never silently applied."""
    locked = _lock(note)
    if locked.is_signed:
        raise NoteLocked(note=locked)
    if locked.author_id != author.pk:
        raise NotTheAuthor(f"Only the note's author, {locked.author.name}, can change it.")
    if locked.revision != seen_revision:
        raise NoteChangedElsewhere(note=locked)
    for name in (*locked.CLINICAL_FIELDS, "location"):
        if name in content:
            setattr(locked, name, content[name])
    locked.revision += 1
    locked.save()
    return locked


def signing_problems(
    note: SignedNote, state: SignedNote | None = None, *, lock_visit: bool = False
) -> dict[str, str]:
    """What the note still lacks before it can be signed: {field: message}. `state` is the
    content to check when it is not the note's own (an amendment's result). `lock_visit`:
    the visit the note records is locked until the transaction ends, so that it cannot be
    marked missed or cancelled between this check and the signature (signing does it)."""
    current = state or (note.current() if note.is_signed else note)
    if isinstance(note, AssessmentNote):
        signed = note.session_notes.filter(signed_at__isnull=False)
        last = max(signed.values_list("session_number", flat=True), default=0)
        problems = current.signing_problems(flags=current_flags(note.patient), last_session=last)
    else:
        problems = current.signing_problems(
            planned_sessions=note.assessment.current().planned_sessions
        )
        performed = current.performed_at
        zone = patient_zone(note.patient, note.location)
        if performed and not note.author.is_certified_on(timezone.localdate(performed, zone)):
            problems["performed_at"] = (
                f"{note.author.name} had no current dry-needling certification on that date."
            )
    if state is None and note.appointment_id:
        problems.update(_visit_not_held(note, lock=lock_visit))
    return problems


def _visit_not_held(note: SignedNote, *, lock: bool) -> dict[str, str]:
    """The note records a visit that the schedule says did not take place (the patient did
    not come, or it was cancelled): a signed note would record care never given. (Booking
    refuses the other order: a visit a signed note records is not marked missed.)"""
    visit = find_visit(note.appointment_id, lock=lock)
    if visit is None:
        return {}
    if isinstance(note, SessionNote) and note.performed_at < visit.starts_at:
        return _session_moved(note, visit)
    if visit.state not in (VisitState.MISSED, VisitState.CANCELLED):
        return {}
    if isinstance(note, AssessmentNote):
        return {
            "appointment": f"The assessment visit was {visit.state}: an assessment note records "
            "a visit that takes place. Discard this draft, and write the assessment from the "
            "visit booked again."
        }
    # Started once the session began, then the patient did not come (or it was cancelled):
    # it would also keep its number from the session booked again.
    return {
        "session_number": f"Session {note.session_number} was {visit.state}: a session note "
        "records a session that takes place. Discard this draft; the session booked again "
        "gets its own."
    }


def _session_moved(note: SessionNote, visit: Visit) -> dict[str, str]:
    """The session was moved later after its note was started (the patient came late, or it
    was booked again for another day): the note would be dated before the session it records
    (PostgreSQL refuses that too: treatment_note_not_before_its_session)."""
    when = when_session_starts(visit)
    if timezone.now() < visit.starts_at:
        return {
            "performed_at": f"Session {note.session_number} was moved to {when}: its note is "
            "signed once the session has taken place (keep this draft for it, or discard it)."
        }
    return {
        "performed_at": f"Session {note.session_number} now starts {when} (it was moved): "
        "date the note from then."
    }


@transaction.atomic
def sign_note(
    *, note: SignedNote, author: Practitioner, password: str, seen_revision: int
) -> SignedNote:
    """The author signs the note as they last saw it, by entering their password again: its
    fingerprint is stored and the database locks the row for good."""
    if isinstance(note, SessionNote):
        # The plan it is checked against, held until the signature is written: an amendment
        # shortening the plan meanwhile waits, then sees this session recorded (and refuses to
        # go below it), or this signature waits and sees the shorter plan. Taken first, as an
        # amendment takes it first (before the author's row both lock).
        lock_assessment(note.assessment_id)
    locked = _lock(note)
    if locked.is_signed:
        raise NoteLocked("This note is already signed.", note=locked)
    if locked.author_id != author.pk:
        raise NotTheAuthor(f"Only the note's author, {locked.author.name}, can sign it.")
    if not author.user.check_password(password):
        raise WrongPassword(note=locked)
    if locked.revision != seen_revision:
        raise NoteChangedElsewhere(
            "The note was changed after you opened this page. Read it again, then sign.",
            note=locked,
        )
    problems = signing_problems(locked, lock_visit=True)
    if problems:
        raise NoteIncomplete(note=locked, problems=problems)
    locked.signed_at = timezone.now()
    locked.fingerprint = locked.compute_fingerprint()
    locked.save()
    return locked


@transaction.atomic
def amend_note(
    *,
    note: SignedNote,
    author: Practitioner,
    password: str,
    reason: str,
    content: Mapping[str, Any],
    seen_amendments: int,
    addendum: str = "",
) -> Amendment:
    """Append a signed amendment to a signed note: the fields whose value differs from the
    note's current state, why, and an optional addendum. The amended note must still be
    complete; its signature chains to the note's and the previous amendments'.
    `seen_amendments` is how many amendments the note had when the page was opened: if
    another was added since, `content` would silently undo it, so `NoteChangedElsewhere`."""
    locked = _lock(note)
    if not locked.is_signed:
        raise NoteError("This note is still a draft: change it directly, then sign it.")
    if not author.user.check_password(password):
        raise WrongPassword("That is not your password. Nothing was amended.", note=locked)
    previous = list(locked.amendments.order_by("number"))
    if len(previous) != seen_amendments:
        raise NoteChangedElsewhere(
            "This note was amended by someone else after you opened this page; nothing was "
            "amended. The form now shows the note as it stands: make your change again.",
            note=locked,
        )
    if not reason.strip():
        raise NoteError("Say why you amend the note.", problems={"reason": "Say why."})
    before = locked.current_content()
    changes = {}
    for name in locked.CLINICAL_FIELDS:
        if name in content:
            value = jsonable(content[name])
            if value != before[name]:
                changes[name] = {"from": before[name], "to": value}
    if not changes and not addendum.strip():
        raise NoteError("Nothing to amend: change a field or write an addendum.")
    amended = locked.current()
    for name, change in changes.items():
        setattr(amended, name, locked._meta.get_field(name).to_python(change["to"]))
    problems = signing_problems(locked, amended)
    if problems:
        raise NoteIncomplete(
            "The amended note would be incomplete: complete the parts listed.",
            note=locked,
            problems=problems,
        )
    amendment = locked.amendments.model(
        note=locked,
        author=author,
        number=len(previous) + 1,
        signed_at=timezone.now(),
        reason=reason.strip(),
        changes=changes,
        addendum=addendum.strip(),
    )
    amendment.fingerprint = fingerprint_of(
        amendment.signed_content(
            previous_fingerprint=previous[-1].fingerprint if previous else locked.fingerprint
        )
    )
    amendment.save()
    return amendment


@transaction.atomic
def discard_draft(*, note: SignedNote, author: Practitioner) -> None:
    """The author throws away a draft they started by mistake; signed notes stay forever."""
    locked = _lock(note)
    if locked.is_signed:
        raise NoteLocked("A signed note cannot be discarded.", note=locked)
    if locked.author_id != author.pk:
        raise NotTheAuthor(f"Only the note's author, {locked.author.name}, can discard it.")
    locked.delete()
