"""Session notes: the note of one dry-needling session (`SessionNote`) of a course that a
signed assessment prescribed, its adverse events, and its amendments.

A new session note records a booked session (`appointment_id`): its session number is the
appointment's and it is not dated before the session starts. PostgreSQL holds the three rules
(intake migration 0010); notes written before them, without an appointment, stay as they are."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.text_limits import bounded_text
from intake.clinical.models.assessments import AssessmentNote
from intake.clinical.models.notes import (
    Amendment,
    CombinedCare,
    SignedNote,
    describe,
    signed_has_fingerprint,
)
from intake.questionnaire.models.intake import score_field


class AdverseEvent(models.TextChoices):
    NONE = "none", "None"
    SORENESS = "soreness", "Soreness"
    BRUISING = "bruising", "Bruising"
    BLEEDING = "bleeding", "Bleeding"
    FAINTING = "fainting", "Fainting"
    OTHER = "other", "Other"


class AdverseEventSeverity(models.TextChoices):
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class Technique(models.TextChoices):
    PISTONING = "pistoning", "Fast-in, fast-out (pistoning)"
    STATIC = "static", "Static (needles left in place)"
    ELECTRICAL = "electrical", "With electrical stimulation"


class Tolerance(models.TextChoices):
    WELL = "well", "Well"
    FAIRLY = "fairly", "Fairly well"
    POORLY = "poorly", "Poorly"


MAX_NEEDLES_PER_SITE = 20


@bounded_text
class SessionNote(SignedNote):
    """The note of one dry-needling session of a course prescribed by a signed assessment."""

    CLINICAL_FIELDS = (
        "session_number",
        "performed_at",
        "pre_session_pain",
        "reaction_since_last",
        "muscles_needled",
        "technique",
        "retention_minutes",
        "combined_care_given",
        "tolerance",
        "adverse_events",
        "adverse_event_other",
        "adverse_event_severity",
        "adverse_event_action",
        "advice_given",
        "plan_next",
    )
    SECTIONS = (
        (
            "Before the session",
            ("session_number", "performed_at", "pre_session_pain", "reaction_since_last"),
        ),
        ("Needling", ("muscles_needled", "technique", "retention_minutes", "combined_care_given")),
        (
            "Tolerance and adverse events",
            (
                "tolerance",
                "adverse_events",
                "adverse_event_other",
                "adverse_event_severity",
                "adverse_event_action",
            ),
        ),
        ("Advice and plan", ("advice_given", "plan_next")),
    )

    assessment = models.ForeignKey(
        AssessmentNote,
        on_delete=models.PROTECT,
        related_name="session_notes",
        help_text="The signed assessment that prescribed the course.",
    )
    session_number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    performed_at = models.DateTimeField("date and time of the session", default=timezone.now)
    pre_session_pain = score_field("pain before the session (0–10)")
    reaction_since_last = models.TextField(
        "reaction since the last session", blank=True, max_length=2000
    )
    # [{"muscle": "soleus", "side": "left", "needles": 2, "twitch": true}]
    muscles_needled = models.JSONField(default=list, blank=True)
    technique = models.CharField(max_length=12, blank=True, choices=Technique.choices)
    retention_minutes = models.PositiveSmallIntegerField(
        "retention time (minutes)", null=True, blank=True, validators=[MaxValueValidator(60)]
    )
    combined_care_given = ArrayField(
        models.CharField(max_length=20, choices=CombinedCare.choices),
        default=list,
        blank=True,
        verbose_name="combined care given this session",
    )
    tolerance = models.CharField(max_length=10, blank=True, choices=Tolerance.choices)
    adverse_events = ArrayField(
        models.CharField(max_length=10, choices=AdverseEvent.choices), default=list, blank=True
    )
    adverse_event_other = models.CharField("other adverse event", max_length=200, blank=True)
    adverse_event_severity = models.CharField(
        "severity", max_length=10, blank=True, choices=AdverseEventSeverity.choices
    )
    adverse_event_action = models.TextField("action taken", blank=True, max_length=2000)
    advice_given = models.TextField(blank=True, max_length=2000)
    plan_next = models.TextField("plan for next time", blank=True, max_length=2000)

    class Meta:
        # The table keeps the model's first name (TreatmentNote): renaming a table holding
        # signed notes, its triggers and constraints buys nothing.
        db_table = "intake_treatmentnote"
        ordering = ["session_number"]
        constraints = [
            signed_has_fingerprint("treatment_note"),
            models.CheckConstraint(
                condition=Q(session_number__gte=1), name="treatment_note_session_from_1"
            ),
            models.CheckConstraint(
                condition=Q(pre_session_pain__lte=10), name="treatment_note_pain_0_to_10"
            ),
            models.CheckConstraint(
                condition=Q(retention_minutes__lte=60), name="treatment_note_retention_at_most_1h"
            ),
            models.CheckConstraint(
                condition=Q(adverse_events__contained_by=[AdverseEvent.NONE])
                | ~Q(adverse_event_severity=""),
                name="treatment_note_adverse_event_has_a_severity",
            ),
            models.UniqueConstraint(
                fields=["assessment", "session_number"],
                name="treatment_note_once_per_session_of_a_course",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.session_number} of {self.patient}"

    @property
    def had_adverse_event(self) -> bool:
        return any(event != AdverseEvent.NONE for event in self.adverse_events)

    @property
    def adverse_event_labels(self) -> list[str]:
        labels = dict(AdverseEvent.choices)
        return [
            self.adverse_event_other or labels[e] if e == AdverseEvent.OTHER else labels[e]
            for e in self.adverse_events
            if e != AdverseEvent.NONE
        ]

    @property
    def muscles_needled_display(self) -> str:
        return describe(SessionNote, "muscles_needled", self.muscles_needled)

    def signing_problems(self, *, planned_sessions: int | None) -> dict[str, str]:
        problems = {}
        if self.pre_session_pain is None:
            problems["pre_session_pain"] = "Record the pain before the session."
        if not self.muscles_needled:
            problems["muscles_needled"] = "Record at least one muscle needled."
        if not self.technique:
            problems["technique"] = "Record the technique."
        if not self.tolerance:
            problems["tolerance"] = "Record how the patient tolerated the session."
        if not self.adverse_events:
            problems["adverse_events"] = "Record adverse events, or “None”."
        elif self.had_adverse_event and not self.adverse_event_action.strip():
            problems["adverse_event_action"] = "Record the action taken."
        if planned_sessions and self.session_number > planned_sessions:
            problems["session_number"] = (
                f"The plan has {planned_sessions} sessions; amend the assessment to extend it."
            )
        return problems


@bounded_text
class SessionNoteAmendment(Amendment):
    note = models.ForeignKey(SessionNote, on_delete=models.PROTECT, related_name="amendments")

    class Meta(Amendment.Meta):
        db_table = "intake_treatmentnoteamendment"
        constraints = [
            models.UniqueConstraint(
                fields=["note", "number"], name="treatment_note_amendment_number_once"
            )
        ]
