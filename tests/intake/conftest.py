"""Fixtures of intake tests, on top of the shared personas in tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.intake.factories import IntakeFactory, publish_consents


@pytest.fixture
def consents(db):
    """Both consent documents with version 1 in force."""
    return publish_consents()


@pytest.fixture
def draft(patient):
    """The `patient` persona's questionnaire, just started."""
    return IntakeFactory(patient=patient, phone=patient.phone)
