"""The patient's questionnaire (`Intake`): one filling-in, a draft while the patient answers,
then a submission that PostgreSQL locks (a trigger made by intake's migrations). The wording of
the questions lives in `intake/questionnaire/questions.py`."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.models import Location, Patient, actor_field
from clinic.text_limits import bounded_text
from clinic.validators import validate_not_in_future, validate_phone
from intake.questionnaire.questions import SCREENING, SYMPTOMS, TREATMENTS
from intake.zones import patient_zone


def _yes_no(question: str) -> models.BooleanField:
    return models.BooleanField(question, null=True, blank=True)


def score_field(label: str) -> models.PositiveSmallIntegerField:
    """An answer from 0 to 10 (pain, how well, how likely), optional: the questionnaire's, the
    outcome surveys' and the session note's scales are the same."""
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MaxValueValidator(10)]
    )


def supersedes_field(help_text: str) -> models.OneToOneField:
    """A correction is a new row that points at the one it corrects, which is kept as it was:
    the questionnaire's and the outcome surveys' answers are corrected alike. One-to-one, so
    a row is corrected once; a later correction corrects the correction."""
    return models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text=help_text,
    )


def _treatment(name: str) -> models.CharField:
    return models.CharField(name, max_length=20, blank=True, choices=TreatmentOutcome.choices)


class Foot(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BOTH = "both", "Both"


class Onset(models.TextChoices):
    GRADUAL = "gradual", "Gradually"
    SUDDEN = "sudden", "Suddenly"


class FootType(models.TextChoices):
    FLAT = "flat", "Flat feet"
    HIGH_ARCH = "high_arch", "High arches"
    NEUTRAL = "neutral", "Neither (neutral)"
    UNKNOWN = "unknown", "I don't know"


class TreatmentOutcome(models.TextChoices):
    NOT_TRIED = "not_tried", "Not tried"
    HELPED = "helped", "Tried: it helped"
    HELPED_A_LITTLE = "a_little", "Tried: it helped a little"
    DID_NOT_HELP = "no_help", "Tried: it did not help"


TREATMENT_RESULTS = {
    TreatmentOutcome.HELPED: "helped",
    TreatmentOutcome.HELPED_A_LITTLE: "helped a little",
    TreatmentOutcome.DID_NOT_HELP: "did not help",
}


class Units(models.TextChoices):
    METRIC = "metric", "Centimetres and kilograms"
    US = "us", "Feet, inches and pounds"


HEIGHT_RANGE_CM = (Decimal("90"), Decimal("250"))
WEIGHT_RANGE_KG = (Decimal("25"), Decimal("350"))
MAX_WALKING_MINUTES = 600
SCREENING_FIELDS = tuple(q.field for q in SCREENING)


def _every_yes_has_details() -> Q:
    condition = Q()
    for name in SCREENING_FIELDS:
        condition &= (
            Q(**{name: False}) | Q(**{f"{name}__isnull": True}) | ~Q(**{f"{name}_details": ""})
        )
    return condition


class IntakeQuerySet(models.QuerySet):
    def drafts(self) -> IntakeQuerySet:
        return self.filter(status=Intake.Status.DRAFT)

    def current_submissions(self) -> IntakeQuerySet:
        return self.filter(status=Intake.Status.SUBMITTED)

    def with_screening_yes(self) -> IntakeQuerySet:
        any_yes = Q()
        for name in SCREENING_FIELDS:
            any_yes |= Q(**{name: True})
        return self.filter(any_yes)


@bounded_text
class Intake(models.Model):
    """One filling-in of the questionnaire: a draft while the patient answers, then a
    submission, which is locked. A correction is a new intake that supersedes it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "In progress"
        SUBMITTED = "submitted", "Submitted"
        SUPERSEDED = "superseded", "Replaced by a correction"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="intakes")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    supersedes = supersedes_field("The submission this one corrects.")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = actor_field()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    # Every save adds one; each step remembers the revision it was last saved at, so that a
    # page opened before that save (another tab, another device) cannot overwrite it.
    revision = models.PositiveIntegerField(default=0)
    step_revisions = models.JSONField(default=dict, blank=True)
    steps_done = ArrayField(models.CharField(max_length=20), default=list, blank=True)

    # Contact (copied to the patient's record on submission).
    phone = models.CharField(max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(blank=True)
    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_phone = models.CharField(
        max_length=30, blank=True, validators=[validate_phone]
    )
    preferred_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # The complaint.
    affected_foot = models.CharField(
        "Which foot hurts?", max_length=10, blank=True, choices=Foot.choices
    )
    weeks_of_pain = models.PositiveSmallIntegerField(
        "For how many weeks have you had this pain?",
        null=True,
        blank=True,
        validators=[MaxValueValidator(52 * 40)],
    )
    onset = models.CharField("How did it start?", max_length=10, blank=True, choices=Onset.choices)
    had_before = _yes_no("Have you had heel pain like this before?")

    # Symptoms.
    symptom_first_steps = _yes_no(SYMPTOMS[0].question)
    symptom_after_rest = _yes_no(SYMPTOMS[1].question)
    symptom_eases_when_warm = _yes_no(SYMPTOMS[2].question)
    symptom_after_exercise = _yes_no(SYMPTOMS[3].question)
    symptom_into_arch = _yes_no(SYMPTOMS[4].question)
    symptom_toes_up = _yes_no(SYMPTOMS[5].question)
    symptom_stairs = _yes_no(SYMPTOMS[6].question)
    symptom_swelling = _yes_no(SYMPTOMS[7].question)
    symptom_limping = _yes_no(SYMPTOMS[8].question)

    # Pain, 0 (none) to 10 (worst imaginable).
    pain_first_steps = score_field("Pain with your first steps in the morning")
    pain_average = score_field("Average pain over the last week")
    pain_worst = score_field("Worst pain over the last week")

    # Function.
    walking_minutes = models.PositiveSmallIntegerField(
        "How many minutes can you walk before the pain stops you?",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_WALKING_MINUTES)],
    )
    standing_hours = models.DecimalField(
        "How many hours a day do you spend standing?",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(24)],
    )
    activity_1 = models.CharField("Activity 1", max_length=100, blank=True)
    activity_1_score = score_field("How well can you do it now?")
    activity_2 = models.CharField("Activity 2", max_length=100, blank=True)
    activity_2_score = score_field("How well can you do it now?")
    activity_3 = models.CharField("Activity 3", max_length=100, blank=True)
    activity_3_score = score_field("How well can you do it now?")
    goals = models.TextField(
        "What would you like to be able to do again?", blank=True, max_length=2000
    )

    # Risk factors (age comes from the date of birth; BMI from height and weight).
    measurement_units = models.CharField(
        "Units you measure in", max_length=10, choices=Units.choices, default=Units.METRIC
    )
    height_cm = models.DecimalField(
        "Height (cm)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    weight_kg = models.DecimalField(
        "Weight (kg)", max_digits=5, decimal_places=2, null=True, blank=True
    )
    foot_type = models.CharField(
        "What are your feet like?", max_length=10, blank=True, choices=FootType.choices
    )
    high_impact_activity = _yes_no("Do you run or do other high-impact activity?")
    high_impact_details = models.CharField(
        "Which activity, and how much a week?",
        max_length=200,
        blank=True,
        help_text="For example: running, about 25 km a week.",
    )
    # No longer asked: `standing_hours`, asked with the risk factors, says it. Kept for the
    # answers given before; shown, and read into the summary, only when answered.
    long_hours_standing = _yes_no("Do you stand for long hours (at work or at home)?")
    tight_calves = _yes_no("Do you have tight calves or stiff ankles?")
    unsupportive_footwear = _yes_no("Do you often wear shoes without arch support?")

    # Treatments tried, each with whether it helped.
    tried_strengthening = _treatment(TREATMENTS[0].name)
    tried_shockwave = _treatment(TREATMENTS[1].name)
    tried_rolling = _treatment(TREATMENTS[2].name)
    tried_stretching = _treatment(TREATMENTS[3].name)
    tried_orthotics = _treatment(TREATMENTS[4].name)
    tried_footwear = _treatment(TREATMENTS[5].name)
    tried_injection = _treatment(TREATMENTS[6].name)
    tried_medication = _treatment(TREATMENTS[7].name)
    last_injection_on = models.DateField(
        "Date of your last corticosteroid injection",
        null=True,
        blank=True,
        validators=[validate_not_in_future],
        help_text="An approximate date is fine.",
    )

    # Safety screening for dry needling: details are asked for every "yes".
    screen_needle_fear = _yes_no(SCREENING[0].question)
    screen_needle_fear_details = models.TextField(
        "Please give details", blank=True, max_length=1000
    )
    screen_bleeding_disorder = _yes_no(SCREENING[1].question)
    screen_bleeding_disorder_details = models.TextField(
        "Please give details", blank=True, max_length=1000
    )
    screen_anticoagulants = _yes_no(SCREENING[2].question)
    screen_anticoagulants_details = models.TextField(
        "Please give details",
        blank=True,
        help_text="Which medicine, and how much.",
        max_length=1000,
    )
    screen_pregnancy = _yes_no(SCREENING[3].question)
    screen_pregnancy_details = models.TextField("Please give details", blank=True, max_length=1000)
    screen_diabetes = _yes_no(SCREENING[4].question)
    screen_diabetes_details = models.TextField("Please give details", blank=True, max_length=1000)
    screen_immune = _yes_no(SCREENING[5].question)
    screen_immune_details = models.TextField("Please give details", blank=True, max_length=1000)
    screen_skin = _yes_no(SCREENING[6].question)
    screen_skin_details = models.TextField("Please give details", blank=True, max_length=1000)
    screen_lymphoedema = _yes_no(SCREENING[7].question)
    screen_lymphoedema_details = models.TextField(
        "Please give details", blank=True, max_length=1000
    )
    screen_metal_allergy = _yes_no(SCREENING[8].question)
    screen_metal_allergy_details = models.TextField(
        "Please give details", blank=True, max_length=1000
    )
    screen_recent_surgery = _yes_no(SCREENING[9].question)
    screen_recent_surgery_details = models.TextField(
        "Please give details", blank=True, max_length=1000
    )
    screen_other = _yes_no(SCREENING[10].question)
    screen_other_details = models.TextField("Please give details", blank=True, max_length=1000)

    # Entered by staff on the patient's behalf (for example on the phone).
    read_back_to_patient = models.BooleanField(default=False)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "submitted_at"
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="draft"),
                name="intake_one_draft_per_patient",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="submitted"),
                name="intake_one_current_submission_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", submitted_at__isnull=True)
                | Q(status__in=["submitted", "superseded"], submitted_at__isnull=False),
                name="intake_only_drafts_are_unsubmitted",
            ),
            models.CheckConstraint(
                condition=~Q(status="superseded") | Q(superseded_at__isnull=False),
                name="intake_supersession_has_a_time",
            ),
            models.CheckConstraint(
                condition=Q(pain_first_steps__lte=10)
                & Q(pain_average__lte=10)
                & Q(pain_worst__lte=10)
                & Q(activity_1_score__lte=10)
                & Q(activity_2_score__lte=10)
                & Q(activity_3_score__lte=10),
                name="intake_scores_0_to_10",
            ),
            models.CheckConstraint(
                condition=Q(pain_worst__gte=models.F("pain_average"))
                & Q(pain_worst__gte=models.F("pain_first_steps")),
                name="intake_worst_pain_is_the_worst",
            ),
            models.CheckConstraint(
                condition=Q(height_cm__gte=HEIGHT_RANGE_CM[0], height_cm__lte=HEIGHT_RANGE_CM[1]),
                name="intake_height_in_human_range",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__gte=WEIGHT_RANGE_KG[0], weight_kg__lte=WEIGHT_RANGE_KG[1]),
                name="intake_weight_in_human_range",
            ),
            models.CheckConstraint(
                condition=Q(walking_minutes__lte=MAX_WALKING_MINUTES)
                & Q(standing_hours__gte=0, standing_hours__lte=24),
                name="intake_walking_and_standing_in_range",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | _every_yes_has_details(),
                name="intake_submitted_yes_answers_have_details",
            ),
            # Referred to by (intake, patient) from corrections, assessments and consent
            # signatures: none can name another patient's questionnaire (migration 0006).
            models.UniqueConstraint(fields=["id", "patient"], name="intake_id_with_patient"),
        ]

    def __str__(self) -> str:
        return f"Intake of {self.patient} ({self.get_status_display().lower()})"

    # --- derived answers -------------------------------------------------------------------

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def bmi(self) -> Decimal | None:
        """Body-mass index from height and weight, to one decimal; never typed in."""
        if not self.height_cm or not self.weight_kg:
            return None
        metres = self.height_cm / 100
        return (self.weight_kg / (metres * metres)).quantize(Decimal("0.1"))

    @property
    def height_display(self) -> str:
        if not self.height_cm:
            return ""
        if self.measurement_units == Units.US:
            inches = round(self.height_cm / Decimal("2.54"))
            return f"{inches // 12} ft {inches % 12} in ({self.height_cm.normalize():f} cm)"
        return f"{self.height_cm.normalize():f} cm"

    @property
    def weight_display(self) -> str:
        if not self.weight_kg:
            return ""
        if self.measurement_units == Units.US:
            pounds = round(self.weight_kg / Decimal("0.45359237"))
            return f"{pounds} lb ({self.weight_kg.normalize():f} kg)"
        return f"{self.weight_kg.normalize():f} kg"

    @property
    def age(self) -> int:
        at = self.submitted_at or timezone.now()
        # On the patient's clock: the server's UTC date is tomorrow every evening.
        return self.patient.age_on(timezone.localdate(at, patient_zone(self.patient)))

    @property
    def screening_flags(self) -> list[tuple[str, str, str]]:
        """(field, reason, details) for each "yes" in the safety screening."""
        return [
            (q.field, q.short, getattr(self, f"{q.field}_details"))
            for q in SCREENING
            if getattr(self, q.field) is True
        ]

    @property
    def flag_reasons(self) -> tuple[str, ...]:
        return tuple(q.short for q in SCREENING if getattr(self, q.field) is True)

    @property
    def symptom_answers(self) -> list[tuple[str, bool | None]]:
        return [(q.question, getattr(self, q.field)) for q in SYMPTOMS]

    @property
    def screening_answers(self) -> list[tuple[str, bool | None, str]]:
        return [
            (q.question, getattr(self, q.field), getattr(self, f"{q.field}_details"))
            for q in SCREENING
        ]

    @property
    def activities(self) -> list[tuple[str, int | None]]:
        return [
            (getattr(self, f"activity_{n}"), getattr(self, f"activity_{n}_score"))
            for n in (1, 2, 3)
            if getattr(self, f"activity_{n}")
        ]

    @property
    def treatments_tried(self) -> list[tuple[str, str]]:
        """(treatment, whether it helped) for each treatment the patient tried."""
        return [
            (t.name, TREATMENT_RESULTS[getattr(self, t.field)])
            for t in TREATMENTS
            if getattr(self, t.field) not in ("", TreatmentOutcome.NOT_TRIED)
        ]

    def subjective_summary(self) -> str:
        """The questionnaire told as the subjective part of an assessment note, for the
        practitioner to edit."""

        def yes(name: str) -> bool:
            return getattr(self, name) is True

        foot = {
            Foot.LEFT: "left foot",
            Foot.RIGHT: "right foot",
            Foot.BOTH: "both feet",
        }.get(self.affected_foot, "? foot")
        lines = [
            f"Heel pain, {foot}, for "
            f"{self.weeks_of_pain if self.weeks_of_pain is not None else '?'} weeks, started "
            f"{self.get_onset_display().lower() or '?'}; "
            + ("has had it before." if yes("had_before") else "first episode."),
            f"Pain (0–10): first steps {self.pain_first_steps}, average {self.pain_average}, "
            f"worst {self.pain_worst}.",
        ]
        symptoms = [q.short for q in SYMPTOMS if yes(q.field)]
        if symptoms:
            lines.append("Reports " + "; ".join(symptoms) + ".")
        lines.append(
            f"Walks {self.walking_minutes} min before pain stops them; stands "
            f"{self.standing_hours} h a day."
        )
        if self.activities:
            lines.append(
                "Activities (0–10 now): "
                + "; ".join(f"{name} {score}" for name, score in self.activities)
                + "."
            )
        risks = [f"BMI {self.bmi}"] if self.bmi else []
        if yes("high_impact_activity"):
            risks.append(f"high-impact activity ({self.high_impact_details})")
        risks += [
            label
            for name, label in (
                ("long_hours_standing", "long hours standing"),
                ("tight_calves", "tight calves or stiff ankles"),
                ("unsupportive_footwear", "footwear without arch support"),
            )
            if yes(name)
        ]
        if self.foot_type in (FootType.FLAT, FootType.HIGH_ARCH):
            risks.append(self.get_foot_type_display().lower())
        lines.append("Risk factors: " + ", ".join(risks) + ".")
        if self.treatments_tried:
            tried = "; ".join(
                f"{name.lower()} ({result})" for name, result in self.treatments_tried
            )
            if self.last_injection_on:
                tried += f"; last injection {self.last_injection_on:%Y-%m-%d}"
            lines.append(f"Tried: {tried}.")
        for _, reason, details in self.screening_flags:
            lines.append(f"Screening: {reason}: {details}")
        if self.goals:
            lines.append(f"Goals: {self.goals}")
        return "\n".join(lines)

    @property
    def injection_tried(self) -> bool:
        return self.tried_injection not in ("", TreatmentOutcome.NOT_TRIED)
