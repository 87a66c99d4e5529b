"""Factories for intake records. Tests ask for what matters to them and let these fill the rest."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import factory
from django.conf import settings
from django.utils import timezone

from clinic.models import Patient
from intake.clinical.models import (
    AssessmentNote,
    OutcomeSurvey,
    SessionNote,
    SurveyChannel,
    SurveyKind,
)
from intake.questionnaire.models import (
    ConsentDocument,
    ConsentSignature,
    ConsentVersion,
    Intake,
)
from intake.questionnaire.questions import QUESTION_STEPS
from intake.world import complete_answers


class ConsentDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentDocument
        django_get_or_create = ("kind",)

    kind = ConsentDocument.Kind.DRY_NEEDLING
    title = factory.LazyAttribute(lambda o: ConsentDocument.Kind(o.kind).label)


class ConsentVersionFactory(factory.django.DjangoModelFactory):
    """A published version (pass published_at=None for a draft wording)."""

    class Meta:
        model = ConsentVersion

    document = factory.SubFactory(ConsentDocumentFactory)
    number = 1
    body = "Dry needling may cause soreness, bruising, bleeding, fainting or infection.\n\nYou may stop at any time."
    published_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))


def publish_consents() -> list[ConsentVersion]:
    """Both consent documents, each with version 1 in force."""
    return [
        ConsentVersionFactory(document=ConsentDocumentFactory(kind=kind))
        for kind in ConsentDocument.Kind
    ]


class IntakeFactory(factory.django.DjangoModelFactory):
    """An empty draft of `patient` (see `draft_with_answers` and `submitted_intake`)."""

    class Meta:
        model = Intake

    patient = factory.SubFactory("tests.factories.PatientFactory")
    started_by = factory.LazyAttribute(lambda o: o.patient.user)


def draft_with_answers(patient: Patient, **overrides) -> Intake:
    """A draft with every step answered and done, ready to be signed and submitted."""
    return IntakeFactory(
        patient=patient,
        steps_done=[step.slug for step in QUESTION_STEPS],
        **complete_answers(patient, **overrides),
    )


def submitted_intake(patient: Patient, *, at: dt.datetime | None = None, **overrides) -> Intake:
    at = at or timezone.now() - dt.timedelta(days=2)
    return IntakeFactory(
        patient=patient,
        status=Intake.Status.SUBMITTED,
        submitted_at=at,
        submitted_by=patient.user,
        created_at=at - dt.timedelta(hours=1),
        steps_done=[step.slug for step in QUESTION_STEPS],
        **complete_answers(patient, **overrides),
    )


def sign(patient: Patient, versions: list[ConsentVersion]) -> None:
    for version in versions:
        ConsentSignature.objects.create(
            patient=patient,
            version=version,
            signed_name=patient.full_name,
            method=ConsentSignature.Method.ONLINE,
        )


def as_post_data(answers: dict) -> dict:
    """Model values as a browser would post them."""
    data = {}
    for name, value in answers.items():
        if value is None:
            continue
        if hasattr(value, "pk"):
            value = value.pk
        data[name] = str(value)
    return data


def step_data(patient: Patient, slug: str, *, revision: int, action: str = "next", **overrides):
    """The POST of one step with complete answers (plus `overrides`; None removes a field)."""
    step = next(s for s in QUESTION_STEPS if s.slug == slug)
    answers = complete_answers(patient)
    values = {name: answers.get(name) for name in step.fields} | overrides
    return as_post_data(values) | {"revision": str(revision), "action": action}


# --- Clinical notes ---------------------------------------------------------------------------


def complete_assessment(**overrides) -> dict:
    """An assessment's fields, ready to sign: needling appropriate, 6 weekly sessions of 30 min."""
    fields = {
        "subjective": "Heel pain, right foot, 12 weeks.",
        "tender_heel_right": True,
        "windlass_right": "positive",
        "dorsiflexion_right": 5,
        "trigger_points": ["gastrocnemius:right", "soleus:right"],
        "diagnosis": "plantar_fasciitis",
        "diagnosis_side": "right",
        "needling_appropriate": True,
        "decision_reason": "Active trigger points; no contraindication.",
        "planned_sessions": 6,
        "session_minutes": 30,
        "interval_days": 7,
        "combined_care": ["stretching"],
        "goals": [{"goal": "Walk the dog", "target": "2030-01-01"}],
    }
    return fields | overrides


class AssessmentFactory(factory.django.DjangoModelFactory):
    """A complete draft assessment (sign it with `sign_note_now`)."""

    class Meta:
        model = AssessmentNote

    patient = factory.SubFactory("tests.factories.PatientFactory")
    author = factory.SubFactory("tests.factories.PractitionerFactory")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return super()._create(model_class, *args, **(complete_assessment() | kwargs))


def sign_note_now(note, at: dt.datetime | None = None):
    """Sign a note directly (tests of other things than signing itself)."""
    note.signed_at = at or timezone.now()
    note.fingerprint = note.compute_fingerprint()
    note.save(update_fields=["signed_at", "fingerprint"])
    return note


def an_amendment(note, author, *, reason: str = "Plan reviewed", **content):
    """`note`, signed, amended by `author` through the clinical service (password, reason, the
    amendments already seen): `content` holds the fields that change."""
    from intake.clinical.services import amend_note
    from tests.factories import PASSWORD

    return amend_note(
        note=note,
        author=author,
        password=PASSWORD,
        reason=reason,
        content=content,
        seen_amendments=note.amendments.count(),
    )


def signed_assessment(patient: Patient, author, **fields) -> AssessmentNote:
    return sign_note_now(AssessmentFactory(patient=patient, author=author, **fields))


def complete_session(**overrides) -> dict:
    fields = {
        "pre_session_pain": 5,
        "muscles_needled": [{"muscle": "soleus", "side": "right", "needles": 2, "twitch": True}],
        "technique": "pistoning",
        "retention_minutes": 10,
        "tolerance": "well",
        "adverse_events": ["none"],
    }
    return fields | overrides


def session_note(assessment: AssessmentNote, number: int = 1, **fields) -> SessionNote:
    """The note of session `number` of the course `assessment` prescribed, dated when its
    appointment starts: the appointment `appointment_id` if given, else the course's session
    `number` (the course and a session earlier today are booked if there are none)."""
    from booking.models import Appointment

    appointment_id = fields.pop("appointment_id", None)
    if appointment_id is None:
        appointment_id = booked_session(assessment, number, location=fields.get("location")).pk
    starts_at = (
        Appointment.objects.filter(pk=appointment_id).values_list("starts_at", flat=True).first()
    )
    performed_at = fields.pop("performed_at", None) or starts_at or _an_hour_ago()
    return SessionNote.objects.create(
        patient=assessment.patient,
        author=fields.pop("author", assessment.author),
        assessment=assessment,
        session_number=number,
        appointment_id=appointment_id,
        performed_at=performed_at,
        **complete_session(**fields),
    )


def _an_hour_ago() -> dt.datetime:
    return timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=1)


def booked_session(assessment: AssessmentNote, number: int, *, location=None):
    """Session `number` of the course `assessment` prescribes: the one booked (not
    cancelled), or a completed one booked now, earlier today (session n ends 35 minutes
    before session n + 1 starts; session 8 starts an hour ago), with the course itself if it is
    not booked yet. Written directly, without the booking rules."""
    from booking.models import Appointment, Course, Room, Status
    from tests.booking.factories import (
        AppointmentFactory,
        RoomFactory,
        a_course_record,
        needling_service,
    )
    from tests.factories import LocationFactory

    course = Course.objects.filter(assessment_id=assessment.pk).first()
    if course is None:
        course = a_course_record(
            assessment.patient,
            assessment.author,
            assessment_id=assessment.pk,
            sessions_planned=min(max(assessment.planned_sessions or 6, 4), 6),
            minutes=assessment.session_minutes or 30,
            interval_days=assessment.interval_days or 7,
        )
    booked = course.appointments.exclude(status=Status.CANCELLED)
    session = booked.filter(session_number=number).first()
    if session is not None:
        return session
    patients = Appointment.objects.filter(patient=assessment.patient).exclude(
        status=Status.CANCELLED
    )
    other = booked.select_related("location").first() or patients.first()
    location = (
        location
        or (other.location if other else None)
        or assessment.location
        or assessment.patient.preferred_location
        or LocationFactory()
    )
    room = Room.objects.filter(location=location).first() or RoomFactory(location=location)
    # The patient's second course a day earlier, and so on, so that no two overlap.
    days_back = Course.objects.filter(patient=assessment.patient, pk__lt=course.pk).count()
    starts_at = (
        _an_hour_ago()
        - dt.timedelta(minutes=35) * max(8 - number, 0)
        - dt.timedelta(days=days_back)
    )
    return AppointmentFactory(
        location=location,
        practitioner=course.practitioner,
        room=room,
        patient=assessment.patient,
        service=needling_service(),
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=course.minutes),
        blocks_until=starts_at + dt.timedelta(minutes=course.minutes + 5),
        status=Status.COMPLETED,
        course=course,
        session_number=number,
    )


def assessment_data(*, revision: int, acknowledged: dict | None = None, **overrides) -> dict:
    """The POST of the assessment form with `complete_assessment()` values (None drops one)."""
    fields = complete_assessment(**overrides)
    data = {"revision": str(revision)}
    for name, value in fields.items():
        if value is None:
            continue
        if name == "goals":
            for n, goal in enumerate(value, start=1):
                data[f"goal_{n}"] = goal["goal"]
                data[f"goal_{n}_target"] = goal["target"]
        elif isinstance(value, list):
            data[name] = value
        else:
            data[name] = str(value)
    for field, note in (acknowledged or {}).items():
        data[f"ack_{field}"] = "on"
        data[f"ack_{field}_note"] = note
    return data


def session_data(*, revision: int, **overrides) -> dict:
    """The POST of the session-note form with `complete_session()` values."""
    fields = {"session_number": 1, **complete_session(**overrides)}
    if "performed_at" not in fields:
        # Typed on the clinic's clock, as the form reads it for a patient with no location.
        clinic_zone = zoneinfo.ZoneInfo(settings.CLINIC_TIME_ZONE)
        an_hour_ago = timezone.localtime(timezone.now() - dt.timedelta(hours=1), clinic_zone)
        fields["performed_at"] = f"{an_hour_ago:%Y-%m-%dT%H:%M}"
    data = {"revision": str(revision)}
    for row in fields.pop("muscles_needled"):
        data[f"needles_{row['muscle']}_{row['side']}"] = str(row["needles"])
        if row["twitch"]:
            data[f"twitch_{row['muscle']}_{row['side']}"] = "on"
    for name, value in fields.items():
        if value is None:
            continue
        data[name] = value if isinstance(value, list) else str(value)
    return data


# --- Outcome surveys --------------------------------------------------------------------------

# Middling answers, a patient with nothing to report: a test says what matters to it.
SURVEY_ANSWERS = {
    SurveyKind.BEFORE_SESSION: {"pain_first_steps": 5, "pain_average": 3},
    SurveyKind.AFTER_CARE: {"soreness": "mild", "bruising": False, "worrying": False},
}


def a_survey_answer(session, kind: str = SurveyKind.AFTER_CARE, **fields) -> OutcomeSurvey:
    """The answer of `session`'s patient to the `kind` questionnaire about `session` (a course
    session names its course too), from home: after care with mild soreness and nothing
    worrying, before a session pain 5 and 3, unless `fields` say otherwise (another channel,
    patient, practitioner...). Written directly, past the page's checks."""
    return OutcomeSurvey.objects.create(
        **{
            "patient": session.patient,
            "kind": kind,
            "channel": SurveyChannel.HOME,
            "appointment_id": session.pk,
            "course_id": session.course_id,
        }
        | SURVEY_ANSWERS[kind]
        | fields
    )


def a_correction(answer: OutcomeSurvey, **fields) -> OutcomeSurvey:
    """A later answer of the same patient to the same questionnaire that corrects `answer`,
    keeping the time it was first reported: the usual answers unless `fields` say otherwise."""
    same = {
        name: getattr(answer, name)
        for name in ("patient", "kind", "channel", "appointment_id", "course_id", "practitioner")
    }
    return OutcomeSurvey.objects.create(
        **same | SURVEY_ANSWERS.get(answer.kind, {}) | fields,
        supersedes=answer,
        reported_at=answer.reported_at,
    )
