"""Intake's part of the demo story (../shared/domain.md, "Demo data that tells the story").

Called by `python manage.py seed_demo` through IntakeConfig.seed_demo. Keyed on natural keys
(document kind and version number, patient, author, session number): running it again creates
nothing new, and it never touches a submitted or signed record (the database would refuse).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from clinic.demo import DemoStory
from clinic.models import Patient, User
from intake import world
from intake.clinical.models import (
    AssessmentAmendment,
    AssessmentNote,
    SessionNote,
    fingerprint_of,
)
from intake.questionnaire.models import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    FootType,
    Intake,
    TreatmentOutcome,
    Units,
)
from intake.questionnaire.questions import QUESTION_STEPS, SYMPTOMS

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


# The demo's patients answer as people do: five of the symptoms, a few treatments tried.
DEMO_ANSWERS = {
    "weeks_of_pain": 14,
    **{q.field: False for q in SYMPTOMS[5:]},
    "standing_hours": Decimal("6"),
    "activity_2": "Standing at work",
    "activity_2_score": 5,
    "goals": "Walk the dog for an hour without pain.",
    "height_cm": Decimal("172"),
    "weight_kg": Decimal("78"),
    "foot_type": FootType.NEUTRAL,
    "tried_rolling": TreatmentOutcome.HELPED_A_LITTLE,
    "tried_stretching": TreatmentOutcome.HELPED_A_LITTLE,
    "tried_orthotics": TreatmentOutcome.DID_NOT_HELP,
    "tried_footwear": TreatmentOutcome.HELPED,
    "tried_medication": TreatmentOutcome.HELPED_A_LITTLE,
}


def complete_answers(patient: Patient, **overrides) -> dict:
    """A demo patient's answers: their own contacts and location, and DEMO_ANSWERS."""
    own = {
        "emergency_contact_name": patient.emergency_contact_name or "Chris " + patient.last_name,
        "emergency_contact_phone": patient.emergency_contact_phone or "416-555-0177",
        "preferred_location": patient.preferred_location,
    }
    return world.complete_answers(patient, **(own | DEMO_ANSWERS | overrides))


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
        for name, value in complete_answers(jordan).items():
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

    # Hannah Becker, assessed at Leaside by Tom Bergeron before his certification lapsed; her
    # course (booking's demo) is one the front desk must mend.
    hannah = story.patients["course_to_mend"]
    _submitted(
        hannah,
        submitted_at=days(60),
        answers={"affected_foot": "right", "weeks_of_pain": 10, "goals": "Teach standing again."},
    )
    _signed(hannah, [dn_v2, privacy], at=days(60))

    seed_notes(story)
    seed_course_to_mend_assessment(story)


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
        **complete_answers(patient, **answers),
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


# --- Issue 4: signed assessments and session notes -------------------------------------------

MID_COURSE_PAIN = [7, 6, 5]
FINISHED_PAIN = [7, 6, 5, 4, 3, 2]
# First-step pain before each signed session, by the demo patient's key: booking's demo books
# these sessions, then writes their notes with `signed_session` (a note records a booked one).
SESSION_PAIN = {"mid_course": MID_COURSE_PAIN, "finished": FINISHED_PAIN}


def seed_notes(story: DemoStory) -> None:
    """Marcus (Rockville, Okafor) is half-way through a course of six; Grace (Largo, Kim)
    finished hers, with one amendment to the plan. Their sessions' notes, pain falling at each,
    are written once booking's demo has booked the sessions (`session_time`,
    `signed_session`)."""
    now = timezone.now()
    marcus = story.patients["mid_course"]
    okafor = story.practitioners["okafor"]
    assessment = _signed_assessment(
        marcus,
        okafor,
        story.locations["rockville"],
        signed_at=now - dt.timedelta(days=35),
        diagnosis_side="right",
        trigger_points=["gastrocnemius:right", "soleus:right", "flexor_digitorum_brevis:right"],
        combined_care=["stretching", "strengthening"],
        goals=[{"goal": "Run a 10K again", "target": _target(story, 90)}],
    )

    grace = story.patients["finished"]
    kim = story.practitioners["kim"]
    assessment = _signed_assessment(
        grace,
        kim,
        story.locations["largo"],
        signed_at=now - dt.timedelta(days=70),
        diagnosis_side="both",
        trigger_points=["soleus:left", "soleus:right", "abductor_hallucis:left"],
        combined_care=["stretching", "footwear"],
        goals=[
            {
                "goal": "Garden and walk to the market without heel pain",
                "target": _target(story, -7),
            }
        ],
    )
    if not assessment.amendments.exists():
        amend_demo(
            assessment,
            kim,
            at=now - dt.timedelta(days=49),
            reason="Shockwave added from session 4: first-step pain still 5/10 after three sessions.",
            combined_care=["stretching", "footwear", "shockwave"],
        )


def seed_course_to_mend_assessment(story: DemoStory) -> AssessmentNote:
    """Hannah Becker's assessment at Leaside by Tom Bergeron, signed fifty days ago (his
    certification lapsed five weeks ago): six weekly sessions of 30 minutes."""
    return _signed_assessment(
        story.patients["course_to_mend"],
        story.practitioners["bergeron"],
        story.locations["leaside"],
        signed_at=timezone.now() - dt.timedelta(days=50),
        diagnosis_side="right",
        trigger_points=["gastrocnemius:right", "soleus:right"],
        combined_care=["stretching"],
        goals=[{"goal": "Teach a whole day standing", "target": _target(story, 60)}],
    )


def _at_ten(assessment: AssessmentNote, days_ago: int) -> dt.datetime:
    """10 a.m. at the assessment's location, `days_ago` days ago."""
    zone = assessment.location.zone
    day = timezone.localdate(timezone=zone) - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(10), tzinfo=zone)


def _target(story: DemoStory, days: int) -> str:
    return (story.today + dt.timedelta(days=days)).isoformat()


def _signed_assessment(patient, author, location, *, signed_at, **fields) -> AssessmentNote:
    existing = AssessmentNote.objects.filter(
        patient=patient, author=author, signed_at__isnull=False
    ).first()
    if existing is not None:
        return existing
    intake = Intake.objects.current_submissions().filter(patient=patient).first()
    note = AssessmentNote.objects.create(
        patient=patient,
        author=author,
        location=location,
        intake=intake,
        created_at=signed_at - dt.timedelta(hours=1),
        subjective=intake.subjective_summary() if intake else "",
        tender_heel_left=fields.get("diagnosis_side") in ("left", "both"),
        tender_heel_right=fields.get("diagnosis_side") in ("right", "both"),
        windlass_left="positive"
        if fields.get("diagnosis_side") in ("left", "both")
        else "negative",
        windlass_right="positive"
        if fields.get("diagnosis_side") in ("right", "both")
        else "negative",
        dorsiflexion_left=8,
        dorsiflexion_right=6,
        calf_tightness="moderate",
        foot_posture="neutral",
        gait_observation="Shortened stance on the painful side first thing; normal after warm-up.",
        diagnosis="plantar_fasciitis",
        needling_appropriate=True,
        decision_reason="Chronic plantar fasciitis with active trigger points; stretching alone "
        "has not been enough and there is no contraindication.",
        planned_sessions=6,
        session_minutes=30,
        interval_days=7,
        home_exercises="Calf and plantar-fascia stretches twice a day; towel curls.",
        **fields,
    )
    sign_in_the_past(note, signed_at)
    return note


def session_time(assessment: AssessmentNote, number: int) -> dt.datetime:
    """When the demo's session `number` of the course `assessment` prescribed took place:
    weekly at 10 a.m., the first a week after the assessment was signed."""
    zone = assessment.location.zone
    signed = timezone.localdate(assessment.signed_at, timezone=zone)
    days = (timezone.localdate(timezone=zone) - signed).days
    return _at_ten(assessment, days - 7 * number)


def signed_session(
    assessment: AssessmentNote, number: int, pain: int, *, at, appointment_id: int
) -> None:
    """The signed note of the demo's session `number`, booked as `appointment_id`, once."""
    if assessment.session_notes.filter(session_number=number).exists():
        return
    side = "right" if assessment.diagnosis_side == "right" else "left"
    note = SessionNote.objects.create(
        patient=assessment.patient,
        author=assessment.author,
        assessment=assessment,
        location=assessment.location,
        session_number=number,
        appointment_id=appointment_id,
        performed_at=at.replace(second=0, microsecond=0),
        created_at=at,
        pre_session_pain=pain,
        reaction_since_last="First session." if number == 1 else "Mild soreness for a day.",
        muscles_needled=[
            {"muscle": "gastrocnemius", "side": side, "needles": 2, "twitch": True},
            {"muscle": "soleus", "side": side, "needles": 2, "twitch": number < 4},
        ],
        technique="pistoning",
        retention_minutes=10,
        combined_care_given=["stretching"],
        tolerance="well",
        adverse_events=["soreness"] if number == 2 else ["none"],
        adverse_event_severity="mild" if number == 2 else "",
        adverse_event_action="Ice and rest advised." if number == 2 else "",
        advice_given="Ice for 10 minutes if sore; keep up the stretches.",
        plan_next="Same muscles; review pain."
        if number < 6
        else "Course complete; review in 4 weeks.",
    )
    sign_in_the_past(note, at + dt.timedelta(minutes=40))


def sign_in_the_past(note, signed_at) -> None:
    """Sign a demo note at a time in the past (the sign service signs at the present)."""
    note.signed_at = signed_at
    note.fingerprint = note.compute_fingerprint()
    note.save(update_fields=["signed_at", "fingerprint"])


def amend_demo(note: AssessmentNote, author, *, at, reason: str, **changes) -> None:
    before = note.current_content()
    amendment = AssessmentAmendment(
        note=note,
        author=author,
        number=1,
        signed_at=at,
        reason=reason,
        changes={name: {"from": before[name], "to": value} for name, value in changes.items()},
    )
    amendment.fingerprint = fingerprint_of(
        amendment.signed_content(previous_fingerprint=note.fingerprint)
    )
    amendment.save()
