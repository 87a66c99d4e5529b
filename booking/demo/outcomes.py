"""The demo's outcome surveys and results (issue 8).

- Grace Liu (finished at Largo) answered before each of her six sessions, after two of them,
  at the end of the course and at the 4-week follow-up: her chart shows pain falling.
- Marcus Reid (mid-course at Rockville) answered before his three sessions so far; his fourth
  session's survey is open on his home page.
- Sixteen earlier courses across Leaside, Rockville and Largo, with baselines, session notes
  (a few adverse events) and end-of-course answers, so the manager's dashboard has figures
  beside the articles'; the last of Priya Raman's patients finished yesterday and worries
  about a bruise: the alert waits on the demo practitioner's home page.

Keyed on patients (by name) and on appointments: running it again creates nothing new. Rows
are created directly, with past dates, like the other demo records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from booking.availability import aware
from booking.models import Appointment, AppointmentEvent, Course, Room, Status
from clinic.demo import DemoStory
from clinic.models import Location, Patient, Practitioner, ServiceKind
from intake.clinical.models import (
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SurveyChannel,
    SurveyKind,
)
from intake.questionnaire.models import Intake
from intake.questionnaire.questions import QUESTION_STEPS


def seed_outcomes(story: DemoStory) -> None:
    _grace(story)
    _marcus(story)
    for index, history in enumerate(HISTORY):
        _history_course(story, index, history)


# --- Grace and Marcus --------------------------------------------------------------------------

GRACE_BEFORE = [(7, 5), (6, 5), (5, 4), (4, 3), (3, 3), (2, 2)]
MARCUS_BEFORE = [(7, 5), (6, 5), (6, 4)]


def _sessions(patient: Patient) -> list[Appointment]:
    return list(
        Appointment.objects.filter(patient=patient, course__isnull=False)
        .select_related("location", "course")
        .order_by("session_number")
    )


def _grace(story: DemoStory) -> None:
    grace = story.patients["finished"]
    sessions = [s for s in _sessions(grace) if s.status == Status.COMPLETED]
    for session, (first, average) in zip(sessions, GRACE_BEFORE, strict=False):
        _before(session, first, average)
    for session in sessions[1:3]:
        _after_care(session, soreness="mild", bruising=session.session_number == 2)
    if len(sessions) == 6:
        last = sessions[-1]
        _course_answer(
            last,
            SurveyKind.END_OF_COURSE,
            at=last.ends_at + dt.timedelta(days=1),
            pain=(2, 1),
            improved=(True, True, True),
            recommend=9,
            comments="I can garden again in the mornings.",
        )
        _course_answer(
            last,
            SurveyKind.FOLLOW_UP_4,
            at=min(last.ends_at + dt.timedelta(weeks=4), timezone.now() - dt.timedelta(hours=1)),
            pain=(1, 1),
            improved=(True, True, True),
            recommend=10,
        )


def _marcus(story: DemoStory) -> None:
    marcus = story.patients["mid_course"]
    done = [s for s in _sessions(marcus) if s.status == Status.COMPLETED]
    for session, (first, average) in zip(done, MARCUS_BEFORE, strict=False):
        _before(session, first, average, walking=session.session_number > 1)
    if done:
        _after_care(done[0], soreness="moderate", bruising=False)


def _checkin(session: Appointment, kind: str, at: dt.datetime, **answers) -> OutcomeSurvey | None:
    """One answer, created once (keyed on the session or course and the kind)."""
    about = (
        {"appointment_id": session.pk}
        if kind in (SurveyKind.BEFORE_SESSION, SurveyKind.AFTER_CARE)
        else {"course_id": session.course_id}
    )
    if OutcomeSurvey.objects.filter(kind=kind, **about).exists():
        return None
    return OutcomeSurvey.objects.create(
        patient=session.patient,
        kind=kind,
        channel=answers.pop("channel", SurveyChannel.LINK),
        appointment_id=session.pk,
        course_id=session.course_id,
        session_number=session.session_number if "appointment_id" in about else None,
        location=session.location,
        practitioner_id=session.practitioner_id,
        reported_at=at,
        submitted_at=at,
        submitted_by=session.patient.user,
        **answers,
    )


def _before(session: Appointment, first: int, average: int, *, walking: bool = False) -> None:
    _checkin(
        session,
        SurveyKind.BEFORE_SESSION,
        session.starts_at - dt.timedelta(hours=14),
        pain_first_steps=first,
        pain_average=average,
        walking_normally=walking,
        after_effects="" if session.session_number == 1 else "A little sore for a day.",
    )


def _after_care(session: Appointment, *, soreness: str, bruising: bool, worry: str = "") -> None:
    _checkin(
        session,
        SurveyKind.AFTER_CARE,
        min(session.ends_at + dt.timedelta(hours=26), timezone.now() - dt.timedelta(minutes=10)),
        soreness=soreness,
        bruising=bruising,
        worrying=bool(worry),
        worrying_details=worry,
    )


def _course_answer(
    last: Appointment,
    kind: str,
    *,
    at: dt.datetime,
    pain: tuple[int, int],
    improved: tuple[bool, bool, bool],
    recommend: int,
    comments: str = "",
) -> None:
    _checkin(
        last,
        kind,
        at,
        pain_first_steps=pain[0],
        pain_average=pain[1],
        improved_pain_mobility=improved[0],
        improved_strength=improved[1],
        improved_walking=improved[2],
        recommend=recommend,
        comments=comments,
    )


# --- Earlier courses, for the dashboard --------------------------------------------------------


@dataclass(frozen=True)
class History:
    first: str
    last: str
    born: dt.date
    practitioner: str  # story key
    location: str  # slug
    weeks_ago: int  # when the first session was
    baseline: int  # first-step pain in the questionnaire
    attended: int  # sessions attended of `sessions`
    sessions: int
    end: tuple | None = None  # (first-step pain, pain & mobility, strength, walking, recommend)
    adverse: str = ""  # recorded at the second session
    worry: str = ""  # a worrying after-care answer after the last session
    at: dt.time | None = None  # the sessions' time (default: 13:00–15:00 by course)


# Sixteen courses: thirteen completed (eleven answered the end-of-course questionnaire), two
# abandoned, and Priya Raman's latest patient, who finished yesterday.
HISTORY = [
    History(
        "Anita",
        "Shah",
        dt.date(1971, 3, 2),
        "practitioner",
        "leaside",
        40,
        7,
        6,
        6,
        (3, True, False, True, 9),
        "soreness",
    ),
    History(
        "Brian",
        "O'Neill",
        dt.date(1966, 8, 19),
        "practitioner",
        "leaside",
        36,
        8,
        6,
        6,
        (4, True, True, True, 10),
    ),
    History(
        "Chloé",
        "Gagnon",
        dt.date(1980, 1, 7),
        "practitioner",
        "leaside",
        32,
        6,
        4,
        4,
        (5, False, False, False, 6),
    ),
    History(
        "David",
        "Kowalski",
        dt.date(1959, 11, 30),
        "practitioner",
        "leaside",
        28,
        9,
        2,
        6,
        None,
        "bruising",
    ),
    History(
        "Esther",
        "Nakamura",
        dt.date(1975, 5, 14),
        "practitioner",
        "leaside",
        24,
        7,
        5,
        5,
        (2, True, False, True, 10),
    ),
    History(
        "Farid",
        "Nasser",
        dt.date(1969, 2, 25),
        "okafor",
        "rockville",
        38,
        8,
        6,
        6,
        (5, True, False, False, 8),
    ),
    History(
        "Gloria",
        "Mensah",
        dt.date(1963, 7, 11),
        "okafor",
        "rockville",
        34,
        6,
        6,
        6,
        (2, True, True, True, 10),
    ),
    History(
        "Henry",
        "Walsh",
        dt.date(1958, 12, 3),
        "okafor",
        "rockville",
        30,
        7,
        4,
        4,
        (6, False, False, False, 5),
    ),
    History(
        "Irene",
        "Costa",
        dt.date(1977, 9, 21),
        "okafor",
        "rockville",
        26,
        8,
        5,
        5,
        (3, True, False, True, 9),
        "bruising",
    ),
    History("Jamal", "Carter", dt.date(1972, 4, 16), "okafor", "largo", 22, 7, 3, 6, None),
    History(
        "Karen",
        "Lindqvist",
        dt.date(1965, 10, 8),
        "kim",
        "largo",
        39,
        8,
        6,
        6,
        (4, True, False, False, 9),
    ),
    History(
        "Luis",
        "Ortega",
        dt.date(1970, 6, 29),
        "kim",
        "largo",
        35,
        6,
        6,
        6,
        (3, True, True, True, 10),
    ),
    History(
        "Maya",
        "Rosen",
        dt.date(1982, 2, 13),
        "kim",
        "largo",
        31,
        7,
        4,
        4,
        (7, False, False, False, 4),
    ),
    History(
        "Nadia",
        "Petrova",
        dt.date(1961, 1, 22),
        "kim",
        "largo",
        27,
        9,
        5,
        5,
        (5, True, False, True, 8),
        "soreness",
    ),
    History("Owen", "Fraser", dt.date(1974, 8, 5), "kim", "largo", 23, 8, 6, 6, None),
    History(
        "Paula",
        "Greene",
        dt.date(1967, 3, 18),
        "practitioner",
        "leaside",
        0,
        7,
        4,
        4,
        None,
        "",
        "The bruise on my calf is spreading and feels warm to the touch.",
        dt.time(15, 30),
    ),
]


def _history_course(story: DemoStory, index: int, h: History) -> None:
    location: Location = story.locations[h.location]
    practitioner: Practitioner = story.practitioners[h.practitioner]
    patient, created = Patient.objects.get_or_create(
        first_name=h.first,
        last_name=h.last,
        date_of_birth=h.born,
        defaults={
            "phone": f"{'416' if location.time_zone == 'America/Toronto' else '301'}-555-{140 + index:04d}",
            "preferred_location": location,
        },
    )
    patient.locations.add(location)
    if Course.objects.filter(patient=patient).exists():
        return
    days = _session_days(practitioner, location, h)
    at = h.at or dt.time(13 + index % 3)
    first_start = aware(days[0], at, location.zone)
    intake = Intake.objects.filter(patient=patient, status=Intake.Status.SUBMITTED).first()
    if intake is None:
        from intake.demo import complete_answers as _complete_answers

        submitted = first_start - dt.timedelta(days=10)
        intake = Intake.objects.create(
            patient=patient,
            status=Intake.Status.SUBMITTED,
            started_by=practitioner.user,
            submitted_by=practitioner.user,
            read_back_to_patient=True,
            created_at=submitted,
            submitted_at=submitted,
            revision=len(QUESTION_STEPS),
            steps_done=[step.slug for step in QUESTION_STEPS],
            **_complete_answers(
                patient,
                emergency_contact_phone="416-555-0177",
                pain_first_steps=h.baseline,
                pain_average=max(h.baseline - 2, 0),
                pain_worst=min(h.baseline + 1, 10),
            ),
        )
    from intake.demo import sign_in_the_past as _sign

    assessment = AssessmentNote.objects.create(
        patient=patient,
        author=practitioner,
        location=location,
        intake=intake,
        created_at=first_start - dt.timedelta(days=7, hours=1),
        subjective=intake.subjective_summary(),
        diagnosis="plantar_fasciitis",
        diagnosis_side="right",
        needling_appropriate=True,
        decision_reason="Chronic plantar fasciitis with active trigger points.",
        planned_sessions=h.sessions,
        session_minutes=30,
        interval_days=7,
        combined_care=["stretching"],
    )
    _sign(assessment, first_start - dt.timedelta(days=7))
    course = Course.objects.create(
        patient=patient,
        practitioner=practitioner,
        assessment_id=assessment.pk,
        sessions_planned=h.sessions,
        minutes=30,
        interval_days=7,
        created_by=practitioner.user,
    )
    room = _room(location, practitioner)
    needling = story.services[ServiceKind.DRY_NEEDLING]
    sessions = []
    for number, day in enumerate(days, start=1):
        starts_at = aware(day, at, location.zone)
        if number <= h.attended:
            status = Status.COMPLETED
        elif number == h.attended + 1:
            status = Status.NO_SHOW
        else:
            status = Status.CANCELLED
        times = Appointment.times(location, starts_at, 30)
        ends_at = times["ends_at"]
        appointment = Appointment.objects.create(
            location=location,
            practitioner=practitioner,
            room=room,
            patient=patient,
            service=needling,
            **times,
            status=status,
            course=course,
            session_number=number,
            cancelled_by="patient" if status == Status.CANCELLED else "",
            cancellation_reason="Not coming back" if status == Status.CANCELLED else "",
            late_cancellation=status == Status.CANCELLED and number == h.attended + 2,
        )
        AppointmentEvent.objects.create(
            appointment=appointment,
            kind=AppointmentEvent.Kind.CREATED,
            to_status=Status.CONFIRMED,
            reason=f"Course session {number} of {h.sessions}",
            at=first_start - dt.timedelta(days=7),
        )
        sessions.append(appointment)
        if status != Status.COMPLETED:
            continue
        pain = max(h.baseline - number, 1)
        event = h.adverse if number == 2 and h.adverse else "none"
        note = SessionNote.objects.create(
            patient=patient,
            author=practitioner,
            assessment=assessment,
            location=location,
            appointment_id=appointment.pk,
            session_number=number,
            performed_at=starts_at,
            created_at=starts_at,
            pre_session_pain=pain,
            muscles_needled=[{"muscle": "soleus", "side": "right", "needles": 2, "twitch": True}],
            technique="pistoning",
            retention_minutes=10,
            tolerance="well",
            adverse_events=[event],
            adverse_event_severity="" if event == "none" else "mild",
            adverse_event_action="" if event == "none" else "Ice and rest advised.",
        )
        _sign(note, ends_at + dt.timedelta(minutes=20))
        _before(appointment, pain, max(pain - 1, 0), walking=number > 2)
    attended = [s for s in sessions if s.status == Status.COMPLETED]
    if h.worry and attended:
        _after_care(attended[-1], soreness="moderate", bruising=True, worry=h.worry)
    if h.end and attended:
        first, pain_mobility, strength, walking, recommend = h.end
        _course_answer(
            attended[-1],
            SurveyKind.END_OF_COURSE,
            at=attended[-1].ends_at + dt.timedelta(days=1, hours=3),
            pain=(first, max(first - 1, 0)),
            improved=(pain_mobility, strength, walking),
            recommend=recommend,
        )


def _session_days(practitioner: Practitioner, location: Location, h: History) -> list[dt.date]:
    """Weekly session days on a day the practitioner works at the location, the first
    `weeks_ago` weeks ago; for a course finished "0 weeks ago", the last session yesterday."""
    worked = sorted(
        set(practitioner.working_hours.filter(location=location).values_list("weekday", flat=True))
    )
    today = location.today()
    if h.weeks_ago == 0:
        last = today - dt.timedelta(days=1)
        while last.weekday() not in worked:
            last -= dt.timedelta(days=1)
        return [last - dt.timedelta(weeks=h.sessions - n) for n in range(1, h.sessions + 1)]
    first = today - dt.timedelta(weeks=h.weeks_ago)
    while first.weekday() not in worked:
        first += dt.timedelta(days=1)
    return [first + dt.timedelta(weeks=n) for n in range(h.sessions)]


def _room(location: Location, practitioner: Practitioner) -> Room:
    """Each practitioner in their own room at a location, so no two demo sessions clash."""
    rooms = list(Room.objects.filter(location=location).order_by("name"))
    staff = sorted(p.pk for p in Practitioner.objects.at(location))
    return (
        rooms[staff.index(practitioner.pk) % len(rooms)] if practitioner.pk in staff else rooms[0]
    )
