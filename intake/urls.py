"""Intake pages, under /intake/ in the `intake:` namespace."""

from django.urls import URLPattern, path

from clinic.routes import routes
from intake.clinical.views import chart, notes, outcome_surveys
from intake.questionnaire import views as questionnaire

app_name = "intake"


def _note_pages(kind: notes.NoteKind, start: str, notes_at: str) -> list[URLPattern]:
    """One kind of clinical note's pages: starting one for a patient, then reading, writing,
    signing, amending or discarding it, each named `<kind>_<action>` (`kind.url` relies on it)."""
    return [
        path(start, notes.start, {"kind": kind}, name=f"{kind.name}_start"),
        *(
            path(f"{notes_at}<int:pk>/{rest}", view, {"kind": kind}, name=f"{kind.name}_{action}")
            for rest, view, action in [
                ("", notes.detail, "detail"),
                ("edit/", notes.edit, "edit"),
                ("sign/", notes.sign, "sign"),
                ("amend/", notes.amend, "amend"),
                ("discard/", notes.discard, "discard"),
            ]
        ),
    ]


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
    *_note_pages(notes.ASSESSMENT, "patients/<int:patient_pk>/assessment/", "assessments/"),
    *_note_pages(notes.SESSION, "patients/<int:patient_pk>/sessions/new/", "sessions/"),
]
