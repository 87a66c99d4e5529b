"""The API's scopes, SMART-style (`system/<Resource>.read`, `system/Appointment.write`): one
per resource type read, and one for booking and cancelling.

Clinical content (the answers of a submitted questionnaire, screening included) is behind its
own scope, `system/QuestionnaireResponse.read`, which no other scope implies: there are no
wildcards, a client has exactly the scopes it was given.
"""

from __future__ import annotations

READ_TYPES = (
    "Location",
    "HealthcareService",
    "Practitioner",
    "PractitionerRole",
    "Schedule",
    "Slot",
    "Appointment",
    "Patient",
    "Questionnaire",
    "QuestionnaireResponse",
)
APPOINTMENT_WRITE = "system/Appointment.write"
CLINICAL = frozenset({"system/QuestionnaireResponse.read"})

DESCRIPTIONS: dict[str, str] = {
    **{f"system/{kind}.read": f"Read and search {kind} resources" for kind in READ_TYPES},
    APPOINTMENT_WRITE: "Find, hold and book appointments, and cancel them",
}
DESCRIPTIONS["system/QuestionnaireResponse.read"] = (
    "Read submitted intake questionnaires (clinical content: screening answers)"
)
ALL = tuple(DESCRIPTIONS)
CHOICES = [(scope, scope) for scope in ALL]


def read_scope(resource_type: str) -> str:
    return f"system/{resource_type}.read"


def parse(text: str) -> list[str]:
    """Scopes as typed (`"system/Slot.read system/Appointment.write"`, commas allowed), in
    order, once each; `ValueError` naming any unknown one."""
    scopes = list(dict.fromkeys(part for part in text.replace(",", " ").split() if part))
    unknown = [scope for scope in scopes if scope not in DESCRIPTIONS]
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(ALL)}.")
    if not scopes:
        raise ValueError("Give at least one scope.")
    return scopes
