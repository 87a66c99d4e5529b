"""Outcome surveys (class `OutcomeSurvey`, table intake_checkin; named survey here because "check-in"
is also arriving at the desk): what the patient reports across the course (see the section
comment below), and what a practitioner did about a worrying after-care answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import capfirst

from clinic.models import Location, Patient, actor_field
from clinic.text_limits import bounded_text
from intake.questionnaire.models.intake import score_field, supersedes_field

# --- Outcome surveys ------------------------------------------------------------------------
#
# What the patient reports across the course: before each session, 24–48 hours after it, at
# the end of the course and at the 4- and 12-week follow-ups. Intake never imports booking, so
# a survey names its appointment and course by plain ids, like the notes do. Rows are
# append-only (the database refuses UPDATE and DELETE): a correction is a new row that
# supersedes the one it corrects, and both are kept.


class SurveyKind(models.TextChoices):
    BEFORE_SESSION = "before_session", "Before a session"
    AFTER_CARE = "after_care", "After-care check"
    END_OF_COURSE = "end_of_course", "End of the course"
    FOLLOW_UP_4 = "follow_up_4", "4-week follow-up"
    FOLLOW_UP_12 = "follow_up_12", "12-week follow-up"


# About one appointment (a session) / about a course as a whole.
SESSION_KINDS = (SurveyKind.BEFORE_SESSION, SurveyKind.AFTER_CARE)
COURSE_KINDS = (SurveyKind.END_OF_COURSE, SurveyKind.FOLLOW_UP_4, SurveyKind.FOLLOW_UP_12)
# The kinds that ask the two pain scales (the after-care check asks about after-effects only).
PAIN_KINDS = (SurveyKind.BEFORE_SESSION, *COURSE_KINDS)
# Weeks after the course's last session at which each follow-up is asked.
FOLLOW_UP_WEEKS = {SurveyKind.FOLLOW_UP_4: 4, SurveyKind.FOLLOW_UP_12: 12}


class SurveyChannel(models.TextChoices):
    LINK = "link", "From an email link"
    HOME = "home", "From the patient's own page"
    COUNTER = "counter", "On the counter tablet"


class Soreness(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class OutcomeSurveyQuerySet(models.QuerySet):
    def current(self) -> OutcomeSurveyQuerySet:
        """Answers not replaced by a correction."""
        return self.exclude(
            models.Exists(OutcomeSurvey.objects.filter(supersedes=models.OuterRef("pk")))
        )


def _kind_in(kinds) -> Q:
    return Q(kind__in=[str(kind) for kind in kinds])


@bounded_text
class OutcomeSurvey(models.Model):
    """One answer of a patient about how they are doing (see the section comment above)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="outcome_surveys")
    kind = models.CharField(max_length=20, choices=SurveyKind.choices)
    channel = models.CharField(max_length=10, choices=SurveyChannel.choices)
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
    supersedes = supersedes_field("The answer this one corrects.")
    reported_at = models.DateTimeField(
        default=timezone.now,
        help_text="When the patient first answered; a correction keeps the time of the answer "
        "it corrects, so the chart does not move.",
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = actor_field()
    collected_by = actor_field("The staff member who handed over the counter tablet.")

    # Pain scales (before a session, at the end of the course and at follow-ups).
    pain_first_steps = score_field("Pain with your first steps this morning")
    pain_average = score_field("Your average pain over the last few days")
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
    recommend = score_field(
        "How likely are you to recommend dry needling to a friend or family member?"
    )
    comments = models.TextField(
        "Anything else you would like to tell us?", blank=True, max_length=2000
    )

    objects = OutcomeSurveyQuerySet.as_manager()

    class Meta:
        # The table keeps the model's first name (CheckIn); see the module's opening comment.
        db_table = "intake_checkin"
        ordering = ["reported_at", "id"]
        indexes = [
            models.Index(fields=["patient", "reported_at"]),
            # The results dashboard reads the period's after-care answers by time: a few among
            # the many questionnaires (ten years of a busy clinic: 9 ms a render without it).
            models.Index(
                fields=["reported_at"],
                condition=Q(kind=SurveyKind.AFTER_CARE),
                name="checkin_after_care_by_time",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SurveyKind.values), name="checkin_kind_is_known"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=SurveyChannel.values), name="checkin_channel_is_known"
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
                condition=~Q(kind=SurveyKind.AFTER_CARE)
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
        for name in SURVEY_QUESTIONS[self.kind]:
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
SURVEY_QUESTIONS: dict[str, tuple[str, ...]] = {
    SurveyKind.BEFORE_SESSION: (
        "pain_first_steps",
        "pain_average",
        "walking_normally",
        "after_effects",
    ),
    SurveyKind.AFTER_CARE: ("soreness", "bruising", "worrying", "worrying_details"),
    SurveyKind.END_OF_COURSE: _COURSE_QUESTIONS,
    SurveyKind.FOLLOW_UP_4: _COURSE_QUESTIONS,
    SurveyKind.FOLLOW_UP_12: _COURSE_QUESTIONS,
}


class AfterCareResponse(models.Model):
    """What a practitioner did about a worrying after-care answer (phoned the patient, asked
    them in...). Its existence takes the answer off the practitioners' alert list.
    Append-only in the database."""

    checkin = models.OneToOneField(OutcomeSurvey, on_delete=models.PROTECT, related_name="response")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField("what was done", max_length=300)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(note=""), name="aftercare_response_says_what")
        ]

    def __str__(self) -> str:
        return f"Response to {self.checkin} ({self.at:%Y-%m-%d})"
