"""The FHIR resources, one module a family: `organisation` (Location, HealthcareService,
Practitioner, PractitionerRole, Schedule), `slots` (Slot), `appointments` (Appointment, with
$find, $hold, $book and cancelling), `patients` (Patient), `questionnaires` (Questionnaire and
QuestionnaireResponse) and `metadata` (the CapabilityStatement)."""
