"""Workflows of the questionnaire: filling it in, submitting it, signing and publishing consent.

Services take domain objects and keyword arguments, never a request or a form, run in one
transaction and lock the rows they change, so that two tabs or two devices cannot interleave.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.models import Patient, User
from intake.questionnaire import hooks
from intake.questionnaire.models import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    Intake,
    signature_matches,
)
from intake.questionnaire.questions import QUESTION_STEPS, Step
from intake.questionnaire.selectors import suggested_location_id


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
        # Where they last asked to be seen, else where they prefer (the patient confirms it).
        draft.preferred_location_id = suggested_location_id(patient)
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
    hooks.submitted(intake_id=locked.pk, location_id=locked.preferred_location_id, at=now)
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
    counter (then `collected_by` is the staff member who handed over the tablet). Versions
    they have signed already are not signed again (a form sent twice): the signatures made
    are returned, none if there was nothing left to sign."""
    versions = _check_consent(
        patient=patient, consent_version_ids=consent_version_ids, signed_name=signed_name
    )
    # Two sends of one form at once: the second waits here, then finds the first's rows.
    Patient.objects.select_for_update().get(pk=patient.pk)
    signed = set(
        ConsentSignature.objects.filter(patient=patient, version__in=versions).values_list(
            "version_id", flat=True
        )
    )
    versions = [version for version in versions if version.pk not in signed]
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
