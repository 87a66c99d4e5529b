"""The time zone a patient's records are shown in (both rooms of intake, and its template
tags, show times in it)."""

from __future__ import annotations

import zoneinfo

from clinic.models import Location, Patient


def patient_zone(patient: Patient, location: Location | None = None) -> zoneinfo.ZoneInfo:
    """The time zone a patient's records are shown in: the location concerned, else the
    patient's own (`Patient.zone`)."""
    return location.zone if location else patient.zone
