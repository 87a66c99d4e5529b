"""The warnings the front desk needs at a glance on every appointment (intake missing, flagged
for review, consent out of date, a needling session whose practitioner is not certified that
day or whose course's plan was amended since, first visit, late-cancel history, a balance due),
and the flag alone on the lists of patients (search, waitlist).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, Min, OuterRef, Q

from booking import gates
from booking.billing.ledger import with_balances
from booking.billing.models import Invoice
from booking.models import ACTIVE_STATUSES, Appointment, Status, plan_number, plan_says
from clinic.audit import record_accesses
from clinic.models import Certification, LocalDate

# --- Badges ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    key: str  # a CSS class suffix, and what tests look for
    label: str
    detail: str = ""
    mark: str = ""  # the box's mark when it is not the key's usual one (SHORT)

    @property
    def short(self) -> str:
        """The badge as the schedule's boxes show it, however short the box: a mark of a few
        characters (its label is there for screen readers, and in the box's tooltip)."""
        return self.mark or SHORT[self.key]

    @property
    def blocks_check_in(self) -> bool:
        """A problem that will stop the check-in (or needs the practitioner first): it stands
        out from the other badges."""
        return self.key in BLOCKING


SHORT = {
    "intake": "Intake",
    "flagged": "⚑ Flag",
    "consent": "Consent",
    "first": "New",
    "owing": "$ Due",
    "uncertified": "⚠ Cert",
    "plan": "⚠ Plan",
}
BLOCKING = frozenset({"consent", "flagged", "uncertified", "plan"})

# A needling session waiting to happen: one already missed, cancelled or given is history.
_TO_COME = frozenset({Status.REQUESTED, Status.CONFIRMED, Status.CHECKED_IN})
COURSE_ASSESSMENT = "course__assessment_id"


def for_the_badges(appointments):
    """`appointments` with what their badges ask of other tables, in the same query:

    - `certified_on_the_day`: whether the practitioner holds a dry-needling certification
      current on the visit's date on its location's clock (as booking checked it, migration
      0019). A certification that lapses, or is shortened, after a session was booked leaves
      the session booked: the badge is how the desk learns to move it.
    - `plan_needling_now`, `plan_sessions_now` (course sessions only): whether the course's
      assessment, as amended since, still says dry needling is appropriate, and how many
      sessions it plans now. A course stays as it was booked when its plan is amended
      (migration 0017: the sessions left are the practitioner's and the desk's call); the
      badge is how they learn of it."""
    day = LocalDate("starts_at", "location__time_zone")
    current = Certification.objects.filter(
        practitioner_id=OuterRef("practitioner_id"),
        valid_from__lte=OuterRef("local_day"),
        valid_until__gte=OuterRef("local_day"),
    )
    return appointments.annotate(
        local_day=day,
        certified_on_the_day=Exists(current),
        plan_needling_now=plan_says("needling_appropriate", assessment=COURSE_ASSESSMENT),
        plan_sessions_now=plan_number("planned_sessions", assessment=COURSE_ASSESSMENT),
    )


def _needling_badges(appointment: Appointment) -> list[Badge]:
    """What stands between a needling session to come and its being given: its practitioner's
    certification on the day, and the course's plan as amended since it was booked."""
    if not (
        appointment.service.needs_dry_needling_certification and appointment.status in _TO_COME
    ):
        return []
    badges = []
    if getattr(appointment, "certified_on_the_day", True) is False:
        badges.append(
            Badge(
                "uncertified",
                "Practitioner not certified that day",
                f"{appointment.practitioner.name} holds no dry-needling certification current "
                "on this date: move the session to a certified practitioner",
            )
        )
    if appointment.course_id is None:
        return badges
    planned = getattr(appointment, "plan_sessions_now", None)
    if getattr(appointment, "plan_needling_now", None) is False:
        badges.append(
            Badge(
                "plan",
                "Assessment amended: no dry needling",
                "the assessment, as amended since the course was booked, says dry needling is "
                "not appropriate: ask the practitioner before this session, and cancel it if "
                "it is not to go ahead",
            )
        )
    elif planned is not None and appointment.session_number > planned:
        badges.append(
            Badge(
                "plan",
                f"Beyond the amended plan of {planned} sessions",
                f"the assessment was amended to plan {planned} sessions since the course was "
                "booked: cancel this session, unless the practitioner extends the plan again",
            )
        )
    return badges


@dataclass(frozen=True)
class PatientHistory:
    first_seen_at: dt.datetime | None  # the first visit the patient came to
    late_cancellations: int  # cancelled by the patient inside the notice period
    no_shows: int
    owes: bool = False  # an invoice with a balance still to pay, at any location


NO_HISTORY = PatientHistory(None, 0, 0)


def patient_histories(patient_ids: Iterable[int]) -> dict[int, PatientHistory]:
    """What the badges need from each patient's past appointments and invoices, in one query."""
    ids = set(patient_ids)
    if not ids:
        return {}
    rows = (
        Appointment.objects.filter(patient_id__in=ids)
        .order_by()
        .values("patient_id")
        .annotate(
            first_seen_at=Min(
                "starts_at", filter=Q(status__in=[Status.CHECKED_IN, Status.COMPLETED])
            ),
            late=Count("pk", filter=Q(late_cancellation=True, cancelled_by="patient")),
            no_shows=Count("pk", filter=Q(status=Status.NO_SHOW)),
            # In the same query, so the day view's count stays fixed.
            owes=Exists(
                with_balances(Invoice.objects.filter(patient_id=OuterRef("patient_id"))).filter(
                    balance__gt=0
                )
            ),
        )
    )
    return {
        row["patient_id"]: PatientHistory(
            row["first_seen_at"], row["late"], row["no_shows"], row["owes"]
        )
        for row in rows
    }


def appointment_badges(
    appointment: Appointment,
    overview: gates.IntakeOverview,
    history: PatientHistory,
) -> list[Badge]:
    """The warnings the front desk needs at a glance. Screening reasons are health information:
    they are shown on the appointment's own page (which is access-logged), not here."""
    badges = []
    if not overview.submitted:
        badges.append(
            Badge("intake", "Intake not finished")
            if overview.draft_in_progress
            else Badge("intake", "Intake missing")
        )
    if overview.flagged_for_review:
        badges.append(Badge("flagged", "Flagged for review"))
    if not overview.consent_current:
        badges.append(
            Badge("consent", "Consent out of date")
            if overview.submitted
            else Badge("consent", "Consent not signed")
        )
    badges += _needling_badges(appointment)
    if appointment.status in ACTIVE_STATUSES and (
        history.first_seen_at is None or appointment.starts_at <= history.first_seen_at
    ):
        badges.append(Badge("first", "First visit"))
    missed = history.late_cancellations + history.no_shows
    if missed:
        parts = []
        if history.late_cancellations:
            n = history.late_cancellations
            parts.append(f"{n} late cancellation{'s' if n != 1 else ''}")
        if history.no_shows:
            parts.append(f"{history.no_shows} no-show{'s' if history.no_shows != 1 else ''}")
        badges.append(
            Badge("late", f"Late-cancel history ({missed})", ", ".join(parts), mark=f"LC{missed}")
        )
    if history.owes:
        badges.append(Badge("owing", "Balance due"))
    return badges


def screening_flags(
    request, patient_ids: Iterable[int], *, with_reasons: bool = False
) -> dict[int, list[Badge]]:
    """{patient id: ["Flagged for review" badge]} for the flagged patients among
    `patient_ids` (the others are left out), with one call to intake for the whole page.

    Lists of patients (the desk's search, with its closest-name guesses; the waitlist) show
    the flag alone, as the day view does: the screening reasons are health information, shown
    on the appointment's own page. `with_reasons` puts them in the badge (a practitioner's own
    patients), and showing them is then a view of each patient's record (clinic.audit): one
    access-log row per patient, all written at once."""
    ids = set(patient_ids)
    flagged = [
        overview
        for overview in (gates.intake_overview(ids) if ids else {}).values()
        if overview.flagged_for_review
    ]
    if with_reasons:
        record_accesses(
            actor=request.user,
            patient_ids=[overview.patient_id for overview in flagged if overview.flag_reasons],
            record_type="intake.screening",
            request=request,
        )
    return {
        overview.patient_id: [
            Badge(
                "flagged",
                "Flagged for review",
                "; ".join(overview.flag_reasons) if with_reasons else "",
            )
        ]
        for overview in flagged
    }
