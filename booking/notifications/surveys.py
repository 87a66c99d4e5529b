"""The course questionnaires: at the end of a course, and 4 and 12 weeks after it."""

from __future__ import annotations

import datetime as dt

from booking.models import (
    MOVABLE_STATUSES,
    Course,
    Notification,
    Status,
)
from booking.notifications import links
from booking.notifications.outbox import Kind, State, enqueue, withdraw

# --- The course questionnaires: end of course, 4 and 12 weeks after ---------------------------------

# When each questionnaire's invitation goes, after the course's last attended session.
OUTCOME_SURVEYS = (
    ("end_of_course", dt.timedelta(days=1)),
    ("follow_up_4", dt.timedelta(weeks=4)),
    ("follow_up_12", dt.timedelta(weeks=12)),
)


def schedule_outcome_surveys(course_id: int | None, *, now: dt.datetime) -> list[Notification]:
    """Once a course is over (no session left booked, at least one attended), invite the
    patient to the end-of-course questionnaire the day after the last session and to the
    follow-ups 4 and 12 weeks after it: scheduled rows, each written once per course. While
    it goes on, invitations still waiting are withdrawn: they were timed from a session that
    turned out not to be the last (a missed last session's no-show undone), and are written
    again, from the real last session, when the course is over."""
    if course_id is None:
        return []
    course = Course.objects.select_for_update().select_related("patient").get(pk=course_id)
    sessions = list(course.appointments.select_related("location"))
    if any(s.status in (*MOVABLE_STATUSES, Status.CHECKED_IN) for s in sessions):
        withdraw(
            course.notifications.filter(kind=Kind.OUTCOME_SURVEY),
            "The course went on: its questionnaires follow its last session.",
        )
        return []
    attended = [s for s in sessions if s.status == Status.COMPLETED]
    if not attended:
        return []
    last = max(attended, key=lambda s: s.ends_at)
    written = set(
        course.notifications.filter(kind=Kind.OUTCOME_SURVEY)
        .exclude(state=State.SKIPPED)
        .values_list("context__checkin", flat=True)
    )
    rows = []
    for checkin, delay in OUTCOME_SURVEYS:
        if checkin in written:
            continue
        rows.append(
            enqueue(
                Kind.OUTCOME_SURVEY,
                patient=course.patient,
                location=last.location,
                appointment=last,
                course=course,
                now=now,
                send_after=max(last.ends_at + delay, now),
                context={"checkin": checkin},
            )
        )
    return rows


def outcome_survey_not_needed(notification: Notification, *, now: dt.datetime) -> str:
    """Why a course questionnaire's invitation should not go ('' if it should)."""
    from intake.clinical.selectors import current_answer, visits

    checkin = notification.context.get("checkin", "")
    if links.survey_path(notification.appointment, checkin, now=now) is None:
        return "The questionnaire no longer applies (the course went on) or has closed."
    visit = next(iter(visits(appointment_ids=[notification.appointment_id])), None)
    if visit is not None and current_answer(checkin, visit) is not None:
        return "The patient has already answered."
    return ""
