"""The FHIR API's addresses under /fhir/ (included from booking/urls.py): the token endpoint,
the CapabilityStatement, each resource type's search and read, and the booking operations."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from oauth2_provider.views import TokenView

from booking.api.resources import (
    appointments,
    booking_operations,
    metadata,
    organisation,
    patients,
    questionnaires,
    slots,
)


def resource(kind: str, search, read):
    """`<kind>` (search) and `<kind>/<id>` (read) for a resource type whose id is a key."""
    return [
        path(kind, search, name=f"{kind.lower()}_search"),
        path(f"{kind}/<int:pk>", read, name=f"{kind.lower()}_read"),
    ]


urlpatterns = [
    # DOT's token view is CSRF-exempt already; the API has no logged-in users.
    path("auth/token", login_not_required(TokenView.as_view()), name="token"),
    path("metadata", metadata.metadata, name="metadata"),
    path("Appointment/$find", booking_operations.find, name="appointment_find"),
    path("Appointment/$hold", booking_operations.hold, name="appointment_hold"),
    path("Appointment/$book", booking_operations.book, name="appointment_book"),
    *resource("Location", organisation.location_search, organisation.location_read),
    *resource(
        "HealthcareService",
        organisation.healthcare_service_search,
        organisation.healthcare_service_read,
    ),
    *resource("Practitioner", organisation.practitioner_search, organisation.practitioner_read),
    path(
        "PractitionerRole",
        organisation.practitioner_role_search,
        name="practitionerrole_search",
    ),
    path(
        "PractitionerRole/<str:role_id>",
        organisation.practitioner_role_read,
        name="practitionerrole_read",
    ),
    path("Schedule", organisation.schedule_search, name="schedule_search"),
    path("Schedule/<str:role_id>", organisation.schedule_read, name="schedule_read"),
    path("Slot", slots.slot_search, name="slot_search"),
    path("Slot/<str:slot_id>", slots.slot_read, name="slot_read"),
    *resource("Appointment", appointments.appointment_search, appointments.appointment_instance),
    path(
        "Appointment/<int:pk>/_history/<int:version>",
        appointments.appointment_version,
        name="appointment_vread",
    ),
    *resource("Patient", patients.patient_search, patients.patient_read),
    path("Questionnaire", questionnaires.questionnaire_search, name="questionnaire_search"),
    path(
        "Questionnaire/<str:questionnaire_id>",
        questionnaires.questionnaire_read,
        name="questionnaire_read",
    ),
    *resource(
        "QuestionnaireResponse",
        questionnaires.questionnaire_response_search,
        questionnaires.questionnaire_response_read,
    ),
    # Anything else under /fhir/ answers in FHIR too, not with the site's HTML 404 page.
    path("<path:rest>", metadata.unknown, name="unknown"),
]
