"""Fixtures of intake tests, on top of the shared personas in tests/conftest.py."""

from __future__ import annotations

import pytest

from tests.factories import certified_practitioner
from tests.intake.factories import (
    AssessmentFactory,
    IntakeFactory,
    publish_consents,
    signed_assessment,
)


@pytest.fixture
def consents(db):
    """Both consent documents with version 1 in force."""
    return publish_consents()


@pytest.fixture
def draft(patient):
    """The `patient` persona's questionnaire, just started."""
    return IntakeFactory(patient=patient, phone=patient.phone)


@pytest.fixture
def other_practitioner(location):
    """A second certified practitioner at `location`."""
    return certified_practitioner(locations=[location], first_name="Tom")


@pytest.fixture
def assessment(patient, practitioner):
    """A complete draft assessment of `patient` by `practitioner`."""
    return AssessmentFactory(patient=patient, author=practitioner)


@pytest.fixture
def prescribed(patient, practitioner):
    """A signed assessment of `patient`: dry needling appropriate, 6 weekly sessions of 30 min."""
    return signed_assessment(patient, practitioner)
