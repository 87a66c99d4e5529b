"""The intake questionnaire's wording: the questions the patient answers, in the clinic's words.

The models take their labels from here and the steps list which answers each page holds, so a
change of wording is made once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class YesNoQuestion:
    field: str
    question: str
    short: str  # how the answer reads on staff pages (for screening: the reason for review)


SYMPTOMS = (
    YesNoQuestion(
        "symptom_first_steps",
        "Sharp pain with your first steps in the morning?",
        "sharp pain with the first steps in the morning",
    ),
    YesNoQuestion(
        "symptom_after_rest",
        "Pain after sitting or standing still for a while?",
        "pain after sitting or standing still",
    ),
    YesNoQuestion(
        "symptom_eases_when_warm",
        "Does the pain ease once your foot warms up?",
        "pain easing once the foot warms up",
    ),
    YesNoQuestion(
        "symptom_after_exercise",
        "Pain after exercise rather than during it?",
        "pain after exercise rather than during",
    ),
    YesNoQuestion(
        "symptom_into_arch",
        "Discomfort spreading from the heel into the arch?",
        "discomfort spreading into the arch",
    ),
    YesNoQuestion(
        "symptom_toes_up",
        "Pain when you pull your toes up towards your shin?",
        "pain pulling the toes up",
    ),
    YesNoQuestion("symptom_stairs", "Pain climbing stairs?", "pain climbing stairs"),
    YesNoQuestion("symptom_swelling", "Swelling or redness at the heel?", "swelling or redness"),
    YesNoQuestion(
        "symptom_limping", "Limping, or a change in the way you walk?", "limping or changed gait"
    ),
)

# Any "yes" here marks the patient for practitioner review before a course of dry needling.
SCREENING = (
    YesNoQuestion(
        "screen_needle_fear",
        "Are you afraid of needles, or have you ever fainted with needles?",
        "Fear of needles or fainting with needles",
    ),
    YesNoQuestion(
        "screen_bleeding_disorder",
        "Do you have a bleeding disorder (for example haemophilia)?",
        "Bleeding disorder",
    ),
    YesNoQuestion(
        "screen_anticoagulants",
        "Do you take blood thinners (anticoagulant or antiplatelet medication, such as "
        "warfarin, apixaban or clopidogrel)?",
        "Anticoagulant or antiplatelet medication",
    ),
    YesNoQuestion("screen_pregnancy", "Are you pregnant, or could you be?", "Pregnancy"),
    YesNoQuestion(
        "screen_diabetes",
        "Do you have diabetes, or reduced feeling in your feet?",
        "Diabetes or reduced feeling in the feet",
    ),
    YesNoQuestion(
        "screen_immune",
        "Is your immune system weakened (by illness or by medication)?",
        "Weakened immune system",
    ),
    YesNoQuestion(
        "screen_skin",
        "Do you have an infection, a wound or a skin condition on your foot or calf?",
        "Infection, wound or skin condition on the foot or calf",
    ),
    YesNoQuestion("screen_lymphoedema", "Do you have lymphoedema?", "Lymphoedema"),
    YesNoQuestion("screen_metal_allergy", "Are you allergic to any metal?", "Metal allergy"),
    YesNoQuestion(
        "screen_recent_surgery",
        "Have you had surgery on your leg or foot recently?",
        "Recent surgery on the leg",
    ),
    YesNoQuestion(
        "screen_other",
        "Do you have any other health concern we should know about?",
        "Other health concern",
    ),
)

SCREENING_BY_FIELD = {question.field: question for question in SCREENING}


@dataclass(frozen=True)
class Treatment:
    field: str
    name: str


TREATMENTS = (
    Treatment("tried_strengthening", "Strengthening exercises"),
    Treatment("tried_shockwave", "Shockwave therapy"),
    Treatment("tried_rolling", "Rolling the foot (ball, bottle)"),
    Treatment("tried_stretching", "Stretching"),
    Treatment("tried_orthotics", "Orthotics or insoles"),
    Treatment("tried_footwear", "Supportive footwear"),
    Treatment("tried_injection", "Corticosteroid injection"),
    Treatment("tried_medication", "Pain medication"),
)


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    fields: tuple[str, ...]

    @property
    def number(self) -> int:
        return STEPS.index(self) + 1


STEPS = (
    Step(
        "contact",
        "Your contact details",
        (
            "phone",
            "email",
            "emergency_contact_name",
            "emergency_contact_phone",
            "preferred_location",
        ),
    ),
    Step("complaint", "Your heel pain", ("affected_foot", "weeks_of_pain", "onset", "had_before")),
    Step("symptoms", "Symptoms", tuple(q.field for q in SYMPTOMS)),
    Step(
        "pain",
        "Pain, daily life and goals",
        (
            "pain_first_steps",
            "pain_average",
            "pain_worst",
            "walking_minutes",
            "activity_1",
            "activity_1_score",
            "activity_2",
            "activity_2_score",
            "activity_3",
            "activity_3_score",
            "goals",
        ),
    ),
    Step(
        "risk",
        "You and your feet",
        (
            "measurement_units",
            "height_cm",
            "weight_kg",
            "foot_type",
            "high_impact_activity",
            "high_impact_details",
            # Asked once, here among the risk factors (prolonged standing is one); it used to
            # be asked again as a yes/no, `long_hours_standing`, kept for earlier answers.
            "standing_hours",
            "tight_calves",
            "unsupportive_footwear",
        ),
    ),
    Step(
        "treatments",
        "Treatments you have tried",
        tuple(t.field for t in TREATMENTS) + ("last_injection_on",),
    ),
    Step(
        "screening",
        "Safety questions",
        tuple(name for q in SCREENING for name in (q.field, f"{q.field}_details")),
    ),
    Step("review", "Check, consent and sign", ()),
)

STEPS_BY_SLUG = {step.slug: step for step in STEPS}
QUESTION_STEPS = STEPS[:-1]  # every step but the last holds answers; the last one signs
