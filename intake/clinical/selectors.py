"""Read-only questions about patients' clinical records, each answered in a fixed number of
queries: whether a course may be booked (`course_gate`, which the booking app relies on), the
chart, unsigned notes, and the outcome surveys with the sessions they are about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from clinic.models import Location, Patient
from intake.clinical.models import (
    COURSE_KINDS,
    FOLLOW_UP_WEEKS,
    SESSION_KINDS,
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SurveyKind,
)
from intake.questionnaire.selectors import flagged_submissions
from intake.zones import patient_zone

# --- What booking reads ----------------------------------------------------------------------


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


def visit_has_signed_note(appointment_id: int) -> bool:
    """Whether a signed assessment or session note records the visit: the patient came."""
    return any(
        model.objects.filter(appointment_id=appointment_id, signed_at__isnull=False).exists()
        for model in (AssessmentNote, SessionNote)
    )


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


# --- Clinical notes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """A patient's clinical notes, in order, and where their course stands: the decision
    (`gate`) and, when it prescribes a course, that course in the calendar."""

    assessments: list[AssessmentNote]
    session_notes: list[SessionNote]
    gate: CourseGate
    course: CourseInCalendar | None = None

    @property
    def sessions_done(self) -> int:
        """Signed session notes of the current course (an earlier course's do not count
        towards this prescription)."""
        if self.gate.prescription is None:
            return 0
        course = self.gate.prescription.assessment_id
        return sum(1 for n in self.session_notes if n.is_signed and n.assessment_id == course)

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
    session_notes = list(
        SessionNote.objects.filter(patient=patient)
        .select_related("author__user", "location")
        .prefetch_related("amendments")
        .order_by("performed_at", "session_number")
    )
    gate = course_gate(patient)
    course = (
        course_in_calendar(patient.pk, gate.prescription.assessment_id)
        if gate.prescription
        else None
    )
    return Chart(assessments, session_notes, gate, course)


def unsigned_notes(practitioner) -> list:
    """The practitioner's drafts, oldest first: what they still have to sign."""
    drafts = [
        *AssessmentNote.objects.filter(author=practitioner, signed_at__isnull=True).select_related(
            "patient"
        ),
        *SessionNote.objects.filter(author=practitioner, signed_at__isnull=True).select_related(
            "patient"
        ),
    ]
    return sorted(drafts, key=lambda note: note.created_at)


# --- Outcome surveys: the sessions they are about (provided by the booking app) ------------


@dataclass(frozen=True)
class Visit:
    """One appointment as surveys need to know it. Booking provides these (intake never
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
    """`provider(patient_ids=..., appointment_ids=..., lock=...)` returns the matching visits
    (either filter may be None); `lock`: their rows are locked until the transaction ends."""
    if provider not in _visit_providers:
        _visit_providers.append(provider)


def visits(
    *,
    patient_ids: Iterable[int] | None = None,
    appointment_ids: Iterable[int] | None = None,
    lock: bool = False,
) -> list[Visit]:
    found: list[Visit] = []
    for provider in _visit_providers:
        found += provider(
            patient_ids=None if patient_ids is None else list(patient_ids),
            appointment_ids=None if appointment_ids is None else list(appointment_ids),
            lock=lock,
        )
    return sorted(found, key=lambda v: (v.starts_at, v.appointment_id))


def find_visit(appointment_id: int, *, lock: bool = False) -> Visit | None:
    found = visits(appointment_ids=[appointment_id], lock=lock)
    return found[0] if found else None


# --- The course a plan prescribes, in the calendar (provided by the booking app) ----------


@dataclass(frozen=True)
class CourseInCalendar:
    """Where the course an assessment prescribes stands in booking's calendar, for the pages
    that show the decision: the page that books it and, once it is booked, its page, its
    sessions and the next one. Booking provides these (intake never imports booking):
    `register_courses(provider)` from its AppConfig.ready()."""

    book_url: str  # booking's page that books the patient's course
    course_url: str | None = None  # the course's page, once booked
    course_id: int | None = None  # the course, once booked
    sessions_planned: int = 0
    next_starts_at: dt.datetime | None = None  # the next session still to come, if any
    next_location: Location | None = None  # where it is (its time zone)

    @property
    def booked(self) -> bool:
        return self.course_url is not None


CourseProvider = Callable[[int, int], CourseInCalendar | None]
_course_providers: list[CourseProvider] = []


def register_courses(provider: CourseProvider) -> None:
    """Booking tells intake where the course prescribed by an assessment stands, so the signed
    note and the chart can offer to book it or show it booked. `provider(patient_id,
    assessment_id)` returns a `CourseInCalendar` (None when it knows nothing of it). Booking
    calls this from its AppConfig.ready()."""
    if provider not in _course_providers:
        _course_providers.append(provider)


def course_in_calendar(patient_id: int, assessment_id: int) -> CourseInCalendar | None:
    """The course that assessment `assessment_id` of the patient prescribes, as booking knows
    it; None when no booking app answers."""
    for provider in _course_providers:
        if found := provider(patient_id, assessment_id):
            return found
    return None


def sessions_to_note(patient: Patient, course: CourseInCalendar | None) -> list[Visit]:
    """The booked course's sessions, in order, that a session note can record (not cancelled
    nor missed): a session note is started from one of them."""
    if course is None or course.course_id is None:
        return []
    return [
        visit
        for visit in visits(patient_ids=[patient.pk])
        if visit.course_id == course.course_id
        and visit.needling
        and visit.state in (VisitState.BOOKED, VisitState.ATTENDED)
    ]


# --- When each survey may be answered (plain functions, no queries) -----------------------

BEFORE_SESSION_OPENS = dt.timedelta(days=3)  # the pre-session survey opens 3 days ahead
AFTER_CARE_CLOSES = dt.timedelta(days=7)  # asked when the session ends, welcome for a week
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


def survey_window(kind: str, visit: Visit, *, last_session: Visit | None = None) -> Window | None:
    """When a survey of `kind` about `visit` may be answered; None when it does not apply.
    For the end-of-course and follow-up questionnaires, `last_session` is the course's end
    (`course_end`) and `visit` any session of the course."""
    if not visit.needling or visit.course_id is None:
        return None
    if kind == SurveyKind.BEFORE_SESSION:
        if visit.state not in (VisitState.BOOKED, VisitState.ATTENDED):
            return None
        return Window(visit.starts_at - BEFORE_SESSION_OPENS, visit.ends_at)
    if kind == SurveyKind.AFTER_CARE:
        if visit.state != VisitState.ATTENDED:
            return None
        return Window(visit.ends_at, visit.ends_at + AFTER_CARE_CLOSES)
    if last_session is None or last_session.course_id != visit.course_id:
        return None
    end = last_session.ends_at
    if kind == SurveyKind.END_OF_COURSE:
        return Window(end, end + END_OF_COURSE_CLOSES)
    weeks = FOLLOW_UP_WEEKS.get(kind)
    if weeks is None:
        return None
    opens = end + dt.timedelta(weeks=weeks)
    return Window(opens, opens + FOLLOW_UP_OPEN_FOR)


@dataclass(frozen=True)
class SurveySubject:
    """What one survey is about: its kind, the session (for a course questionnaire, the
    course's last session), when it may be answered, and the current answer if any."""

    kind: str
    visit: Visit
    window: Window
    answer: OutcomeSurvey | None = None

    @property
    def label(self) -> str:
        if self.kind in SESSION_KINDS:
            return f"{SurveyKind(self.kind).label}: session {self.visit.session_number}"
        return SurveyKind(self.kind).label


def survey_subject(kind: str, visit: Visit, course_visits: list[Visit]) -> SurveySubject | None:
    """The subject of a survey of `kind` about `visit` (with the other sessions of its
    course), or None when such a survey does not apply to it."""
    if kind in SESSION_KINDS:
        window = survey_window(kind, visit)
        return SurveySubject(kind, visit, window) if window else None
    last = course_end(v for v in course_visits if v.course_id == visit.course_id)
    window = survey_window(kind, visit, last_session=last)
    return SurveySubject(kind, last, window) if window else None


def current_answer(kind: str, visit: Visit) -> OutcomeSurvey | None:
    """The patient's current (not corrected) answer of `kind` about the visit or its course."""
    answers = OutcomeSurvey.objects.current().filter(kind=kind, patient_id=visit.patient_id)
    if kind in SESSION_KINDS:
        answers = answers.filter(appointment_id=visit.appointment_id)
    else:
        answers = answers.filter(course_id=visit.course_id)
    return answers.select_related("submitted_by", "collected_by").first()


def surveys_of(patient: Patient, *, now: dt.datetime | None = None) -> list[SurveySubject]:
    """Every survey the patient has been or is asked, with its answer if given: open ones
    (window open now), past ones answered, and those coming soon. Three queries."""
    now = now or timezone.now()
    patient_visits = visits(patient_ids=[patient.pk])
    answers = {
        (a.kind, a.appointment_id if a.kind in SESSION_KINDS else a.course_id): a
        for a in OutcomeSurvey.objects.current().filter(patient=patient)
    }
    subjects: list[SurveySubject] = []
    courses_done: set[int] = set()
    for visit in patient_visits:
        if not visit.needling or visit.course_id is None:
            continue
        for kind in SESSION_KINDS:
            window = survey_window(kind, visit)
            if window is not None:
                answer = answers.get((kind, visit.appointment_id))
                subjects.append(SurveySubject(kind, visit, window, answer))
        if visit.course_id in courses_done:
            continue
        courses_done.add(visit.course_id)
        last = course_end(v for v in patient_visits if v.course_id == visit.course_id)
        if last is None:
            continue
        for kind in COURSE_KINDS:
            window = survey_window(kind, last, last_session=last)
            subjects.append(SurveySubject(kind, last, window, answers.get((kind, last.course_id))))
    return sorted(subjects, key=lambda s: (s.window.opens, s.kind))


def open_surveys(patient: Patient, *, now: dt.datetime | None = None) -> list[SurveySubject]:
    """The surveys the patient can answer now and has not answered yet."""
    now = now or timezone.now()
    return [s for s in surveys_of(patient, now=now) if s.answer is None and s.window.is_open(now)]


# --- Worrying after-care answers: what practitioners must see -------------------------------


def worrying_aftercare(practitioner_ids: Iterable[int]) -> list[OutcomeSurvey]:
    """Current after-care answers saying something worries the patient, about a session with
    one of `practitioner_ids`, that no one has responded to yet — oldest first. One query;
    the booking app's day view reads it too."""
    return list(
        OutcomeSurvey.objects.current()
        .filter(
            kind=SurveyKind.AFTER_CARE,
            worrying=True,
            practitioner_id__in=list(practitioner_ids),
            response__isnull=True,
        )
        .select_related("patient", "location", "practitioner__user")
        .order_by("reported_at", "id")
    )
