"""A patient's health information held by intake, as plain data for a records request
(the booking app adds appointments and renders the whole record as JSON or a page)."""

from __future__ import annotations

from django.db import models

from clinic.models import Patient
from intake.clinical.models import AssessmentNote, OutcomeSurvey, SessionNote, jsonable
from intake.questionnaire.models import ConsentSignature, Intake

# Bookkeeping that says nothing about the patient.
_INTERNAL = {"revision", "step_revisions", "steps_done"}


def _fields(instance: models.Model, *, skip: set[str] = frozenset()) -> dict:
    return {
        field.name: jsonable(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.name not in _INTERNAL | set(skip)
    }


def _note(note, amendments) -> dict:
    return {
        "id": note.pk,
        "author": note.author.name,
        "location": note.location.name if note.location else None,
        "created_at": jsonable(note.created_at),
        "signed_at": jsonable(note.signed_at),
        "fingerprint": note.fingerprint,
        "content": note.content(),
        "amendments": [
            {
                "number": amendment.number,
                "author": amendment.author.name,
                "signed_at": jsonable(amendment.signed_at),
                "reason": amendment.reason,
                "changes": amendment.changes,
                "addendum": amendment.addendum,
                "fingerprint": amendment.fingerprint,
            }
            for amendment in amendments
        ],
    }


def health_record(patient: Patient) -> dict:
    """Every questionnaire (drafts and corrections included), consent signature, assessment
    and session note of `patient`, with amendments, and every survey (corrected answers
    included) — in a fixed number of queries."""
    intakes = Intake.objects.filter(patient=patient).order_by("created_at")
    signatures = (
        ConsentSignature.objects.filter(patient=patient)
        .select_related("version__document")
        .order_by("signed_at")
    )
    # A note is part of the record once its author has signed it; a draft is still being
    # written and can change, so it is not released.
    assessments = (
        AssessmentNote.objects.filter(patient=patient, signed_at__isnull=False)
        .select_related("author__user", "location")
        .prefetch_related("amendments__author__user")
        .order_by("created_at")
    )
    sessions = (
        SessionNote.objects.filter(patient=patient, signed_at__isnull=False)
        .select_related("author__user", "location")
        .prefetch_related("amendments__author__user")
        .order_by("created_at")
    )
    checkins = (
        OutcomeSurvey.objects.filter(patient=patient)
        .select_related("response__by")
        .order_by("reported_at", "id")
    )
    return {
        "questionnaires": [
            _fields(intake, skip={"patient", "started_by", "submitted_by"}) for intake in intakes
        ],
        "consent_signatures": [
            {
                "document": signature.version.document.title,
                "version": signature.version.number,
                "signed_name": signature.signed_name,
                "signed_at": jsonable(signature.signed_at),
                "method": signature.get_method_display(),
            }
            for signature in signatures
        ],
        "assessments": [_note(note, note.amendments_in_order()) for note in assessments],
        "session_notes": [_note(note, note.amendments_in_order()) for note in sessions],
        "checkins": [
            {
                **_fields(checkin, skip={"patient", "submitted_by", "collected_by"}),
                "kind": checkin.get_kind_display(),
                "channel": checkin.get_channel_display(),
                "response": {
                    "by": checkin.response.by.full_name,
                    "at": jsonable(checkin.response.at),
                    "note": checkin.response.note,
                }
                if hasattr(checkin, "response")
                else None,
            }
            for checkin in checkins
        ],
    }
