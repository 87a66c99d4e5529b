"""Read-only questions about patients' questionnaires and consent, each answered in a fixed
number of queries: the booking app relies on `intake_overview` and `consent_is_current`; the
intake list, the home panels and the chart on the rest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from clinic.models import Location, Patient
from intake.clinical.models import (
    AssessmentAmendment,
    AssessmentNote,
)
from intake.questionnaire.models import ConsentSignature, ConsentVersion, Intake
from intake.questionnaire.questions import SCREENING, STEPS

# --- What booking reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeOverview:
    patient_id: int
    submitted: bool  # a current (not superseded) submitted intake exists
    draft_in_progress: bool  # a draft exists and nothing submitted yet
    flagged_for_review: bool  # screening "yes" answers not yet cleared by a signed assessment
    flag_reasons: tuple[str, ...]
    consent_current: bool  # has signed the current version of every consent document


def intake_overview(patient_ids: Iterable[int]) -> dict[int, IntakeOverview]:
    """A fixed number of queries whatever the number of patients; patients with nothing get
    an overview with all False / empty."""
    return {pk: state.overview for pk, state in intake_states(patient_ids).items()}


def consent_is_current(patient: Patient) -> bool:
    """Whether the patient has signed the version in force of every consent document. With
    no consent published at all nobody has consented to anything, so nobody is current."""
    current = [v.pk for v in ConsentVersion.objects.current()]
    signed = ConsentSignature.objects.filter(patient=patient, version_id__in=current)
    return bool(current) and signed.values("version_id").distinct().count() == len(current)


# --- Screening flags and their review --------------------------------------------------------


def flagged_submissions() -> QuerySet[Intake]:
    """Current submissions with a screening "yes" that no practitioner has reviewed since.

    Signing an assessment, or amending one, requires acknowledging every flag of the
    patient's current questionnaire, so any signed after the submission has reviewed it."""
    reviewed_since = Exists(
        AssessmentNote.objects.filter(
            patient=OuterRef("patient"), signed_at__gte=OuterRef("submitted_at")
        )
    ) | Exists(
        AssessmentAmendment.objects.filter(
            note__patient=OuterRef("patient"), signed_at__gte=OuterRef("submitted_at")
        )
    )
    return Intake.objects.current_submissions().with_screening_yes().exclude(reviewed_since)


def waits_for_review(patient: Patient) -> bool:
    """Whether the patient's current questionnaire has a screening "yes" that no practitioner
    has reviewed since it was submitted."""
    return flagged_submissions().filter(patient=patient).exists()


def flagged_for_review() -> Exists:
    """For filtering patients: those whose current submission waits for practitioner review."""
    return Exists(flagged_submissions().filter(patient=OuterRef("pk")))


def has_current_submission() -> Exists:
    return Exists(Intake.objects.current_submissions().filter(patient=OuterRef("pk")))


def has_draft() -> Exists:
    return Exists(Intake.objects.drafts().filter(patient=OuterRef("pk")))


# --- Per-patient state for pages -------------------------------------------------------------


@dataclass(frozen=True)
class IntakeState:
    """Everything list pages show about one patient's intake."""

    patient_id: int
    overview: IntakeOverview
    submission: Intake | None = None
    draft: Intake | None = None
    signed_versions: frozenset[int] = field(default_factory=frozenset)

    @property
    def draft_step(self) -> int | None:
        """The step the draft resumes at (1-based), if there is a draft."""
        return resume_step(self.draft).number if self.draft else None


def resume_step(intake: Intake):
    """The first step not done yet: where the patient picks up again."""
    return next((step for step in STEPS if step.slug not in intake.steps_done), STEPS[-1])


_LIST_FIELDS = (
    "id",
    "patient_id",
    "status",
    "submitted_at",
    "created_at",
    "steps_done",
    "started_by_id",
    *(q.field for q in SCREENING),
)


def intake_states(patient_ids: Iterable[int]) -> dict[int, IntakeState]:
    """Each patient's draft, current submission, review flag and consent, in four queries."""
    ids = set(patient_ids)
    if not ids:
        return {}
    intakes = Intake.objects.filter(
        patient_id__in=ids, status__in=[Intake.Status.DRAFT, Intake.Status.SUBMITTED]
    ).only(*_LIST_FIELDS)
    submissions: dict[int, Intake] = {}
    drafts: dict[int, Intake] = {}
    for intake in intakes:
        (drafts if intake.is_draft else submissions)[intake.patient_id] = intake
    flagged = set(
        flagged_submissions().filter(patient_id__in=ids).values_list("patient_id", flat=True)
    )
    current_versions = {v.pk for v in ConsentVersion.objects.current()}
    signed: dict[int, set[int]] = {}
    for patient_id, version_id in ConsentSignature.objects.filter(
        patient_id__in=ids, version_id__in=current_versions
    ).values_list("patient_id", "version_id"):
        signed.setdefault(patient_id, set()).add(version_id)

    states = {}
    for pk in ids:
        submission, draft = submissions.get(pk), drafts.get(pk)
        is_flagged = pk in flagged
        states[pk] = IntakeState(
            patient_id=pk,
            overview=IntakeOverview(
                patient_id=pk,
                submitted=submission is not None,
                draft_in_progress=draft is not None and submission is None,
                flagged_for_review=is_flagged,
                flag_reasons=submission.flag_reasons if is_flagged else (),
                consent_current=bool(current_versions)
                and current_versions <= signed.get(pk, set()),
            ),
            submission=submission,
            draft=draft,
            signed_versions=frozenset(signed.get(pk, ())),
        )
    return states


# --- Consent ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentStatus:
    version: ConsentVersion
    signed: ConsentSignature | None  # the patient's latest signature of this version
    older: ConsentSignature | None  # their latest signature of an earlier version


def consent_statuses(patient: Patient) -> list[ConsentStatus]:
    """For each consent document in force: whether the patient signed its current version,
    or only an older one."""
    current = list(ConsentVersion.objects.current())
    signatures = list(
        ConsentSignature.objects.filter(patient=patient)
        .select_related("version")
        .order_by("-signed_at")
    )
    statuses = []
    for version in current:
        mine = [s for s in signatures if s.version.document_id == version.document_id]
        statuses.append(
            ConsentStatus(
                version=version,
                signed=next((s for s in mine if s.version_id == version.pk), None),
                older=next((s for s in mine if s.version.number < version.number), None),
            )
        )
    return statuses


# --- Upcoming assessments (provided by the booking app) -------------------------------------

UpcomingAssessments = Callable[[Location, dt.datetime, dt.datetime], dict[int, dt.datetime]]
_upcoming_providers: list[UpcomingAssessments] = []


def register_upcoming_assessments(provider: UpcomingAssessments) -> None:
    """Booking tells intake which patients have an assessment coming up, so the intake list
    can show whose questionnaire is missing before it. `provider(location, start, end)` returns
    {patient_id: appointment start}. Intake never imports booking; booking calls this from
    its AppConfig.ready()."""
    if provider not in _upcoming_providers:
        _upcoming_providers.append(provider)


# --- The appointment page a counter consent returns to (provided by the booking app) --------

AppointmentPage = Callable[[int, int], str | None]
_appointment_page_providers: list[AppointmentPage] = []


def register_appointment_pages(provider: AppointmentPage) -> None:
    """Booking tells intake where an appointment's page is, so the counter consent can send
    the desk back to the check-in it came from. `provider(patient_id, appointment_id)` returns
    the page's address, or None when there is no such appointment of that patient. Booking
    calls this from its AppConfig.ready()."""
    if provider not in _appointment_page_providers:
        _appointment_page_providers.append(provider)


def appointment_page(patient_id: int, appointment_id: int | None) -> str | None:
    """The page of the patient's appointment `appointment_id`, or None (no id, not theirs)."""
    if appointment_id is None:
        return None
    for provider in _appointment_page_providers:
        if url := provider(patient_id, appointment_id):
            return url
    return None


# --- Where the patient last asked to be seen (provided by the booking app) -------------------

LatestRequestLocation = Callable[[int], int | None]
_latest_request_providers: list[LatestRequestLocation] = []


def register_latest_request_location(provider: LatestRequestLocation) -> None:
    """Booking tells intake where the patient's latest appointment request is:
    `provider(patient_id)` returns its location's id, or None. Booking calls this from its
    AppConfig.ready()."""
    if provider not in _latest_request_providers:
        _latest_request_providers.append(provider)


def suggested_location_id(patient: Patient) -> int | None:
    """The answer the questionnaire proposes to "Where would you like to be seen?": the
    location of the patient's latest request, else their preferred location."""
    for provider in _latest_request_providers:
        if (location_id := provider(patient.pk)) is not None:
            return location_id
    return patient.preferred_location_id


@dataclass(frozen=True)
class UpcomingAssessment:
    starts_at: dt.datetime
    location: Location


def upcoming_assessments(
    locations: Iterable[Location], *, days: int = 14
) -> dict[int, UpcomingAssessment] | None:
    """{patient_id: their next assessment} at `locations` in the next `days`, or None when no
    app provides appointments."""
    if not _upcoming_providers:
        return None
    found: dict[int, UpcomingAssessment] = {}
    for location in locations:
        start = location.now()
        end = start + dt.timedelta(days=days)
        for provider in _upcoming_providers:
            for patient_id, starts_at in provider(location, start, end).items():
                if patient_id not in found or starts_at < found[patient_id].starts_at:
                    found[patient_id] = UpcomingAssessment(starts_at, location)
    return found


def intake_list_queryset(
    locations: QuerySet[Location],
    show: str,
    *,
    query: str = "",
    upcoming: dict | None = None,
) -> QuerySet[Patient]:
    """Patients registered at any of `locations`, for one tab of the intake list."""
    registered = Patient.locations.through.objects.filter(
        patient=OuterRef("pk"), location__in=locations
    )
    patients = Patient.objects.filter(Exists(registered))
    for word in query.split():
        patients = patients.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    if show == "review":
        patients = patients.filter(flagged_for_review())
    elif show == "submitted":
        patients = patients.filter(has_current_submission())
    elif show == "draft":
        patients = patients.filter(has_draft()).exclude(has_current_submission())
    elif show == "missing":
        patients = patients.exclude(has_current_submission())
        if upcoming is not None:
            patients = patients.filter(pk__in=list(upcoming))
    return patients.select_related("preferred_location").order_by("last_name", "first_name", "pk")


def intake_counts(locations: QuerySet[Location], *, query: str = "", upcoming=None) -> dict:
    """How many patients each tab of the intake list holds, in one or two queries."""
    counts = intake_list_queryset(locations, "all", query=query).aggregate(
        all=Count("pk"),
        review=Count("pk", filter=flagged_for_review()),
        submitted=Count("pk", filter=has_current_submission()),
        draft=Count("pk", filter=has_draft() & ~has_current_submission()),
    )
    if upcoming is None:
        counts["missing"] = counts["all"] - counts["submitted"]
    else:
        counts["missing"] = intake_list_queryset(
            locations, "missing", query=query, upcoming=upcoming
        ).count()
    return counts
