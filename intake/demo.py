"""Intake's part of the demo story (../shared/domain.md, "Demo data that tells the story").

Called by `python manage.py seed_demo` through IntakeConfig.seed_demo. Keyed on natural keys
(document kind and version number, patient): running it again creates nothing new, and it
never touches a submitted or signed record (the database would refuse anyway).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from clinic.demo import DemoStory
from clinic.models import Patient, User
from intake.models import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    FootType,
    Intake,
    Onset,
    TreatmentOutcome,
    Units,
)
from intake.questionnaire import QUESTION_STEPS, SCREENING, SYMPTOMS

DRY_NEEDLING_V1 = """\
Dry needling places thin, sterile, single-use needles into trigger points of the muscles of your calf and foot, to ease pain and help you move better. It is one part of your care plan and is always done by a practitioner trained in it.

Common after-effects are mild soreness, a feeling of warmth or heaviness, and sometimes a small bruise where a needle went in. They usually pass within a day or two; ice and rest help.

Rarer risks are bleeding, fainting during or after a session, and infection at a needle site.

You may ask questions at any time, and you may stop the treatment at any time, without giving a reason."""

DRY_NEEDLING_V2 = """\
Dry needling places thin, sterile, single-use needles into trigger points of the muscles of your calf and foot, to ease pain and help you move better. It is one part of your care plan, often together with stretching, strengthening and shockwave therapy, and is always done by a practitioner with a current dry-needling certification.

A twitch of the muscle is common when a needle reaches a trigger point; it is brief and expected.

Common after-effects are mild soreness, a feeling of warmth or heaviness, and sometimes a small bruise where a needle went in. They usually pass within a day or two; ice and rest help.

Rarer risks are bleeding, fainting during or after a session, and infection at a needle site. Tell your practitioner if you take blood thinners, if you are or could be pregnant, or if anything in your health has changed since your last visit.

You may ask questions at any time, and you may stop the treatment at any time, without giving a reason."""

PRIVACY_V1 = """\
We keep the answers of this questionnaire and the notes of your care in your clinical record, to treat you safely and well.

Only the staff of the locations where you are registered see your record, and each access is logged. We never share it without your consent, except where the law requires.

You may ask to see your record, and to correct it, at any time."""

CONSENTS = [
    # (kind, title, [(number, body, published days ago)])
    (
        ConsentDocument.Kind.DRY_NEEDLING,
        "Informed consent to dry needling",
        [(1, DRY_NEEDLING_V1, 400), (2, DRY_NEEDLING_V2, 30)],
    ),
    (
        ConsentDocument.Kind.PRIVACY,
        "Consent to the handling of your health information",
        [(1, PRIVACY_V1, 400)],
    ),
]


def _complete_answers(patient: Patient, **overrides) -> dict:
    answers = {
        "phone": patient.phone,
        "email": patient.email,
        "emergency_contact_name": patient.emergency_contact_name or "Chris " + patient.last_name,
        "emergency_contact_phone": patient.emergency_contact_phone or "416-555-0177",
        "preferred_location": patient.preferred_location,
        "affected_foot": "right",
        "weeks_of_pain": 14,
        "onset": Onset.GRADUAL,
        "had_before": False,
        **{q.field: True for q in SYMPTOMS[:5]},
        **{q.field: False for q in SYMPTOMS[5:]},
        "pain_first_steps": 7,
        "pain_average": 5,
        "pain_worst": 8,
        "walking_minutes": 20,
        "standing_hours": Decimal("6"),
        "activity_1": "Walking the dog",
        "activity_1_score": 4,
        "activity_2": "Standing at work",
        "activity_2_score": 5,
        "goals": "Walk the dog for an hour without pain.",
        "measurement_units": Units.METRIC,
        "height_cm": Decimal("172"),
        "weight_kg": Decimal("78"),
        "foot_type": FootType.NEUTRAL,
        "high_impact_activity": False,
        "long_hours_standing": True,
        "tight_calves": True,
        "unsupportive_footwear": False,
        "tried_strengthening": TreatmentOutcome.NOT_TRIED,
        "tried_shockwave": TreatmentOutcome.NOT_TRIED,
        "tried_rolling": TreatmentOutcome.HELPED_A_LITTLE,
        "tried_stretching": TreatmentOutcome.HELPED_A_LITTLE,
        "tried_orthotics": TreatmentOutcome.DID_NOT_HELP,
        "tried_footwear": TreatmentOutcome.HELPED,
        "tried_injection": TreatmentOutcome.NOT_TRIED,
        "tried_medication": TreatmentOutcome.HELPED_A_LITTLE,
        **{q.field: False for q in SCREENING},
    }
    return answers | overrides


def seed_intake(story: DemoStory) -> None:
    versions = _seed_consent(story)
    now = timezone.now()
    days = lambda n: now - dt.timedelta(days=n)  # noqa: E731
    dn_v1, dn_v2 = versions[("dry_needling", 1)], versions[("dry_needling", 2)]
    privacy = versions[("privacy", 1)]

    # Jordan Miles, the demo patient login: a draft with the first step done, to finish online.
    jordan = story.patients["patient"]
    if not jordan.intakes.exists():
        draft = Intake(patient=jordan, started_by=jordan.user, created_at=days(1))
        for name, value in _complete_answers(jordan).items():
            if name in QUESTION_STEPS[0].fields:
                setattr(draft, name, value)
        draft.revision = 1
        draft.step_revisions = {"contact": 1}
        draft.steps_done = ["contact"]
        draft.save()

    # Ellen Park: submitted with two screening "yes" answers, waiting for practitioner review.
    ellen = story.patients["flagged"]
    _submitted(
        ellen,
        submitted_at=days(3),
        answers={
            "affected_foot": "left",
            "weeks_of_pain": 26,
            "had_before": True,
            "pain_first_steps": 8,
            "pain_average": 6,
            "pain_worst": 9,
            "goals": "Get through a shift at the library without limping.",
            "screen_needle_fear": True,
            "screen_needle_fear_details": "I fainted during a blood test in 2019.",
            "screen_anticoagulants": True,
            "screen_anticoagulants_details": "Apixaban 5 mg twice a day, for atrial fibrillation.",
        },
    )
    _signed(ellen, [dn_v2, privacy], at=days(3))

    # Marcus Reid, mid-course: signed only the older dry-needling consent, so it is out of date.
    marcus = story.patients["mid_course"]
    _submitted(
        marcus,
        submitted_at=days(40),
        answers={
            "measurement_units": Units.US,
            "height_cm": Decimal("180.34"),
            "weight_kg": Decimal("90.72"),
            "high_impact_activity": True,
            "high_impact_details": "Running, about 20 miles a week",
            "goals": "Run a 10K again in the spring.",
            "activity_1": "Running",
            "activity_1_score": 2,
        },
    )
    _signed(marcus, [dn_v1, privacy], at=days(40))

    # Grace Liu, finished her course: signed the old version online, the new one at the counter.
    grace = story.patients["finished"]
    _submitted(
        grace,
        submitted_at=days(75),
        answers={
            "affected_foot": "both",
            "weeks_of_pain": 40,
            "tried_injection": TreatmentOutcome.HELPED_A_LITTLE,
            "last_injection_on": story.today - dt.timedelta(days=200),
            "goals": "Garden and walk to the market without heel pain.",
        },
    )
    _signed(grace, [dn_v1, privacy], at=days(75))
    _signed(grace, [dn_v2], at=days(20), collected_by=story.users.get("front_desk_md"))


def _seed_consent(story: DemoStory) -> dict[tuple[str, int], ConsentVersion]:
    found = {}
    for kind, title, versions in CONSENTS:
        document, _ = ConsentDocument.objects.update_or_create(kind=kind, defaults={"title": title})
        for number, body, days_ago in versions:
            version, _ = ConsentVersion.objects.get_or_create(
                document=document,
                number=number,
                defaults={
                    "body": body,
                    "published_at": timezone.now() - dt.timedelta(days=days_ago),
                    "published_by": story.users.get("manager"),
                },
            )
            found[(kind, number)] = version
    return found


def _submitted(patient: Patient, *, submitted_at: dt.datetime, answers: dict) -> None:
    if patient.intakes.exists():
        return
    Intake.objects.create(
        patient=patient,
        status=Intake.Status.SUBMITTED,
        started_by=patient.user,
        submitted_by=patient.user,
        created_at=submitted_at - dt.timedelta(days=1),
        submitted_at=submitted_at,
        revision=len(QUESTION_STEPS),
        steps_done=[step.slug for step in QUESTION_STEPS],
        **_complete_answers(patient, **answers),
    )


def _signed(
    patient: Patient,
    versions: list[ConsentVersion],
    *,
    at: dt.datetime,
    collected_by: User | None = None,
) -> None:
    intake = patient.intakes.filter(status=Intake.Status.SUBMITTED).first()
    for version in versions:
        if ConsentSignature.objects.filter(patient=patient, version=version).exists():
            continue
        ConsentSignature.objects.create(
            patient=patient,
            version=version,
            signed_name=patient.full_name,
            signed_at=at,
            method=ConsentSignature.Method.COUNTER
            if collected_by
            else ConsentSignature.Method.ONLINE,
            intake=None if collected_by else intake,
            collected_by=collected_by,
        )
