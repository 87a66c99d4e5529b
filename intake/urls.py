"""Intake pages, under /intake/ in the `intake:` namespace."""

from django.urls import path

from intake.clinical.views import chart, notes, outcome_surveys
from intake.questionnaire import views as questionnaire

app_name = "intake"

urlpatterns = [
    # The patient's own questionnaire and consent.
    path("me/", questionnaire.my_intake, name="my_intake"),
    path("me/start/", questionnaire.start, name="start"),
    path("me/steps/<slug:step>/", questionnaire.step, name="step"),
    path("me/review/", questionnaire.review, name="review"),
    path("me/consent/", questionnaire.consent, name="consent"),
    # The patient's surveys across their course, and their progress.
    path("me/check-ins/", outcome_surveys.my_outcome_surveys, name="my_outcome_surveys"),
    path(
        "me/check-ins/<slug:kind>/<int:appointment_id>/",
        outcome_surveys.my_outcome_survey,
        name="my_outcome_survey",
    ),
    # Reading one questionnaire (its patient, or staff who see the patient).
    path("questionnaires/<int:pk>/", questionnaire.intake_detail, name="intake_detail"),
    # Staff: the list, a patient's chart, filling in on a patient's behalf, consent at the counter.
    path("", questionnaire.intake_list, name="intake_list"),
    path("patients/<int:patient_pk>/", chart.patient_chart, name="patient_chart"),
    path("patients/<int:patient_pk>/start/", questionnaire.staff_start, name="staff_start"),
    path(
        "patients/<int:patient_pk>/steps/<slug:step>/", questionnaire.staff_step, name="staff_step"
    ),
    path("patients/<int:patient_pk>/review/", questionnaire.staff_review, name="staff_review"),
    path(
        "patients/<int:patient_pk>/counter-consent/",
        questionnaire.counter_consent,
        name="counter_consent",
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
    path("assessments/<int:pk>/", notes.assessment_detail, name="assessment_detail"),
    path("assessments/<int:pk>/edit/", notes.assessment_edit, name="assessment_edit"),
    path("assessments/<int:pk>/sign/", notes.assessment_sign, name="assessment_sign"),
    path("assessments/<int:pk>/amend/", notes.assessment_amend, name="assessment_amend"),
    path("assessments/<int:pk>/discard/", notes.assessment_discard, name="assessment_discard"),
    path(
        "patients/<int:patient_pk>/sessions/new/",
        notes.start_session_note_page,
        name="session_note_start",
    ),
    path("sessions/<int:pk>/", notes.session_note_detail, name="session_note_detail"),
    path("sessions/<int:pk>/edit/", notes.session_note_edit, name="session_note_edit"),
    path("sessions/<int:pk>/sign/", notes.session_note_sign, name="session_note_sign"),
    path("sessions/<int:pk>/amend/", notes.session_note_amend, name="session_note_amend"),
    path("sessions/<int:pk>/discard/", notes.session_note_discard, name="session_note_discard"),
]
