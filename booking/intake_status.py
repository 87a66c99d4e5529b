"""What booking asks intake about patients for the front desk: whether their questionnaire is
in, whether they wait for a practitioner's review, whether their consent is current — and
where intake's pages for a patient are.

Booking's one reader of intake's overview and consent (`intake.selectors.intake_overview`,
`consent_is_current`) and of the `intake:` pages it links to, so that tests can replace
intake's answers in one place. (The course gate is asked in `booking.gates`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from clinic.models import Patient
from intake import selectors as intake

IntakeOverview = intake.IntakeOverview


def intake_overview(patient_ids: Iterable[int]) -> dict[int, IntakeOverview]:
    """{patient id: overview} for every patient asked about, in a fixed number of queries."""
    return intake.intake_overview(list(patient_ids))


def consent_is_current(patient: Patient) -> bool:
    """Whether `patient` signed the current version of every consent document."""
    return intake.consent_is_current(patient)


def intake_url(name: str, patient_pk: int, **query) -> str | None:
    """The URL of intake's page `name` for a patient (`counter_consent`, `patient_chart`,
    `assessment_start`, `session_note_start`), or None if intake has no such page."""
    try:
        url = reverse(f"intake:{name}", args=[patient_pk])
    except NoReverseMatch:
        return None
    query = {key: value for key, value in query.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url
