"""The patient chart: one page per patient for staff.

Practitioners and managers see the questionnaire with its flags, the assessments, the session
notes in order with adverse events highlighted, the pain chart with the patient's surveys,
and the course's progress. The front desk sees that notes exist and the decision, never their clinical content.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from clinic import access
from clinic.audit import record_access
from clinic.models import Role
from intake.clinical import selectors as clinical_selectors
from intake.clinical.models import OutcomeSurvey, SurveyKind
from intake.clinical.pain_chart import chart_geometry, pain_trajectory
from intake.questionnaire import selectors as questionnaire
from intake.questionnaire.models import Intake
from intake.questionnaire.questions import STEPS

# The counter tablet offers the pre-session survey for sessions starting within this time.
COUNTER_AHEAD = dt.timedelta(hours=12)


@access.staff_required
@require_safe
def patient_chart(request, patient_pk: int):
    patient = access.get_visible_patient(request.user, patient_pk)
    state = questionnaire.intake_states([patient.pk])[patient.pk]
    notes = clinical_selectors.chart(patient)
    clinical = request.user.role in (Role.PRACTITIONER, Role.MANAGER)
    intake = (
        Intake.objects.select_related("preferred_location").get(pk=state.submission.pk)
        if state.submission
        else None
    )
    sessions = [(note, note.current()) for note in notes.session_notes]
    trajectory = pain_trajectory(patient) if clinical else None
    checkins = (
        list(
            OutcomeSurvey.objects.current()
            .filter(patient=patient)
            .select_related("response__by")
            .order_by("-reported_at", "-id")
        )
        if clinical
        else []
    )
    now = timezone.now()
    # Sessions the patient may check in for at the counter now (the front desk sees only
    # whether it is done, never the answers).
    counter = [
        (visit, clinical_selectors.current_answer(SurveyKind.BEFORE_SESSION, visit) is not None)
        for visit in clinical_selectors.visits(patient_ids=[patient.pk])
        if (window := clinical_selectors.survey_window(SurveyKind.BEFORE_SESSION, visit))
        and window.is_open(now)
        and visit.starts_at - now < COUNTER_AHEAD
    ]
    record_access(actor=request.user, patient=patient, record_type="intake.chart", request=request)
    practitioner = (
        getattr(request.user, "practitioner", None) if request.user.is_practitioner else None
    )
    return render(
        request,
        "intake/clinical/patient_chart.html",
        {
            "patient": patient,
            "state": state,
            "intake": intake,
            "history": patient.intakes.filter(status=Intake.Status.SUPERSEDED).order_by(
                "-submitted_at"
            ),
            "consents": questionnaire.consent_statuses(patient),
            "resume": questionnaire.resume_step(state.draft) if state.draft else None,
            "steps": STEPS,
            "clinical": clinical,
            "practitioner": practitioner,
            "assessments": [(note, note.current()) for note in notes.assessments],
            "sessions": sessions,
            "gate": notes.gate,
            "course": notes.course,
            "sessions_done": notes.sessions_done,
            "trajectory": trajectory,
            "chart": chart_geometry(trajectory, patient=patient)
            if trajectory and trajectory.has_data
            else None,
            "checkins": checkins,
            "counter": counter,
        },
    )
