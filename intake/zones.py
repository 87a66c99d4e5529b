"""The time zone a patient's records are shown in (both rooms of intake, and its template
tags, show times in it)."""

from __future__ import annotations

import zoneinfo

from django.conf import settings

from clinic.models import Location, Patient


def patient_zone(patient: Patient, location: Location | None = None) -> zoneinfo.ZoneInfo:
    """The time zone a patient's records are shown in: the location concerned, else their
    preferred location's, else the server's."""
    location = location or patient.preferred_location
    return location.zone if location else zoneinfo.ZoneInfo(settings.TIME_ZONE)
