"""Intake pages, under /intake/ in the `intake:` namespace."""

from django.urls import path

from clinic.routes import routes
from intake.clinical.views import chart, notes, outcome_surveys
from intake.questionnaire import views as questionnaire

app_name = "intake"

urlpatterns = [
    # The patient's own questionnaire and consent.
    *routes(
        "me/",
        ("", questionnaire.my_intake, "my_intake"),
        ("start/", questionnaire.start, "start"),
        ("steps/<slug:step>/", questionnaire.step, "step"),
        ("review/", questionnaire.review, "review"),
        ("consent/", questionnaire.consent, "consent"),
    ),
    # The patient's surveys across their course, and their progress.
    *routes(
        "me/check-ins/",
        ("", outcome_surveys.my_outcome_surveys, "my_outcome_surveys"),
        (
            "<slug:kind>/<int:appointment_id>/",
            outcome_surveys.my_outcome_survey,
            "my_outcome_survey",
        ),
    ),
    # Reading one questionnaire (its patient, or staff who see the patient).
    path("questionnaires/<int:pk>/", questionnaire.intake_detail, name="intake_detail"),
    # Staff: the list, a patient's chart, filling in on a patient's behalf, consent at the counter.
    path("", questionnaire.intake_list, name="intake_list"),
    *routes(
        "patients/<int:patient_pk>/",
        ("", chart.patient_chart, "patient_chart"),
        ("start/", questionnaire.staff_start, "staff_start"),
        ("steps/<slug:step>/", questionnaire.staff_step, "staff_step"),
        ("review/", questionnaire.staff_review, "staff_review"),
        ("counter-consent/", questionnaire.counter_consent, "counter_consent"),
    ),
    # The pre-session survey on the counter tablet; responding to a worrying after-care answer.
    path(
        "appointments/<int:appointment_id>/check-in/",
        outcome_surveys.counter_outcome_survey,
        name="counter_outcome_survey",
    ),
    path(
        "check-ins/<int:pk>/respond/",
        outcome_surveys.respond_to_worry_page,
        name="aftercare_respond",
    ),
    # Practitioners: the assessment note and the treatment-session notes.
    path(
        "patients/<int:patient_pk>/assessment/",
        notes.start_assessment_page,
        name="assessment_start",
    ),
    *routes(
        "assessments/<int:pk>/",
        ("", notes.assessment_detail, "assessment_detail"),
        ("edit/", notes.assessment_edit, "assessment_edit"),
        ("sign/", notes.assessment_sign, "assessment_sign"),
        ("amend/", notes.assessment_amend, "assessment_amend"),
        ("discard/", notes.assessment_discard, "assessment_discard"),
    ),
    path(
        "patients/<int:patient_pk>/sessions/new/",
        notes.start_session_note_page,
        name="session_note_start",
    ),
    *routes(
        "sessions/<int:pk>/",
        ("", notes.session_note_detail, "session_note_detail"),
        ("edit/", notes.session_note_edit, "session_note_edit"),
        ("sign/", notes.session_note_sign, "session_note_sign"),
        ("amend/", notes.session_note_amend, "session_note_amend"),
        ("discard/", notes.session_note_discard, "session_note_discard"),
    ),
]
