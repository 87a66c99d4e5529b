"""Read-only questions other pages and apps ask of intake, each answered in a fixed number of
queries. The booking app relies on `intake_overview`, `consent_is_current` and `course_gate`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from clinic.models import Location, Patient
from intake.clinical.models import (
    COURSE_KINDS,
    FOLLOW_UP_WEEKS,
    SESSION_KINDS,
    AssessmentAmendment,
    AssessmentNote,
    CheckIn,
    CheckInKind,
    TreatmentNote,
)
from intake.questionnaire.models import ConsentSignature, ConsentVersion, Intake
from intake.questionnaire.questions import SCREENING, STEPS
from intake.zones import patient_zone

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


@dataclass(frozen=True)
class Prescription:
    assessment_id: int
    patient_id: int
    practitioner_id: int
    sessions: int  # 4–6
    minutes: int  # 15, 20 or 30
    interval_days: int  # 7 = weekly
    signed_at: datetime


@dataclass(frozen=True)
class CourseGate:
    allowed: bool
    reason: str  # why not, in words the front desk can read ("" when allowed)
    prescription: Prescription | None


def latest_signed_assessment(patient: Patient) -> AssessmentNote | None:
    return (
        AssessmentNote.objects.filter(patient=patient, signed_at__isnull=False)
        .select_related("author__user")
        .prefetch_related("amendments")
        .order_by("-signed_at", "-pk")
        .first()
    )


def course_gate(patient: Patient) -> CourseGate:
    """Whether a dry-needling course may be booked: only when the latest signed state of the
    patient's latest assessment (amendments included) says needling is appropriate with a
    plan, and no screening answer given since waits for review."""
    assessment = latest_signed_assessment(patient)
    if assessment is None:
        waiting = flagged_submissions().filter(patient=patient).first()
        if AssessmentNote.objects.filter(patient=patient, signed_at__isnull=True).exists():
            reason = "The assessment note is not signed yet."
        elif waiting is not None:
            # Not which answers: the reason is shown to the front desk, who book courses
            # (the practitioner reads the answers on the chart).
            reason = "Screening answers wait for practitioner review at the assessment."
        else:
            reason = "No assessment has been signed yet: an initial assessment comes first."
        return CourseGate(False, reason, None)
    when = assessment.last_signed_at
    current = assessment.current()
    local = timezone.localtime(when, patient_zone(patient, assessment.location))
    signed = f"The assessment signed on {local:%-d %B %Y} by {assessment.author.name}"
    if not current.needling_appropriate:
        return CourseGate(False, f"{signed} says dry needling is not appropriate.", None)
    if not (current.planned_sessions and current.session_minutes and current.interval_days):
        return CourseGate(False, f"{signed} has no plan of sessions.", None)
    waiting = flagged_submissions().filter(patient=patient).first()
    if waiting is not None:
        return CourseGate(False, "New screening answers wait for practitioner review.", None)
    return CourseGate(
        True,
        "",
        Prescription(
            assessment_id=assessment.pk,
            patient_id=patient.pk,
            practitioner_id=assessment.author_id,
            sessions=current.planned_sessions,
            minutes=current.session_minutes,
            interval_days=current.interval_days,
            signed_at=when,
        ),
    )


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


# --- Clinical notes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A patient's clinical notes, in order, and where their course stands."""

    assessments: list[AssessmentNote]
    treatment_notes: list[TreatmentNote]
    gate: CourseGate

    @property
    def sessions_done(self) -> int:
        """Signed session notes of the current course (an earlier course's do not count
        towards this prescription)."""
        if self.gate.prescription is None:
            return 0
        course = self.gate.prescription.assessment_id
        return sum(1 for n in self.treatment_notes if n.is_signed and n.assessment_id == course)

    @property
    def course_assessment(self) -> AssessmentNote | None:
        if self.gate.prescription is None:
            return None
        return next(a for a in self.assessments if a.pk == self.gate.prescription.assessment_id)


def chart(patient: Patient) -> Chart:
    assessments = list(
        AssessmentNote.objects.filter(patient=patient)
        .select_related("author__user", "location")
        .prefetch_related("amendments")
        .order_by("-created_at")
    )
    treatment_notes = list(
        TreatmentNote.objects.filter(patient=patient)
        .select_related("author__user", "location")
        .prefetch_related("amendments")
        .order_by("performed_at", "session_number")
    )
    return Chart(assessments, treatment_notes, course_gate(patient))


def unsigned_notes(practitioner) -> list:
    """The practitioner's drafts, oldest first: what they still have to sign."""
    drafts = [
        *AssessmentNote.objects.filter(author=practitioner, signed_at__isnull=True).select_related(
            "patient"
        ),
        *TreatmentNote.objects.filter(author=practitioner, signed_at__isnull=True).select_related(
            "patient"
        ),
    ]
    return sorted(drafts, key=lambda note: note.created_at)


# --- Outcome check-ins: the sessions they are about (provided by the booking app) ------------


@dataclass(frozen=True)
class Visit:
    """One appointment as check-ins need to know it. Booking provides these (intake never
    imports booking): `register_visits(provider)` from its AppConfig.ready()."""

    appointment_id: int
    patient_id: int
    location: Location
    practitioner_id: int
    practitioner_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str  # one of VisitState
    needling: bool  # a dry-needling session
    course_id: int | None = None
    session_number: int | None = None
    sessions_planned: int | None = None


class VisitState:
    BOOKED = "booked"  # still to happen (requested, confirmed or checked in)
    ATTENDED = "attended"
    MISSED = "missed"
    CANCELLED = "cancelled"


VisitProvider = Callable[..., list[Visit]]
_visit_providers: list[VisitProvider] = []


def register_visits(provider: VisitProvider) -> None:
    """`provider(patient_ids=..., appointment_ids=...)` returns the matching visits (either
    filter may be None)."""
    if provider not in _visit_providers:
        _visit_providers.append(provider)


def visits(
    *, patient_ids: Iterable[int] | None = None, appointment_ids: Iterable[int] | None = None
) -> list[Visit]:
    found: list[Visit] = []
    for provider in _visit_providers:
        found += provider(
            patient_ids=None if patient_ids is None else list(patient_ids),
            appointment_ids=None if appointment_ids is None else list(appointment_ids),
        )
    return sorted(found, key=lambda v: (v.starts_at, v.appointment_id))


def find_visit(appointment_id: int) -> Visit | None:
    found = visits(appointment_ids=[appointment_id])
    return found[0] if found else None


# --- When each check-in may be answered (plain functions, no queries) -----------------------

BEFORE_SESSION_OPENS = dt.timedelta(days=3)  # the pre-session check-in opens 3 days ahead
AFTER_CARE_DUE = dt.timedelta(hours=24)  # asked 24–48 hours after the session...
AFTER_CARE_CLOSES = dt.timedelta(days=7)  # ...and still welcome for a week
END_OF_COURSE_CLOSES = dt.timedelta(weeks=4)  # then the 4-week follow-up takes over
FOLLOW_UP_OPEN_FOR = dt.timedelta(weeks=4)


@dataclass(frozen=True)
class Window:
    opens: dt.datetime
    closes: dt.datetime

    def is_open(self, at: dt.datetime) -> bool:
        return self.opens <= at < self.closes


def course_end(course_visits: Iterable[Visit]) -> Visit | None:
    """The last attended session of a finished course (no session of it left booked), or None
    while the course goes on or if no session was attended."""
    course_visits = list(course_visits)
    if any(v.state == VisitState.BOOKED for v in course_visits):
        return None
    attended = [v for v in course_visits if v.state == VisitState.ATTENDED]
    return max(attended, key=lambda v: v.ends_at) if attended else None


def checkin_window(kind: str, visit: Visit, *, last_session: Visit | None = None) -> Window | None:
    """When a check-in of `kind` about `visit` may be answered; None when it does not apply.
    For the end-of-course and follow-up questionnaires, `last_session` is the course's end
    (`course_end`) and `visit` any session of the course."""
    if not visit.needling or visit.course_id is None:
        return None
    if kind == CheckInKind.BEFORE_SESSION:
        if visit.state not in (VisitState.BOOKED, VisitState.ATTENDED):
            return None
        return Window(visit.starts_at - BEFORE_SESSION_OPENS, visit.ends_at)
    if kind == CheckInKind.AFTER_CARE:
        if visit.state != VisitState.ATTENDED:
            return None
        return Window(visit.ends_at, visit.ends_at + AFTER_CARE_CLOSES)
    if last_session is None or last_session.course_id != visit.course_id:
        return None
    end = last_session.ends_at
    if kind == CheckInKind.END_OF_COURSE:
        return Window(end, end + END_OF_COURSE_CLOSES)
    weeks = FOLLOW_UP_WEEKS.get(kind)
    if weeks is None:
        return None
    opens = end + dt.timedelta(weeks=weeks)
    return Window(opens, opens + FOLLOW_UP_OPEN_FOR)


@dataclass(frozen=True)
class CheckInSubject:
    """What one check-in is about: its kind, the session (for a course questionnaire, the
    course's last session), when it may be answered, and the current answer if any."""

    kind: str
    visit: Visit
    window: Window
    answer: CheckIn | None = None

    @property
    def label(self) -> str:
        if self.kind in SESSION_KINDS:
            return f"{CheckInKind(self.kind).label}: session {self.visit.session_number}"
        return CheckInKind(self.kind).label


def checkin_subject(kind: str, visit: Visit, course_visits: list[Visit]) -> CheckInSubject | None:
    """The subject of a check-in of `kind` about `visit` (with the other sessions of its
    course), or None when such a check-in does not apply to it."""
    if kind in SESSION_KINDS:
        window = checkin_window(kind, visit)
        return CheckInSubject(kind, visit, window) if window else None
    last = course_end(v for v in course_visits if v.course_id == visit.course_id)
    window = checkin_window(kind, visit, last_session=last)
    return CheckInSubject(kind, last, window) if window else None


def current_answer(kind: str, visit: Visit) -> CheckIn | None:
    """The patient's current (not corrected) answer of `kind` about the visit or its course."""
    answers = CheckIn.objects.current().filter(kind=kind, patient_id=visit.patient_id)
    if kind in SESSION_KINDS:
        answers = answers.filter(appointment_id=visit.appointment_id)
    else:
        answers = answers.filter(course_id=visit.course_id)
    return answers.select_related("submitted_by", "collected_by").first()


def checkins_of(patient: Patient, *, now: dt.datetime | None = None) -> list[CheckInSubject]:
    """Every check-in the patient has been or is asked, with its answer if given: open ones
    (window open now), past ones answered, and those coming soon. Three queries."""
    now = now or timezone.now()
    patient_visits = visits(patient_ids=[patient.pk])
    answers = {
        (a.kind, a.appointment_id if a.kind in SESSION_KINDS else a.course_id): a
        for a in CheckIn.objects.current().filter(patient=patient)
    }
    subjects: list[CheckInSubject] = []
    courses_done: set[int] = set()
    for visit in patient_visits:
        if not visit.needling or visit.course_id is None:
            continue
        for kind in SESSION_KINDS:
            window = checkin_window(kind, visit)
            if window is not None:
                answer = answers.get((kind, visit.appointment_id))
                subjects.append(CheckInSubject(kind, visit, window, answer))
        if visit.course_id in courses_done:
            continue
        courses_done.add(visit.course_id)
        last = course_end(v for v in patient_visits if v.course_id == visit.course_id)
        if last is None:
            continue
        for kind in COURSE_KINDS:
            window = checkin_window(kind, last, last_session=last)
            subjects.append(CheckInSubject(kind, last, window, answers.get((kind, last.course_id))))
    return sorted(subjects, key=lambda s: (s.window.opens, s.kind))


def open_checkins(patient: Patient, *, now: dt.datetime | None = None) -> list[CheckInSubject]:
    """The check-ins the patient can answer now and has not answered yet."""
    now = now or timezone.now()
    return [s for s in checkins_of(patient, now=now) if s.answer is None and s.window.is_open(now)]


# --- Worrying after-care answers: what practitioners must see -------------------------------


def worrying_aftercare(practitioner_ids: Iterable[int]) -> list[CheckIn]:
    """Current after-care answers saying something worries the patient, about a session with
    one of `practitioner_ids`, that no one has responded to yet — oldest first. One query;
    the booking app's day view reads it too."""
    return list(
        CheckIn.objects.current()
        .filter(
            kind=CheckInKind.AFTER_CARE,
            worrying=True,
            practitioner_id__in=list(practitioner_ids),
            response__isnull=True,
        )
        .select_related("patient", "location", "practitioner__user")
        .order_by("reported_at", "id")
    )
