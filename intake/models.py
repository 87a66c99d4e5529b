"""Intake and clinical records: consent texts and signatures, the patient's questionnaire.

Records that are signed or submitted are locked by PostgreSQL itself (triggers made by this
app's migrations), not only by the application.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import unicodedata
import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.text import capfirst

from clinic.models import Location, Patient
from clinic.text_limits import bounded_text
from clinic.validators import validate_not_in_future, validate_phone
from intake.questionnaire import SCREENING, SCREENING_BY_FIELD, SYMPTOMS, TREATMENTS


def patient_zone(patient: Patient, location: Location | None = None) -> zoneinfo.ZoneInfo:
    """The time zone a patient's records are shown in: the location concerned, else their
    preferred location's, else the server's."""
    location = location or patient.preferred_location
    return location.zone if location else zoneinfo.ZoneInfo(settings.TIME_ZONE)


# --- Consent ---------------------------------------------------------------------------------


class ConsentDocument(models.Model):
    """A consent the patient gives: its text lives in numbered versions."""

    class Kind(models.TextChoices):
        DRY_NEEDLING = "dry_needling", "Informed consent to dry needling"
        PRIVACY = "privacy", "Consent to the handling of your health information"

    kind = models.CharField(max_length=30, choices=Kind.choices, unique=True)
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.title


class ConsentVersionQuerySet(models.QuerySet):
    def published(self) -> ConsentVersionQuerySet:
        return self.filter(published_at__isnull=False)

    def current(self) -> ConsentVersionQuerySet:
        """The version in force of each document: the highest published number."""
        return (
            self.published()
            .order_by("document_id", "-number")
            .distinct("document_id")
            .select_related("document")
        )


@bounded_text
class ConsentVersion(models.Model):
    """One wording of a consent document. Once published it never changes (the database
    refuses); a new wording is a new version, and signatures keep pointing at theirs."""

    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    body = models.TextField(
        help_text="The text the patient reads. Blank lines separate paragraphs.", max_length=20000
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ConsentVersionQuerySet.as_manager()

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="consent_version_number_once_per_document"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="consent_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.document.title}, version {self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.body.split("\n\n") if part.strip()]


def normalise_name(name: str) -> str:
    """A name as typed, with case, spacing and accents forgiven: 'robert  COTE' matches
    'Robert Côté'."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


def signature_matches(typed: str, patient: Patient) -> bool:
    return bool(typed and typed.strip()) and normalise_name(typed) == normalise_name(
        patient.full_name
    )


class ConsentSignature(models.Model):
    """A patient's signature of one consent version: typed full name, time, version.
    Append-only (the database refuses changes)."""

    class Method(models.TextChoices):
        ONLINE = "online", "Online, with the questionnaire"
        COUNTER = "counter", "At the counter"

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="consent_signatures"
    )
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="signatures")
    signed_name = models.CharField(max_length=200)
    signed_at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10, choices=Method.choices)
    intake = models.ForeignKey(
        "Intake",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consent_signatures",
    )
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member at the counter, when signed there.",
    )

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["patient", "version"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(signed_name=""), name="consent_signature_has_a_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signed_name}: {self.version} ({self.signed_at:%Y-%m-%d})"


# --- The intake questionnaire ----------------------------------------------------------------


def _yes_no(question: str) -> models.BooleanField:
    return models.BooleanField(question, null=True, blank=True)


def _score(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MaxValueValidator(10)]
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
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The submission this one corrects.",
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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
    pain_first_steps = _score("Pain with your first steps in the morning")
    pain_average = _score("Average pain over the last week")
    pain_worst = _score("Worst pain over the last week")

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
    activity_1_score = _score("How well can you do it now?")
    activity_2 = models.CharField("Activity 2", max_length=100, blank=True)
    activity_2_score = _score("How well can you do it now?")
    activity_3 = models.CharField("Activity 3", max_length=100, blank=True)
    activity_3_score = _score("How well can you do it now?")
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
        return self.patient.age_on(timezone.localdate(at))

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


# --- Clinical notes: the assessment and the treatment sessions -------------------------------
#
# A note is a draft while its author writes it; signing (with their password) stores a
# fingerprint of its content and locks the row: PostgreSQL refuses any UPDATE or DELETE of a
# signed note (intake_refuse_change_once_locked('signed_at')). Later changes are amendments,
# appended and signed the same way; the note's current state is its content with every
# amendment applied in order.


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"


class Muscle(models.TextChoices):
    GASTROCNEMIUS = "gastrocnemius", "Gastrocnemius"
    SOLEUS = "soleus", "Soleus"
    TIBIALIS_POSTERIOR = "tibialis_posterior", "Tibialis posterior"
    FLEXOR_DIGITORUM_BREVIS = "flexor_digitorum_brevis", "Flexor digitorum brevis"
    ABDUCTOR_HALLUCIS = "abductor_hallucis", "Abductor hallucis"
    QUADRATUS_PLANTAE = "quadratus_plantae", "Quadratus plantae"
    FLEXOR_HALLUCIS_LONGUS = "flexor_hallucis_longus", "Flexor hallucis longus"


# "gastrocnemius:left"..., all of the left side first (they are shown in two columns).
TRIGGER_POINTS = [
    (f"{muscle.value}:{side.value}", f"{muscle.label}, {side.label.lower()}")
    for side in Side
    for muscle in Muscle
]


class CombinedCare(models.TextChoices):
    STRETCHING = "stretching", "Stretching programme"
    SHOCKWAVE = "shockwave", "Shockwave therapy"
    ORTHOTICS = "orthotics", "Orthotics"
    FOOTWEAR = "footwear", "Footwear advice"
    STRENGTHENING = "strengthening", "Strengthening"
    GAIT_TRAINING = "gait_training", "Gait training"
    WEIGHT_MANAGEMENT = "weight_management", "Weight management"


class Windlass(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEGATIVE = "negative", "Negative"
    NOT_TESTED = "not_tested", "Not tested"


class Severity4(models.TextChoices):
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


def jsonable(value):
    """A field value as it appears in a note's signed content (and its fingerprint)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return value


def canonical_json(content: dict) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint_of(content: dict) -> str:
    """sha256 of the canonical JSON of `content`: what is stored and shown when a note (or an
    amendment) is signed, so that any later change can be seen."""
    return hashlib.sha256(canonical_json(content).encode()).hexdigest()


def describe(model: type[models.Model], name: str, value) -> str:
    """A note's field value (as stored in its content) in words, for pages and amendments."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "goals":
        return "; ".join(
            goal["goal"] + (f" (by {goal['target']})" if goal.get("target") else "")
            for goal in value
        )
    if name == "muscles_needled":
        muscles = dict(Muscle.choices)
        return "; ".join(
            f"{muscles.get(row['muscle'], row['muscle'])} {row['side']}: {row['needles']} "
            f"needle{'s' if row['needles'] != 1 else ''}"
            + (", twitch response" if row.get("twitch") else "")
            for row in value
        )
    if name == "flag_acknowledgements":
        return "; ".join(
            (SCREENING_BY_FIELD[field].short if field in SCREENING_BY_FIELD else field)
            + (f": {note}" if note else "")
            for field, note in value.items()
        )
    field = model._meta.get_field(name)
    if isinstance(field, ArrayField):
        labels = dict(field.base_field.choices or [])
        return "; ".join(str(labels.get(item, item)) for item in value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField):
        moment = field.to_python(value)
        return timezone.localtime(moment).strftime("%-d %B %Y, %H:%M")
    return str(value)


class SignedNote(models.Model):
    """What assessment and treatment notes share: author, draft revisions, signature."""

    # The clinical content, in the order pages show it; signed, fingerprinted and amendable.
    CLINICAL_FIELDS: tuple[str, ...] = ()
    SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = ()

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("clinic.Practitioner", on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The booking app's appointment this note records, when there is one (a plain id:
    # intake never imports booking).
    appointment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # Every save of the draft adds one; a save from a page opened at an older revision is
    # refused, so two tabs never silently overwrite each other.
    revision = models.PositiveIntegerField(default=0)
    signed_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def content(self) -> dict:
        return {name: jsonable(getattr(self, name)) for name in self.CLINICAL_FIELDS}

    def signed_content(self) -> dict:
        """Everything the signature covers: which record, whose, by whom, when, and what."""
        return {
            "record": self._meta.label_lower,
            "id": self.pk,
            "patient": self.patient_id,
            "author": self.author_id,
            "signed_at": jsonable(self.signed_at),
            "content": self.content(),
        }

    def compute_fingerprint(self) -> str:
        return fingerprint_of(self.signed_content())

    @property
    def fingerprint_verified(self) -> bool:
        return bool(self.fingerprint) and self.fingerprint == self.compute_fingerprint()

    def amendments_in_order(self) -> list:
        return sorted(self.amendments.all(), key=lambda amendment: amendment.number)

    def current_content(self) -> dict:
        """The note as it stands now: its signed content with each amendment applied."""
        state = self.content()
        for amendment in self.amendments_in_order():
            for name, change in amendment.changes.items():
                state[name] = change["to"]
        return state

    def current(self) -> SignedNote:
        """An unsaved copy of the note holding its current content, to read and show it."""
        copy = type(self)(
            **{field.attname: getattr(self, field.attname) for field in self._meta.concrete_fields}
        )
        for name, value in self.current_content().items():
            setattr(copy, name, self._meta.get_field(name).to_python(value))
        return copy

    def sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """The content in words, by section: [(title, [(label, value)])]."""
        content = self.content()
        return [
            (
                title,
                [
                    (
                        capfirst(self._meta.get_field(name).verbose_name),
                        describe(type(self), name, content[name]),
                    )
                    for name in names
                ],
            )
            for title, names in self.SECTIONS
        ]

    @property
    def last_signed_at(self) -> dt.datetime | None:
        """When the note's current state was signed: its last amendment's time, or its own."""
        amendments = self.amendments_in_order()
        return amendments[-1].signed_at if amendments else self.signed_at


def _signed_has_fingerprint(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(signed_at__isnull=True) | Q(fingerprint__regex=r"^[0-9a-f]{64}$"),
        name=f"{prefix}_signed_has_a_fingerprint",
    )


@bounded_text
class AssessmentNote(SignedNote):
    """The practitioner's initial assessment: findings, the decision whether dry needling is
    appropriate, and the plan of the course. Its signed decision is what lets a course be
    booked (`intake.selectors.course_gate`)."""

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
    calf_tightness = models.CharField(max_length=10, blank=True, choices=Severity4.choices)
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
            _signed_has_fingerprint("assessment"),
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

    def signing_problems(self, *, flags: list[tuple[str, str, str]]) -> dict[str, str]:
        """What must be filled in before the note can be signed: {field: message}.
        `flags` are the screening flags of the patient's current questionnaire."""
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
        if self.needling_appropriate is None:
            problems["needling_appropriate"] = "Decide whether dry needling is appropriate."
        if not self.decision_reason.strip():
            problems["decision_reason"] = "Give the reason for the decision."
        if self.needling_appropriate:
            if self.planned_sessions is None:
                problems["planned_sessions"] = "Choose 4, 5 or 6 sessions."
            if self.session_minutes is None:
                problems["session_minutes"] = "Choose 15, 20 or 30 minutes per session."
            if self.interval_days is None:
                problems["interval_days"] = "Choose how often."
        return problems


class AdverseEvent(models.TextChoices):
    NONE = "none", "None"
    SORENESS = "soreness", "Soreness"
    BRUISING = "bruising", "Bruising"
    BLEEDING = "bleeding", "Bleeding"
    FAINTING = "fainting", "Fainting"
    OTHER = "other", "Other"


class Severity(models.TextChoices):
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
class TreatmentNote(SignedNote):
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
        related_name="treatment_notes",
        help_text="The signed assessment that prescribed the course.",
    )
    session_number = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    performed_at = models.DateTimeField("date and time of the session", default=timezone.now)
    pre_session_pain = models.PositiveSmallIntegerField(
        "pain before the session (0–10)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(10)],
    )
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
        "severity", max_length=10, blank=True, choices=Severity.choices
    )
    adverse_event_action = models.TextField("action taken", blank=True, max_length=2000)
    advice_given = models.TextField(blank=True, max_length=2000)
    plan_next = models.TextField("plan for next time", blank=True, max_length=2000)

    class Meta:
        ordering = ["session_number"]
        constraints = [
            _signed_has_fingerprint("treatment_note"),
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
        return describe(TreatmentNote, "muscles_needled", self.muscles_needled)

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


class Amendment(models.Model):
    """A signed change to a signed note: who, when, why, and what changed (old and new value
    of each field), appended in order. The original stays readable; amendments are
    append-only in the database."""

    author = models.ForeignKey("clinic.Practitioner", on_delete=models.PROTECT, related_name="+")
    number = models.PositiveSmallIntegerField()
    signed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField("reason for the amendment", max_length=2000)
    # {field: {"from": old value, "to": new value}}
    changes = models.JSONField(default=dict, blank=True)
    addendum = models.TextField(blank=True, max_length=5000)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        abstract = True
        ordering = ["number"]

    def __str__(self) -> str:
        return f"Amendment {self.number} of {self.note}"

    def signed_content(self, *, previous_fingerprint: str) -> dict:
        """What the amendment's signature covers, chained to the note's (or the previous
        amendment's) fingerprint so that none can be removed or reordered unseen."""
        return {
            "record": self._meta.label_lower,
            "note": self.note_id,
            "number": self.number,
            "previous": previous_fingerprint,
            "author": self.author_id,
            "signed_at": jsonable(self.signed_at),
            "reason": self.reason,
            "changes": self.changes,
            "addendum": self.addendum,
        }

    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field label, from, to) for each change, in words."""
        model = self._meta.get_field("note").related_model
        return [
            (
                capfirst(model._meta.get_field(name).verbose_name),
                describe(model, name, change["from"]),
                describe(model, name, change["to"]),
            )
            for name, change in self.changes.items()
        ]


@bounded_text
class AssessmentAmendment(Amendment):
    note = models.ForeignKey(AssessmentNote, on_delete=models.PROTECT, related_name="amendments")

    class Meta(Amendment.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["note", "number"], name="assessment_amendment_number_once"
            )
        ]


@bounded_text
class TreatmentNoteAmendment(Amendment):
    note = models.ForeignKey(TreatmentNote, on_delete=models.PROTECT, related_name="amendments")

    class Meta(Amendment.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["note", "number"], name="treatment_note_amendment_number_once"
            )
        ]


# --- Outcome check-ins ------------------------------------------------------------------------
#
# What the patient reports across the course: before each session, 24–48 hours after it, at
# the end of the course and at the 4- and 12-week follow-ups. Intake never imports booking, so
# a check-in names its appointment and course by plain ids, like the notes do. Rows are
# append-only (the database refuses UPDATE and DELETE): a correction is a new row that
# supersedes the one it corrects, and both are kept.


class CheckInKind(models.TextChoices):
    BEFORE_SESSION = "before_session", "Before a session"
    AFTER_CARE = "after_care", "After-care check"
    END_OF_COURSE = "end_of_course", "End of the course"
    FOLLOW_UP_4 = "follow_up_4", "4-week follow-up"
    FOLLOW_UP_12 = "follow_up_12", "12-week follow-up"


# About one appointment (a session) / about a course as a whole.
SESSION_KINDS = (CheckInKind.BEFORE_SESSION, CheckInKind.AFTER_CARE)
COURSE_KINDS = (CheckInKind.END_OF_COURSE, CheckInKind.FOLLOW_UP_4, CheckInKind.FOLLOW_UP_12)
# The kinds that ask the two pain scales (the after-care check asks about after-effects only).
PAIN_KINDS = (CheckInKind.BEFORE_SESSION, *COURSE_KINDS)
# Weeks after the course's last session at which each follow-up is asked.
FOLLOW_UP_WEEKS = {CheckInKind.FOLLOW_UP_4: 4, CheckInKind.FOLLOW_UP_12: 12}


class CheckInChannel(models.TextChoices):
    LINK = "link", "From an email link"
    HOME = "home", "From the patient's own page"
    COUNTER = "counter", "On the counter tablet"


class Soreness(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class CheckInQuerySet(models.QuerySet):
    def current(self) -> CheckInQuerySet:
        """Answers not replaced by a correction."""
        return self.exclude(models.Exists(CheckIn.objects.filter(supersedes=models.OuterRef("pk"))))


def _checkin_score(label: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, null=True, blank=True, validators=[MaxValueValidator(10)]
    )


def _kind_in(kinds) -> Q:
    return Q(kind__in=[str(kind) for kind in kinds])


@bounded_text
class CheckIn(models.Model):
    """One answer of a patient about how they are doing (see the section comment above)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="checkins")
    kind = models.CharField(max_length=20, choices=CheckInKind.choices)
    channel = models.CharField(max_length=10, choices=CheckInChannel.choices)
    # The booking app's appointment: the session asked about, or for the end-of-course and
    # follow-up questionnaires, the course's last session.
    appointment_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    course_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    session_number = models.PositiveSmallIntegerField(null=True, blank=True)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    practitioner = models.ForeignKey(
        "clinic.Practitioner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who saw the patient at that session: a worrying after-care answer alerts them.",
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The answer this one corrects.",
    )
    reported_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the patient first answered; a correction keeps the time of the answer "
        "it corrects, so the chart does not move.",
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The staff member who handed over the counter tablet.",
    )

    # Pain scales (before a session, at the end of the course and at follow-ups).
    pain_first_steps = _checkin_score("Pain with your first steps this morning")
    pain_average = _checkin_score("Your average pain over the last few days")
    walking_normally = models.BooleanField("Are you walking normally?", null=True, blank=True)
    after_effects = models.TextField(
        "After-effects since your last session", blank=True, max_length=2000
    )

    # The after-care check, 24–48 hours after a needling session.
    soreness = models.CharField(
        "How sore is the area that was needled?",
        max_length=10,
        blank=True,
        choices=Soreness.choices,
    )
    bruising = models.BooleanField("Do you have any bruising?", null=True, blank=True)
    worrying = models.BooleanField("Is anything worrying you?", null=True, blank=True)
    worrying_details = models.TextField("What is worrying you?", blank=True, max_length=2000)

    # End of the course and follow-ups.
    improved_pain_mobility = models.BooleanField(
        "Have your pain and mobility improved?", null=True, blank=True
    )
    improved_strength = models.BooleanField("Has your strength improved?", null=True, blank=True)
    improved_walking = models.BooleanField(
        "Has your walking (gait) improved?", null=True, blank=True
    )
    recommend = _checkin_score(
        "How likely are you to recommend dry needling to a friend or family member?"
    )
    comments = models.TextField(
        "Anything else you would like to tell us?", blank=True, max_length=2000
    )

    objects = CheckInQuerySet.as_manager()

    class Meta:
        ordering = ["reported_at", "id"]
        indexes = [models.Index(fields=["patient", "reported_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CheckInKind.values), name="checkin_kind_is_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=CheckInChannel.values), name="checkin_channel_is_known"
            ),
            models.CheckConstraint(
                condition=Q(pain_first_steps__lte=10)
                & Q(pain_average__lte=10)
                & Q(recommend__lte=10),
                name="checkin_scores_0_to_10",
            ),
            models.CheckConstraint(
                condition=~_kind_in(SESSION_KINDS) | Q(appointment_id__isnull=False),
                name="checkin_about_a_session_names_the_appointment",
            ),
            models.CheckConstraint(
                condition=~_kind_in(COURSE_KINDS) | Q(course_id__isnull=False),
                name="checkin_about_a_course_names_the_course",
            ),
            models.CheckConstraint(
                condition=~_kind_in(PAIN_KINDS)
                | Q(pain_first_steps__isnull=False, pain_average__isnull=False),
                name="checkin_pain_scales_answered",
            ),
            models.CheckConstraint(
                condition=~Q(kind=CheckInKind.AFTER_CARE)
                | (~Q(soreness="") & Q(bruising__isnull=False, worrying__isnull=False)),
                name="checkin_after_care_answered",
            ),
            models.CheckConstraint(
                condition=~Q(worrying=True) | ~Q(worrying_details=""),
                name="checkin_worry_has_details",
            ),
            models.CheckConstraint(
                condition=Q(submitted_at__gte=F("reported_at")),
                name="checkin_submitted_after_first_reported",
            ),
            # With `supersedes` one-to-one, these make each session's (or course's) answers of
            # one kind a single chain: one first answer, each corrected at most once.
            models.UniqueConstraint(
                fields=["appointment_id", "kind"],
                condition=Q(supersedes__isnull=True) & _kind_in(SESSION_KINDS),
                name="checkin_one_first_answer_per_session",
            ),
            models.UniqueConstraint(
                fields=["course_id", "kind"],
                condition=Q(supersedes__isnull=True) & _kind_in(COURSE_KINDS),
                name="checkin_one_first_answer_per_course",
            ),
            # Referred to by (supersedes, patient): a correction is of the patient's own answer.
            models.UniqueConstraint(fields=["id", "patient"], name="checkin_id_with_patient"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.patient} ({self.reported_at:%Y-%m-%d})"

    @property
    def is_correction(self) -> bool:
        return self.supersedes_id is not None

    @property
    def asks_pain(self) -> bool:
        return self.kind in PAIN_KINDS

    def answers(self) -> list[tuple[str, str]]:
        """(question, answer in words) for each question this kind asks, in order."""
        rows = []
        for name in CHECKIN_QUESTIONS[self.kind]:
            field = self._meta.get_field(name)
            value = getattr(self, name)
            if isinstance(value, bool):
                text = "Yes" if value else "No"
            elif value in (None, ""):
                text = "—"
            elif field.choices:
                text = str(dict(field.flatchoices).get(value, value))
            elif name.startswith("pain_") or name == "recommend":
                text = f"{value} out of 10"
            else:
                text = str(value)
            rows.append((capfirst(field.verbose_name), text))
        return rows


# The questions each kind asks, in the order forms and pages show them.
_COURSE_QUESTIONS = (
    "pain_first_steps",
    "pain_average",
    "improved_pain_mobility",
    "improved_strength",
    "improved_walking",
    "recommend",
    "comments",
)
CHECKIN_QUESTIONS: dict[str, tuple[str, ...]] = {
    CheckInKind.BEFORE_SESSION: (
        "pain_first_steps",
        "pain_average",
        "walking_normally",
        "after_effects",
    ),
    CheckInKind.AFTER_CARE: ("soreness", "bruising", "worrying", "worrying_details"),
    CheckInKind.END_OF_COURSE: _COURSE_QUESTIONS,
    CheckInKind.FOLLOW_UP_4: _COURSE_QUESTIONS,
    CheckInKind.FOLLOW_UP_12: _COURSE_QUESTIONS,
}


class AfterCareResponse(models.Model):
    """What a practitioner did about a worrying after-care answer (phoned the patient, asked
    them in...). Its existence takes the answer off the practitioners' alert list.
    Append-only in the database."""

    checkin = models.OneToOneField(CheckIn, on_delete=models.PROTECT, related_name="response")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField("what was done", max_length=300)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="aftercare_response_says_what")
        ]

    def __str__(self) -> str:
        return f"Response to {self.checkin} ({self.at:%Y-%m-%d})"
