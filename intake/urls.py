"""Intake pages, under /intake/ in the `intake:` namespace."""

from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    # The patient's own questionnaire and consent.
    path("me/", views.my_intake, name="my_intake"),
    path("me/start/", views.start, name="start"),
    path("me/steps/<slug:step>/", views.step, name="step"),
    path("me/review/", views.review, name="review"),
    path("me/consent/", views.consent, name="consent"),
    # Reading one questionnaire (its patient, or staff who see the patient).
    path("questionnaires/<int:pk>/", views.intake_detail, name="intake_detail"),
    # Staff: the list, a patient's chart, filling in on a patient's behalf, consent at the counter.
    path("", views.intake_list, name="intake_list"),
    path("patients/<int:patient_pk>/", views.patient_chart, name="patient_chart"),
    path("patients/<int:patient_pk>/start/", views.staff_start, name="staff_start"),
    path("patients/<int:patient_pk>/steps/<slug:step>/", views.staff_step, name="staff_step"),
    path("patients/<int:patient_pk>/review/", views.staff_review, name="staff_review"),
    path(
        "patients/<int:patient_pk>/counter-consent/",
        views.counter_consent,
        name="counter_consent",
    ),
]
