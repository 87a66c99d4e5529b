"""Intake's links and home-page panels, registered with `clinic.pages` (clinic may not import
intake, so intake adds itself)."""

from __future__ import annotations

from django.http import HttpRequest

from clinic import access
from clinic.audit import record_access
from clinic.models import Location, Patient, Practitioner, Role
from clinic.pages import HomeSection, add_home_section, add_nav_link, add_record_page
from intake.clinical import selectors as clinical
from intake.questionnaire import selectors as questionnaire
from intake.questionnaire.questions import STEPS

REVIEW_PANEL_LIMIT = 10


def register_intake_pages() -> None:
    add_nav_link(Role.PATIENT, "Questionnaire", "intake:my_intake", order=20)
    for staff in (Role.FRONT_DESK, Role.PRACTITIONER, Role.MANAGER):
        add_nav_link(staff, "Intakes", "intake:intake_list", order=30)
    add_home_section(Role.PATIENT, patient_panel, order=10)
    add_home_section(Role.FRONT_DESK, location_counts_panel, order=10)
    add_home_section(Role.PRACTITIONER, waiting_for_review_panel, order=10)
    add_home_section(Role.PRACTITIONER, unsigned_notes_panel, order=11)
    add_nav_link(Role.PATIENT, "My progress", "intake:my_outcome_surveys", order=25)
    add_home_section(Role.PATIENT, surveys_panel, order=5)
    # The access log links the records a manager may open.
    add_record_page("intake.intake", "intake:intake_detail")
    add_record_page("intake.assessmentnote", "intake:assessment_detail")
    add_record_page("intake.treatmentnote", "intake:session_note_detail")
    add_home_section(Role.PRACTITIONER, aftercare_alerts_panel, order=1)


def patient_panel(request: HttpRequest) -> HomeSection | None:
    """'Your intake questionnaire: not started / in progress, step 3 of 8 / submitted'."""
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return None
    state = questionnaire.intake_states([patient.pk])[patient.pk]
    return HomeSection(
        "intake/questionnaire/_home_patient.html",
        {
            "state": state,
            "steps_total": len(STEPS),
            "consents": questionnaire.consent_statuses(patient),
        },
    )


def location_counts_panel(request: HttpRequest) -> HomeSection | None:
    """For the front desk: per location, who waits for review, who is half-way, who has none."""
    rows = []
    for location in access.visible_locations(request.user):
        one = Location.objects.filter(pk=location.pk)
        upcoming = questionnaire.upcoming_assessments([location])
        rows.append((location, questionnaire.intake_counts(one, upcoming=upcoming)))
    return HomeSection("intake/questionnaire/_home_front_desk.html", {"rows": rows})


def waiting_for_review_panel(request: HttpRequest) -> HomeSection | None:
    """For practitioners: patients at their locations whose screening waits for review."""
    waiting = (
        access.visible_patients(request.user)
        .filter(questionnaire.flagged_for_review())
        .order_by("last_name", "first_name")
    )
    patients = list(waiting[: REVIEW_PANEL_LIMIT + 1])
    states = questionnaire.intake_states(p.pk for p in patients[:REVIEW_PANEL_LIMIT])
    rows = [(p, states[p.pk]) for p in patients[:REVIEW_PANEL_LIMIT]]
    for patient, state in rows:
        record_access(actor=request.user, patient=patient, record=state.submission, request=request)
    return HomeSection(
        "intake/questionnaire/_home_practitioner.html",
        {"rows": rows, "more": len(patients) > REVIEW_PANEL_LIMIT},
    )


def unsigned_notes_panel(request: HttpRequest) -> HomeSection | None:
    """For practitioners: the notes they started and have not signed yet."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    if practitioner is None:
        return None
    drafts = clinical.unsigned_notes(practitioner)
    if not drafts:
        return None
    return HomeSection("intake/clinical/_home_unsigned_notes.html", {"drafts": drafts})


def surveys_panel(request: HttpRequest) -> HomeSection | None:
    """For patients: the surveys they can answer now (before a session, after care, at the
    end of the course and the follow-ups)."""
    patient = Patient.objects.filter(user=request.user).first()
    if patient is None:
        return None
    subjects = clinical.open_surveys(patient)
    if not subjects:
        return None
    return HomeSection("intake/clinical/_home_outcome_surveys.html", {"subjects": subjects})


def aftercare_alerts_panel(request: HttpRequest) -> HomeSection | None:
    """For practitioners, first on their home page: after-care answers of their patients that
    say something worries them, until someone records a response."""
    practitioner = Practitioner.objects.filter(user=request.user).first()
    if practitioner is None:
        return None
    alerts = clinical.worrying_aftercare([practitioner.pk])
    if not alerts:
        return None
    for checkin in alerts:
        record_access(actor=request.user, patient=checkin.patient, record=checkin, request=request)
    return HomeSection(
        "intake/clinical/_home_aftercare_alerts.html",
        {"alerts": alerts, "next": request.get_full_path()},
    )
