"""The patient chart: one page per patient for staff.

Practitioners and managers see the questionnaire with its flags, the assessments, the session
notes in order with adverse events highlighted, the pain trajectory and the course's
progress. The front desk sees that notes exist and the decision, never their clinical content.
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic import access
from clinic.audit import record_access
from clinic.models import Role
from intake import selectors
from intake.models import Intake
from intake.questionnaire import STEPS


@access.staff_required
@require_safe
def patient_chart(request, patient_pk: int):
    patient = access.get_visible_patient(request.user, patient_pk)
    state = selectors.intake_states([patient.pk])[patient.pk]
    notes = selectors.chart(patient)
    clinical = request.user.role in (Role.PRACTITIONER, Role.MANAGER)
    intake = (
        Intake.objects.select_related("preferred_location").get(pk=state.submission.pk)
        if state.submission
        else None
    )
    sessions = [(note, note.current()) for note in notes.treatment_notes]
    pain = []
    if clinical:
        if intake is not None:
            pain.append(("Questionnaire (first steps)", intake.pain_first_steps))
        pain += [
            (f"Session {current.session_number}", current.pre_session_pain)
            for note, current in sessions
            if note.is_signed and current.pre_session_pain is not None
        ]
    record_access(actor=request.user, patient=patient, record_type="intake.chart", request=request)
    practitioner = (
        getattr(request.user, "practitioner", None) if request.user.is_practitioner else None
    )
    return render(
        request,
        "intake/patient_chart.html",
        {
            "patient": patient,
            "state": state,
            "intake": intake,
            "history": patient.intakes.filter(status=Intake.Status.SUPERSEDED).order_by(
                "-submitted_at"
            ),
            "consents": selectors.consent_statuses(patient),
            "resume": selectors.resume_step(state.draft) if state.draft else None,
            "steps": STEPS,
            "clinical": clinical,
            "practitioner": practitioner,
            "assessments": [(note, note.current()) for note in notes.assessments],
            "sessions": sessions,
            "gate": notes.gate,
            "sessions_done": notes.sessions_done,
            "pain": pain,
            "pain_max": 10,
        },
    )
