"""Workflows of intake: filling in the questionnaire, submitting it, signing consent.

Services take domain objects and keyword arguments, never a request or a form, run in one
transaction and lock the rows they change, so that two tabs or two devices cannot interleave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import Location, Patient, Practitioner, User
from intake.models import (
    CHECKIN_QUESTIONS,
    MAX_GOALS,
    SESSION_KINDS,
    AfterCareResponse,
    Amendment,
    AssessmentNote,
    CheckIn,
    CheckInKind,
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    Intake,
    SignedNote,
    TreatmentNote,
    fingerprint_of,
    jsonable,
    signature_matches,
)
from intake.questionnaire import QUESTION_STEPS, Step
from intake.selectors import CheckInSubject, find_visit


class IntakeError(Exception):
    """A request the questionnaire refuses; `message` says why, in the patient's words."""

    message = "This could not be done."

    def __init__(self, message: str | None = None, *, intake: Intake | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.intake = intake


class AlreadySubmitted(IntakeError):
    message = "This questionnaire has already been submitted; your answers are safe."


class ChangedElsewhere(IntakeError):
    message = (
        "These answers were changed in another tab or on another device after this page was "
        "opened. The newer answers are shown; check them and save again."
    )


class ConsentChanged(IntakeError):
    message = (
        "The consent text was updated while you were filling in the form. Please read the "
        "new version below and sign again. Your answers are saved."
    )


class ConsentNotPublished(IntakeError):
    message = (
        "The clinic has not published its consent forms yet, so the questionnaire cannot be "
        "signed today. Your answers are saved; please phone the clinic."
    )


class SignatureMismatch(IntakeError):
    message = "The name you typed does not match the name on file."


# Contact answers that are copied to the patient's record when the intake is submitted.
CONTACT_FIELDS = ("phone", "emergency_contact_name", "emergency_contact_phone")
# Columns about the filling-in itself, not the patient's answers: a correction copies every
# other column from the submission it corrects.
_BOOKKEEPING_FIELDS = {
    "id",
    "patient",
    "status",
    "supersedes",
    "started_by",
    "submitted_by",
    "created_at",
    "updated_at",
    "submitted_at",
    "superseded_at",
    "revision",
    "step_revisions",
    "steps_done",
    "read_back_to_patient",
}


@transaction.atomic
def start_intake(*, patient: Patient, by: User) -> Intake:
    """The patient's draft: the one in progress if there is one; otherwise a new one, with
    the answers of the current submission when it corrects one, or the contact details on
    file when it is the first."""
    draft = Intake.objects.drafts().filter(patient=patient).first()
    if draft is not None:
        return draft
    current = Intake.objects.current_submissions().filter(patient=patient).first()
    draft = Intake(patient=patient, started_by=by, supersedes=current)
    if current is not None:
        for field in Intake._meta.concrete_fields:
            if field.name not in _BOOKKEEPING_FIELDS:
                setattr(draft, field.attname, getattr(current, field.attname))
        draft.steps_done = list(current.steps_done)
    else:
        draft.phone = patient.phone
        draft.email = patient.email
        draft.emergency_contact_name = patient.emergency_contact_name
        draft.emergency_contact_phone = patient.emergency_contact_phone
        draft.preferred_location = patient.preferred_location
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:
        # Another tab started one a moment ago (intake_one_draft_per_patient): use it.
        return Intake.objects.drafts().get(patient=patient)
    return draft


@transaction.atomic
def save_intake_step(
    *,
    intake: Intake,
    step: Step,
    answers: Mapping[str, Any],
    seen_revision: int,
    complete: bool,
) -> Intake:
    """Save one step's answers to the draft. `seen_revision` is the draft's revision when the
    page was opened: if this step was saved since (another tab, another device), nothing is
    written and `ChangedElsewhere` says so. `complete` records the step as done."""
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if not locked.is_draft:
        raise AlreadySubmitted(intake=locked)
    if locked.step_revisions.get(step.slug, 0) > seen_revision:
        raise ChangedElsewhere(intake=locked)
    for name in step.fields:
        if name in answers:
            setattr(locked, name, answers[name])
    locked.revision += 1
    locked.step_revisions = {**locked.step_revisions, step.slug: locked.revision}
    done = [slug for slug in locked.steps_done if slug != step.slug]
    if complete:
        done.append(step.slug)
    locked.steps_done = [s.slug for s in QUESTION_STEPS if s.slug in done]
    locked.save()
    return locked


@transaction.atomic
def submit_intake(
    *,
    intake: Intake,
    by: User,
    seen_revision: int,
    consent_version_ids: Iterable[int] = (),
    signed_name: str = "",
    read_back_to_patient: bool = False,
) -> Intake:
    """Submit the draft: it becomes read-only and replaces the current submission, which is
    kept as superseded. A patient signs the current consent versions by typing their name;
    staff entering answers on the patient's behalf confirm they read them back, and the
    patient signs consent at the counter.

    The caller has checked that every step is complete."""
    locked = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
    if not locked.is_draft:
        raise AlreadySubmitted(intake=locked)
    if locked.revision != seen_revision:
        raise ChangedElsewhere(
            "Your answers were changed in another tab or on another device after this page "
            "was opened. Check them below, then sign and submit again.",
            intake=locked,
        )
    patient = locked.patient
    on_behalf = by.pk != getattr(patient, "user_id", None)
    versions: list[ConsentVersion] = []
    if on_behalf:
        if not read_back_to_patient:
            raise IntakeError(
                "Confirm that you read the answers back to the patient.", intake=locked
            )
    else:
        versions = _check_consent(
            patient=patient, consent_version_ids=consent_version_ids, signed_name=signed_name
        )

    now = timezone.now()
    previous = (
        Intake.objects.select_for_update().current_submissions().filter(patient=patient).first()
    )
    if previous is not None:
        # Only the status moves; the answers of the old submission stay as they were.
        Intake.objects.filter(pk=previous.pk).update(
            status=Intake.Status.SUPERSEDED, superseded_at=now
        )
        locked.supersedes = previous
    locked.status = Intake.Status.SUBMITTED
    locked.submitted_at = now
    locked.submitted_by = by
    locked.read_back_to_patient = on_behalf and read_back_to_patient
    locked.save()

    for field in CONTACT_FIELDS:
        setattr(patient, field, getattr(locked, field))
    if patient.user_id is None and locked.email:
        patient.email = locked.email
    if locked.preferred_location_id:
        patient.preferred_location_id = locked.preferred_location_id
        patient.locations.add(locked.preferred_location_id)
    patient.save()

    ConsentSignature.objects.bulk_create(
        ConsentSignature(
            patient=patient,
            version=version,
            signed_name=signed_name.strip(),
            signed_at=now,
            method=ConsentSignature.Method.ONLINE,
            intake=locked,
        )
        for version in versions
    )
    return locked


@transaction.atomic
def sign_consent(
    *,
    patient: Patient,
    consent_version_ids: Iterable[int],
    signed_name: str,
    collected_by: User | None = None,
) -> list[ConsentSignature]:
    """The patient signs the current version of every consent document, online or at the
    counter (then `collected_by` is the staff member who handed over the tablet)."""
    versions = _check_consent(
        patient=patient, consent_version_ids=consent_version_ids, signed_name=signed_name
    )
    now = timezone.now()
    return ConsentSignature.objects.bulk_create(
        ConsentSignature(
            patient=patient,
            version=version,
            signed_name=signed_name.strip(),
            signed_at=now,
            method=ConsentSignature.Method.COUNTER
            if collected_by is not None
            else ConsentSignature.Method.ONLINE,
            collected_by=collected_by,
        )
        for version in versions
    )


def _check_consent(
    *, patient: Patient, consent_version_ids: Iterable[int], signed_name: str
) -> list[ConsentVersion]:
    """The versions being signed, if they are still the current ones and the typed name
    matches the one on file."""
    current = list(ConsentVersion.objects.current())
    if not current:
        # Submitting would record answers with no informed consent behind them.
        raise ConsentNotPublished()
    if {v.pk for v in current} != set(consent_version_ids):
        raise ConsentChanged()
    if not signature_matches(signed_name, patient):
        raise SignatureMismatch()
    return current


@transaction.atomic
def publish_consent_version(*, version: ConsentVersion, by: User) -> ConsentVersion:
    """Put a new wording in force. Patients who signed an older one are asked to sign again."""
    locked = ConsentVersion.objects.select_for_update().get(pk=version.pk)
    if locked.is_published:
        return locked
    newer = ConsentVersion.objects.published().filter(
        document_id=locked.document_id, number__gt=locked.number
    )
    if newer.exists():
        raise IntakeError("A later version of this document is already published.")
    locked.published_at = timezone.now()
    locked.published_by = by
    locked.save(update_fields=["published_at", "published_by"])
    return locked


@transaction.atomic
def next_consent_version(*, document: ConsentDocument, body: str) -> ConsentVersion:
    """A new, unpublished wording of `document`, numbered after the last one."""
    ConsentDocument.objects.select_for_update().get(pk=document.pk)
    last = document.versions.order_by("-number").values_list("number", flat=True).first()
    return ConsentVersion.objects.create(document=document, number=(last or 0) + 1, body=body)


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


class NotACourseSession(NoteError):
    message = (
        "That appointment is not a dry-needling session of the course this patient's "
        "assessment prescribed: the note was not started. Start it from a session of that "
        "course, or from their chart."
    )


def _not_a_session_refusal(error: IntegrityError) -> bool:
    """Whether PostgreSQL refused a session note for recording a visit that is not a session
    of the course its assessment prescribed (intake migration 0008)."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    return name == "treatment_note_appointment_is_a_session_of_the_course"


def _same_patient_refusal(error: IntegrityError) -> bool:
    """Whether PostgreSQL refused a record for naming another patient's visit (a race with
    the check above, or a caller that skipped it)."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", "") or ""
    return name.endswith("_is_the_patients")


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
def start_treatment_note(
    *,
    patient: Patient,
    author: Practitioner,
    appointment_id: int | None = None,
    session_number: int | None = None,
    location: Location | None = None,
) -> TreatmentNote:
    """The author's draft note of one session of the patient's prescribed course: the one in
    progress for that appointment or session if there is one, otherwise a new one numbered
    after the last."""
    from intake.selectors import course_gate

    if not author.is_certified_on(timezone.localdate()):
        raise NoteError(
            "Only a practitioner with a current dry-needling certification records needling "
            "sessions."
        )
    _check_visit_is_the_patients(appointment_id, patient)
    gate = course_gate(patient)
    if not gate.allowed:
        raise NoCourse(f"{NoCourse.message} {gate.reason}")
    assessment = AssessmentNote.objects.get(pk=gate.prescription.assessment_id)
    notes = TreatmentNote.objects.filter(assessment=assessment)
    drafts = notes.filter(author=author, signed_at__isnull=True)
    if appointment_id:
        drafts = drafts.filter(appointment_id=appointment_id)
    if session_number:
        drafts = drafts.filter(session_number=session_number)
    draft = drafts.order_by("session_number").first()
    if draft is not None:
        return draft
    if session_number is None:
        last = notes.order_by("-session_number").values_list("session_number", flat=True).first()
        session_number = (last or 0) + 1
    taken = notes.filter(session_number=session_number).select_related("author__user").first()
    if taken is not None:
        raise NoteError(f"Session {session_number} already has a note, by {taken.author.name}.")
    note = TreatmentNote(
        patient=patient,
        author=author,
        assessment=assessment,
        session_number=session_number,
        appointment_id=appointment_id,
        location=location or assessment.location,
        performed_at=_minute(timezone.now()),
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


def signing_problems(note: SignedNote, state: SignedNote | None = None) -> dict[str, str]:
    """What the note still lacks before it can be signed: {field: message}. `state` is the
    content to check when it is not the note's own (an amendment's result)."""
    current = state or (note.current() if note.is_signed else note)
    if isinstance(note, AssessmentNote):
        return current.signing_problems(flags=current_flags(note.patient))
    problems = current.signing_problems(planned_sessions=note.assessment.current().planned_sessions)
    performed = current.performed_at
    if performed and not note.author.is_certified_on(timezone.localdate(performed)):
        problems["performed_at"] = (
            f"{note.author.name} had no current dry-needling certification on that date."
        )
    return problems


@transaction.atomic
def sign_note(
    *, note: SignedNote, author: Practitioner, password: str, seen_revision: int
) -> SignedNote:
    """The author signs the note as they last saw it, by entering their password again: its
    fingerprint is stored and the database locks the row for good."""
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
    problems = signing_problems(locked)
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
    addendum: str = "",
) -> Amendment:
    """Append a signed amendment to a signed note: the fields whose value differs from the
    note's current state, why, and an optional addendum. The amended note must still be
    complete; its signature chains to the note's and the previous amendments'."""
    locked = _lock(note)
    if not locked.is_signed:
        raise NoteError("This note is still a draft: change it directly, then sign it.")
    if not author.user.check_password(password):
        raise WrongPassword("That is not your password. Nothing was amended.", note=locked)
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
    previous = list(locked.amendments.order_by("number"))
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


# --- Outcome check-ins -----------------------------------------------------------------------


class CheckInError(Exception):
    """A check-in that cannot be recorded; `message` says why, in the patient's words."""

    message = "Your answers could not be saved."

    def __init__(self, message: str | None = None, *, answer: CheckIn | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message
        self.answer = answer


class AlreadyAnswered(CheckInError):
    message = (
        "You have already sent these answers; here is what we received. If something is not "
        "right, correct it below: we keep both."
    )


class CheckInClosed(CheckInError):
    message = "This check-in is closed. Please tell your practitioner at your next visit."


@transaction.atomic
def record_checkin(
    *,
    subject: CheckInSubject,
    answers: Mapping[str, Any],
    channel: str,
    by: User | None,
    collected_by: User | None = None,
    corrects: int | None = None,
    now: dt.datetime | None = None,
) -> CheckIn:
    """Record the patient's answers about `subject` (see `intake.selectors.checkin_subject`).

    A first answer is a new row. Answering again is a correction: `corrects` must name the
    current answer the patient saw, and the new row supersedes it (the old one stays). A
    second first answer (a link used twice, two tabs) raises `AlreadyAnswered` with what was
    received, so the page can show it and offer the correction."""
    now = now or timezone.now()
    if not subject.window.is_open(now):
        raise CheckInClosed()
    visit = subject.visit
    kind = subject.kind
    about = (
        {"appointment_id": visit.appointment_id}
        if kind in SESSION_KINDS
        else {"course_id": visit.course_id}
    )
    chain = CheckIn.objects.select_for_update().filter(
        patient_id=visit.patient_id, kind=kind, **about
    )
    current = next(iter(chain.current()), None)
    if current is not None and corrects != current.pk:
        raise AlreadyAnswered(answer=current)
    if current is None and corrects is not None:
        raise CheckInError("The answer you were correcting could not be found; please start again.")
    checkin = CheckIn(
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
    for name in CHECKIN_QUESTIONS[kind]:
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
def respond_to_worry(*, checkin: CheckIn, by: User, note: str) -> AfterCareResponse:
    """A practitioner records what they did about a worrying after-care answer; the answer
    leaves the alert list."""
    if checkin.kind != CheckInKind.AFTER_CARE or not checkin.worrying:
        raise CheckInError("Only a worrying after-care answer needs a response.")
    if not note.strip():
        raise CheckInError("Say what you did (for example: phoned, advised ice, no concern).")
    try:
        with transaction.atomic():
            return AfterCareResponse.objects.create(
                checkin=checkin, by=by, at=timezone.now(), note=note.strip()[:300]
            )
    except IntegrityError:
        raise CheckInError("Someone has already responded to this answer.") from None
