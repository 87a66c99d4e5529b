"""A patient's pain chart across their course: the pain they reported over time, the sessions
and the adverse events recorded at them — as data (`pain_trajectory`) and as the geometry of a
server-drawn SVG chart (`chart_geometry`), with no chart library and no script.

The baseline is the questionnaire the course was prescribed from (else the current one);
each point after it is a survey that asks the two pain scales (before a session, at the end
of the course, at the follow-ups). Corrections replace the answer they correct, at the time of
the first answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from clinic.models import Patient
from intake.clinical.models import (
    PAIN_KINDS,
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SurveyKind,
)
from intake.questionnaire.models import Intake
from intake.zones import patient_zone


@dataclass(frozen=True)
class PainPoint:
    at: dt.datetime
    label: str  # "Questionnaire", "Before session 3", "4-week follow-up"...
    first_steps: int
    average: int
    is_baseline: bool = False


@dataclass(frozen=True)
class SessionMark:
    at: dt.datetime
    number: int
    adverse_events: tuple[str, ...] = ()  # in words; empty when none was recorded


@dataclass
class PainTrajectory:
    points: list[PainPoint] = field(default_factory=list)
    sessions: list[SessionMark] = field(default_factory=list)

    @property
    def baseline(self) -> PainPoint | None:
        return self.points[0] if self.points and self.points[0].is_baseline else None

    @property
    def latest(self) -> PainPoint | None:
        return self.points[-1] if self.points else None

    @property
    def first_step_change(self) -> int | None:
        """Latest first-step pain minus the baseline's (negative: better)."""
        if self.baseline is None or self.latest is None or self.latest.is_baseline:
            return None
        return self.latest.first_steps - self.baseline.first_steps

    @property
    def has_data(self) -> bool:
        return bool(self.points)


def _label(checkin: OutcomeSurvey) -> str:
    if checkin.kind == SurveyKind.BEFORE_SESSION:
        return f"Before session {checkin.session_number}"
    return SurveyKind(checkin.kind).label


def pain_trajectory(patient: Patient) -> PainTrajectory:
    """The patient's pain over time since the baseline, the sessions recorded and their
    adverse events (signed notes, amendments applied). Four queries."""
    assessment = (
        AssessmentNote.objects.filter(patient=patient, signed_at__isnull=False)
        .select_related("intake")
        .order_by("-signed_at", "-pk")
        .first()
    )
    intake = assessment.intake if assessment and assessment.intake_id else None
    if intake is None:
        intake = Intake.objects.current_submissions().filter(patient=patient).first()
    trajectory = PainTrajectory()
    since = None
    if intake is not None and intake.pain_first_steps is not None:
        since = intake.submitted_at
        trajectory.points.append(
            PainPoint(
                at=intake.submitted_at,
                label="Questionnaire (baseline)",
                first_steps=intake.pain_first_steps,
                average=intake.pain_average if intake.pain_average is not None else 0,
                is_baseline=True,
            )
        )
    checkins = OutcomeSurvey.objects.current().filter(patient=patient, kind__in=PAIN_KINDS)
    if since is not None:
        checkins = checkins.filter(reported_at__gte=since)
    trajectory.points += [
        PainPoint(
            at=checkin.reported_at,
            label=_label(checkin),
            first_steps=checkin.pain_first_steps,
            average=checkin.pain_average,
        )
        for checkin in checkins.order_by("reported_at", "id")
    ]
    notes = SessionNote.objects.filter(patient=patient, signed_at__isnull=False)
    if assessment is not None:
        notes = notes.filter(assessment=assessment)
    for note in notes.prefetch_related("amendments").order_by("performed_at", "session_number"):
        current = note.current()
        trajectory.sessions.append(
            SessionMark(
                at=current.performed_at,
                number=current.session_number,
                adverse_events=tuple(current.adverse_event_labels),
            )
        )
    return trajectory


# --- The chart's geometry ----------------------------------------------------------------------

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 112, 16, 64  # margins: axis labels left, line labels right


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    value: int
    label: str

    @property
    def square_x(self) -> float:  # the corner of a square marker centred on the point
        return round(self.x - 4, 1)

    @property
    def square_y(self) -> float:
        return round(self.y - 4, 1)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    adverse: str = ""  # words for the adverse events at this session ("" if none)


@dataclass
class ChartGeometry:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    y_ticks: list[tuple[float, int]]
    first_steps: str  # polyline points
    average: str
    first_step_markers: list[Marker]
    average_markers: list[Marker]
    sessions: list[Tick]
    dates: list[Tick]
    first_steps_label_y: float
    average_label_y: float
    description: str

    @property
    def y_label_x(self) -> int:
        return self.plot_left - 8

    @property
    def line_label_x(self) -> int:
        return self.plot_right + 8

    @property
    def session_label_y(self) -> int:
        return self.plot_bottom + 16

    @property
    def adverse_y(self) -> int:
        return self.plot_bottom + 30

    @property
    def date_label_y(self) -> int:
        return self.plot_bottom + 52


def _ordinal_day(moment: dt.datetime, zone) -> float:
    return timezone.localtime(moment, zone).timestamp() / 86400


def chart_geometry(
    trajectory: PainTrajectory, *, zone=None, patient: Patient | None = None
) -> ChartGeometry:
    """Where everything goes in the SVG: x is time (days), y is pain 0–10 (0 at the bottom).
    `zone` (or the patient's) decides the dates written under the axis."""
    zone = zone or (patient_zone(patient) if patient else timezone.get_current_timezone())
    times = [p.at for p in trajectory.points] + [s.at for s in trajectory.sessions]
    plot_left, plot_right = LEFT, WIDTH - RIGHT
    plot_top, plot_bottom = TOP, HEIGHT - BOTTOM
    if times:
        start, end = _ordinal_day(min(times), zone), _ordinal_day(max(times), zone)
    else:
        start = end = 0.0
    if end - start < 7:  # a single point or a few days: give the axis a week
        end = start + 7

    def x(moment: dt.datetime) -> float:
        day = _ordinal_day(moment, zone)
        return round(plot_left + (day - start) / (end - start) * (plot_right - plot_left), 1)

    def y(pain: int) -> float:
        return round(plot_bottom - pain / 10 * (plot_bottom - plot_top), 1)

    first = [Marker(x(p.at), y(p.first_steps), p.first_steps, p.label) for p in trajectory.points]
    average = [Marker(x(p.at), y(p.average), p.average, p.label) for p in trajectory.points]
    sessions = [
        Tick(x(s.at), f"S{s.number}", ", ".join(s.adverse_events)) for s in trajectory.sessions
    ]
    dates = []
    if times:
        first_day = timezone.localtime(min(times), zone).date()
        last_day = timezone.localtime(max(times), zone).date()
        step = max(7, ((last_day - first_day).days // 5 // 7 + 1) * 7)
        day = first_day
        while day <= last_day:
            moment = dt.datetime.combine(day, dt.time(12), tzinfo=zone)
            dates.append(Tick(x(moment), f"{day:%-d %b}"))
            day += dt.timedelta(days=step)
    label_gap = 14  # keep the two end labels apart when the lines end close together
    first_end = first[-1].y if first else plot_bottom
    average_end = average[-1].y if average else plot_bottom
    if abs(first_end - average_end) < label_gap:
        if first_end <= average_end:
            average_end = first_end + label_gap
        else:
            first_end = average_end + label_gap
    return ChartGeometry(
        width=WIDTH,
        height=HEIGHT,
        plot_left=plot_left,
        plot_right=plot_right,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        y_ticks=[(y(n), n) for n in range(0, 11, 2)],
        first_steps=" ".join(f"{m.x},{m.y}" for m in first),
        average=" ".join(f"{m.x},{m.y}" for m in average),
        first_step_markers=first,
        average_markers=average,
        sessions=sessions,
        dates=dates,
        first_steps_label_y=first_end + 4,
        average_label_y=average_end + 4,
        description=describe_trajectory(trajectory, zone),
    )


def describe_trajectory(trajectory: PainTrajectory, zone) -> str:
    """The chart in one or two sentences, for its <desc> (screen readers)."""
    if not trajectory.points:
        return "No pain scores reported yet."
    first, last = trajectory.points[0], trajectory.points[-1]
    when = lambda p: f"{timezone.localtime(p.at, zone):%-d %B %Y}"  # noqa: E731
    text = (
        f"First-step pain went from {first.first_steps} ({first.label}, {when(first)}) to "
        f"{last.first_steps} ({last.label}, {when(last)}); average pain from {first.average} "
        f"to {last.average}. {len(trajectory.points)} reports"
    )
    text += f", {len(trajectory.sessions)} sessions recorded" if trajectory.sessions else ""
    adverse = [s for s in trajectory.sessions if s.adverse_events]
    if adverse:
        text += "; adverse events at " + "; ".join(
            f"session {s.number} ({', '.join(s.adverse_events).lower()})" for s in adverse
        )
    return text + "."
