"""What booking asks intake before it books: the practitioner's decision is the gate."""

from __future__ import annotations

from clinic.models import Patient


def course_gate(patient: Patient):
    """Intake's `CourseGate` for `patient`: whether a dry-needling course may be booked,
    why not, and the prescription (sessions, minutes, interval) when it may."""
    from intake.selectors import course_gate as intake_course_gate

    return intake_course_gate(patient)
