"""The staff side of an appointment's page: badges, whether check-in is possible (or when it
opens), the actions open to it, and the counter tablet's pre-session check-in.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from booking import gates, intake_links, services
from booking.billing.panel import money_panel
from booking.desk import badges
from booking.desk.helpers import day_url
from booking.models import (
    Appointment,
    Status,
)
from clinic.models import Role


def staff_panel(appointment: Appointment, user) -> dict:
    """What staff see on an appointment's page besides its details: the badges (with the
    screening reasons for clinicians; the front desk sees the flag alone), whether check-in is
    possible, and the actions open to it."""
    overview = gates.intake_overview([appointment.patient_id])[appointment.patient_id]
    history = badges.patient_histories([appointment.patient_id]).get(
        appointment.patient_id, badges.NO_HISTORY
    )
    if appointment.service.needs_dry_needling_certification:
        asked = (
            badges.for_the_badges(Appointment.objects.filter(pk=appointment.pk))
            .values("certified_on_the_day", "plan_needling_now", "plan_sessions_now")
            .get()
        )
        for name, value in asked.items():
            setattr(appointment, name, value)
    now = timezone.now()
    confirmed = appointment.status == Status.CONFIRMED
    return {
        "badges": badges.appointment_badges(appointment, overview, history),
        "flag_reasons": overview.flag_reasons if gates.sees_intake_answers(user) else (),
        "consent_current": overview.consent_current,
        "counter_consent_url": intake_links.intake_url(
            "counter_consent", appointment.patient_id, appointment=appointment.pk
        ),
        "chart_url": intake_links.intake_url("patient_chart", appointment.patient_id)
        if user.role == Role.PRACTITIONER
        else None,
        "is_request": appointment.status == Status.REQUESTED,
        # A request whose time has gone is declined or answered with another time.
        "can_confirm": appointment.status == Status.REQUESTED and appointment.starts_at > now,
        "can_check_in": confirmed and appointment.check_in_is_open(now),
        # Not yet: when it opens, instead of a button the service would refuse.
        "check_in_opens": services.check_in_opens_text(appointment)
        if confirmed and not appointment.check_in_is_open(now)
        else "",
        "can_complete": appointment.status == Status.CHECKED_IN,
        "can_no_show": appointment.status == Status.CONFIRMED and appointment.starts_at <= now,
        # A no-show or a check-in set in error is taken back on the visit's day.
        "can_undo_no_show": appointment.status == Status.NO_SHOW
        and services.undoable_today(appointment, now),
        # ...but not a check-in a signed note records (the visit took place).
        "can_undo_check_in": appointment.status == Status.CHECKED_IN
        and services.undoable_today(appointment, now)
        and not gates.visit_is_recorded(appointment.pk),
        "can_cancel": appointment.can_change_to(Status.CANCELLED),
        "can_move": appointment.is_movable,
        "late_now": appointment.cancelling_is_late(now),
        "day_url": day_url(appointment.location, appointment.local_starts_at.date()),
        **_counter_survey(appointment, now),
        **money_panel(appointment, user),
    }


def _counter_survey(appointment: Appointment, now) -> dict:
    """For a needling session about to happen: the counter tablet's pre-session check-in, or
    that the patient has already answered it (never the answers: the front desk sees no
    clinical content)."""
    from booking.selectors import visits_for_intake
    from intake.clinical.models import SurveyKind
    from intake.clinical.selectors import current_answer, survey_window

    if appointment.course_id is None or appointment.status not in (
        Status.CONFIRMED,
        Status.CHECKED_IN,
    ):
        return {}
    visit = next(iter(visits_for_intake(appointment_ids=[appointment.pk])), None)
    window = survey_window(SurveyKind.BEFORE_SESSION, visit) if visit else None
    if window is None or not window.is_open(now):
        return {}
    if current_answer(SurveyKind.BEFORE_SESSION, visit) is not None:
        return {"survey_received": True}
    return {"survey_url": reverse("intake:counter_outcome_survey", args=[appointment.pk])}
