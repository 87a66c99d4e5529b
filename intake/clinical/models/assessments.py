"""The practitioner's initial assessment (`AssessmentNote`): findings, the decision whether
dry needling is appropriate and the plan of the course, signed and locked; and its amendments."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Length
from django.db.models.lookups import LessThanOrEqual

from clinic.text_limits import bounded_text
from intake.clinical.models.notes import (
    TRIGGER_POINTS,
    Amendment,
    CombinedCare,
    SignedNote,
    signed_has_fingerprint,
)
from intake.questionnaire.models.intake import Intake


class Windlass(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    NOT_TESTED = "not_tested", "Not tested"


class CalfTightness(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    MARKED = "marked", "Marked"


class FootPosture(models.TextChoices):
    PRONATED = "pronated", "Pronated (flat)"
    NEUTRAL = "neutral", "Neutral"
    SUPINATED = "supinated", "Supinated (high arch)"


class Diagnosis(models.TextChoices):
    PLANTAR_FASCIITIS = "plantar_fasciitis", "Plantar fasciitis"
    OTHER = "other", "Other"


class DiagnosisSide(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BOTH = "both", "Both"


SESSION_CHOICES = [(4, "4 sessions"), (5, "5 sessions"), (6, "6 sessions")]
MINUTES_CHOICES = [(15, "15 minutes"), (20, "20 minutes"), (30, "30 minutes")]
INTERVAL_CHOICES = [(3, "Twice a week"), (7, "Weekly"), (14, "Every two weeks")]
MAX_GOALS = 3


@bounded_text
class AssessmentNote(SignedNote):
    """The practitioner's initial assessment: findings, the decision whether dry needling is
    appropriate, and the plan of the course. Its signed decision is what lets a course be
    booked (`intake.clinical.selectors.course_gate`)."""

    CLINICAL_FIELDS = (
        "subjective",
        "tender_heel_left",
        "tender_heel_right",
        "windlass_left",
        "windlass_right",
        "dorsiflexion_left",
        "dorsiflexion_right",
        "calf_tightness",
        "foot_posture",
        "gait_observation",
        "trigger_points",
        "diagnosis",
        "diagnosis_side",
        "diagnosis_other",
        "flag_acknowledgements",
        "needling_appropriate",
        "decision_reason",
        "planned_sessions",
        "session_minutes",
        "interval_days",
        "combined_care",
        "home_exercises",
        "goals",
    )
    SECTIONS = (
        ("Subjective", ("subjective",)),
        ("Objective", CLINICAL_FIELDS[1:11]),
        ("Assessment", ("diagnosis", "diagnosis_side", "diagnosis_other", "flag_acknowledgements")),
        ("Decision", ("needling_appropriate", "decision_reason")),
        ("Plan", CLINICAL_FIELDS[17:]),
    )

    intake = models.ForeignKey(
        Intake,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
        help_text="The questionnaire the subjective part was filled in from.",
    )

    subjective = models.TextField(blank=True, max_length=5000)
    tender_heel_left = models.BooleanField(
        "Tenderness at the medial heel, left", null=True, blank=True
    )
    tender_heel_right = models.BooleanField(
        "Tenderness at the medial heel, right", null=True, blank=True
    )
    windlass_left = models.CharField(
        "Windlass test, left", max_length=12, blank=True, choices=Windlass.choices
    )
    windlass_right = models.CharField(
        "Windlass test, right", max_length=12, blank=True, choices=Windlass.choices
    )
    dorsiflexion_left = models.SmallIntegerField(
        "Ankle dorsiflexion, left (degrees)",
        null=True,
        blank=True,
        validators=[MinValueValidator(-30), MaxValueValidator(60)],
    )
    dorsiflexion_right = models.SmallIntegerField(
        "Ankle dorsiflexion, right (degrees)",
        null=True,
        blank=True,
        validators=[MinValueValidator(-30), MaxValueValidator(60)],
    )
    calf_tightness = models.CharField(max_length=10, blank=True, choices=CalfTightness.choices)
    foot_posture = models.CharField(max_length=10, blank=True, choices=FootPosture.choices)
    gait_observation = models.TextField(blank=True, max_length=2000)
    trigger_points = ArrayField(
        models.CharField(max_length=40, choices=TRIGGER_POINTS),
        default=list,
        blank=True,
        verbose_name="trigger points found",
    )

    diagnosis = models.CharField(
        "working diagnosis", max_length=20, blank=True, choices=Diagnosis.choices
    )
    diagnosis_side = models.CharField(
        "side", max_length=10, blank=True, choices=DiagnosisSide.choices
    )
    diagnosis_other = models.CharField("other diagnosis", max_length=200, blank=True)
    # {screening question field: how the practitioner addressed it}, one entry per flag.
    flag_acknowledgements = models.JSONField(default=dict, blank=True)
    needling_appropriate = models.BooleanField(
        "Is dry needling appropriate?", null=True, blank=True
    )
    decision_reason = models.TextField("reason for the decision", blank=True, max_length=2000)

    planned_sessions = models.PositiveSmallIntegerField(
        "number of sessions", null=True, blank=True, choices=SESSION_CHOICES
    )
    session_minutes = models.PositiveSmallIntegerField(
        "minutes per session", null=True, blank=True, choices=MINUTES_CHOICES
    )
    interval_days = models.PositiveSmallIntegerField(
        "frequency", null=True, blank=True, choices=INTERVAL_CHOICES, default=7
    )
    combined_care = ArrayField(
        models.CharField(max_length=20, choices=CombinedCare.choices),
        default=list,
        blank=True,
        verbose_name="combined care",
    )
    home_exercises = models.TextField(blank=True, max_length=5000)
    # [{"goal": "...", "target": "YYYY-MM-DD"}]
    goals = models.JSONField("goals with target dates", default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            signed_has_fingerprint("assessment"),
            # The plan's goals (a few lines of 200 characters each, in JSON): never a
            # 900 KB document, whoever writes it.
            models.CheckConstraint(
                condition=LessThanOrEqual(Length(Cast("goals", models.TextField())), 4000),
                name="assessment_goals_at_most_4000_chars",
            ),
            models.CheckConstraint(
                condition=Q(planned_sessions__gte=4, planned_sessions__lte=6),
                name="assessment_course_of_4_to_6_sessions",
            ),
            models.CheckConstraint(
                condition=Q(session_minutes__in=[15, 20, 30]),
                name="assessment_sessions_of_15_20_or_30_minutes",
            ),
            models.CheckConstraint(
                condition=Q(interval_days__in=[3, 7, 14]),
                name="assessment_interval_is_a_known_frequency",
            ),
            models.CheckConstraint(
                condition=Q(dorsiflexion_left__gte=-30, dorsiflexion_left__lte=60)
                & Q(dorsiflexion_right__gte=-30, dorsiflexion_right__lte=60),
                name="assessment_dorsiflexion_in_range",
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | Q(needling_appropriate__isnull=False),
                name="assessment_signed_has_a_decision",
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True)
                | Q(needling_appropriate=False)
                | Q(
                    planned_sessions__isnull=False,
                    session_minutes__isnull=False,
                    interval_days__isnull=False,
                ),
                name="assessment_signed_appropriate_has_a_plan",
            ),
            models.UniqueConstraint(
                fields=["patient", "author"],
                condition=Q(signed_at__isnull=True),
                name="assessment_one_draft_per_patient_and_author",
            ),
            # Referred to by (assessment, patient) from session notes and courses, so that
            # neither can name another patient's assessment (migration 0006).
            models.UniqueConstraint(
                fields=["id", "patient"], name="assessment_note_id_with_patient"
            ),
        ]

    def __str__(self) -> str:
        return f"Assessment of {self.patient} by {self.author}"

    @property
    def plan_summary(self) -> str:
        """'6 sessions of 30 minutes, weekly', as the front desk may read it."""
        if not self.needling_appropriate or not self.planned_sessions:
            return ""
        return (
            f"{self.planned_sessions} sessions of {self.session_minutes} minutes, "
            f"{self.get_interval_days_display().lower()}"
        )

    def signing_problems(
        self, *, flags: list[tuple[str, str, str]], last_session: int = 0
    ) -> dict[str, str]:
        """What must be filled in before the note can be signed: {field: message}.
        `flags` are the screening flags of the patient's current questionnaire; `last_session`
        the highest session number of the course that a signed session note records."""
        problems = {}
        if not self.subjective.strip():
            problems["subjective"] = "Write the subjective part."
        if not self.diagnosis:
            problems["diagnosis"] = "Give a working diagnosis."
        elif self.diagnosis == Diagnosis.PLANTAR_FASCIITIS and not self.diagnosis_side:
            problems["diagnosis_side"] = "Say which side."
        elif self.diagnosis == Diagnosis.OTHER and not self.diagnosis_other.strip():
            problems["diagnosis_other"] = "Name the diagnosis."
        for field, reason, _ in flags:
            if field not in self.flag_acknowledgements:
                problems[f"ack_{field}"] = f"Acknowledge the screening answer “{reason}”."
            elif self.needling_appropriate and not str(self.flag_acknowledgements[field]).strip():
                # Needling despite a screening "yes" is what lets the course be booked: the
                # note says how that risk is handled (the decision's reason covers a "no").
                problems[f"ack_{field}_note"] = (
                    f"Dry needling is appropriate despite “{reason}”: say how it is addressed."
                )
        if self.needling_appropriate is None:
            problems["needling_appropriate"] = "Decide whether dry needling is appropriate."
        if not self.decision_reason.strip():
            problems["decision_reason"] = "Give the reason for the decision."
        if self.needling_appropriate:
            if self.planned_sessions is None:
                problems["planned_sessions"] = "Choose 4, 5 or 6 sessions."
            elif self.planned_sessions < last_session:
                # The plan may stop the course where it is, not deny sessions given.
                problems["planned_sessions"] = (
                    f"Session {last_session} is already recorded: choose {last_session} "
                    "sessions or more."
                )
            if self.session_minutes is None:
                problems["session_minutes"] = "Choose 15, 20 or 30 minutes per session."
            if self.interval_days is None:
                problems["interval_days"] = "Choose how often."
        return problems


@bounded_text
class AssessmentAmendment(Amendment):
    note = models.ForeignKey(AssessmentNote, on_delete=models.PROTECT, related_name="amendments")

    class Meta(Amendment.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["note", "number"], name="assessment_amendment_number_once"
            )
        ]
