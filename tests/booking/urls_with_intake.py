"""The project's URLs with stand-ins for intake's pages that booking links to, so that tests can
check the links appear once intake provides those pages (and whatever intake's branch holds)."""

from django.http import HttpResponse
from django.urls import include, path

from clinic.urls import urlpatterns as project_urlpatterns


def _intake_page(request, patient_pk: int):
    return HttpResponse(f"intake page for patient {patient_pk}")


intake_patterns = (
    [
        path("patients/<int:patient_pk>/", _intake_page, name="patient_chart"),
        path("patients/<int:patient_pk>/counter-consent/", _intake_page, name="counter_consent"),
        path("patients/<int:patient_pk>/assessment/", _intake_page, name="assessment_start"),
        path("patients/<int:patient_pk>/session-note/", _intake_page, name="session_note_start"),
    ],
    "intake",
)

urlpatterns = [
    pattern for pattern in project_urlpatterns if getattr(pattern, "namespace", None) != "intake"
] + [path("intake/", include(intake_patterns))]
