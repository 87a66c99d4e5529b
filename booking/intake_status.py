"""What booking asks intake about patients: whether their questionnaire is in, whether they
wait for a practitioner's review, whether their consent is current — and where intake's
pages for a patient are.

The only module of the booking app that talks to intake's read-only API
(`intake.selectors.intake_overview` and `consent_is_current`, and the `intake:` URLs), so that
tests can replace it and the pages work whether or not intake's side is deployed yet. Until
intake answers, badges say nothing about intake and check-in is refused: a consent that
cannot be checked is not a consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from clinic.models import Patient

_INTAKE_API = "intake.selectors"


class IntakeOverview(Protocol):
    """The shape of intake's `IntakeOverview` (one per patient)."""

    patient_id: int
    submitted: bool
    draft_in_progress: bool
    flagged_for_review: bool
    flag_reasons: tuple[str, ...]
    consent_current: bool


def _intake_missing(error: ModuleNotFoundError) -> bool:
    return error.name in {"intake", _INTAKE_API}


def intake_overview(patient_ids: Iterable[int]) -> dict[int, IntakeOverview] | None:
    """{patient id: overview} in a fixed number of queries; None when intake cannot tell."""
    try:
        from intake.selectors import intake_overview as overview
    except ModuleNotFoundError as error:
        if _intake_missing(error):
            return None
        raise
    return overview(list(patient_ids))


def consent_is_current(patient: Patient) -> bool | None:
    """Whether `patient` signed the current version of every consent; None when intake cannot
    tell (callers must treat that as "not current")."""
    try:
        from intake.selectors import consent_is_current as is_current
    except ModuleNotFoundError as error:
        if _intake_missing(error):
            return None
        raise
    return is_current(patient)


def intake_url(name: str, patient_pk: int, **query) -> str | None:
    """The URL of intake's page `name` for a patient (`counter_consent`, `patient_chart`,
    `assessment_start`, `session_note_start`), or None while intake has no such page."""
    try:
        url = reverse(f"intake:{name}", args=[patient_pk])
    except NoReverseMatch:
        return None
    query = {key: value for key, value in query.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url
