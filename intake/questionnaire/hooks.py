"""What other apps hear from the questionnaire: a submission, told inside its transaction.

Intake never imports booking; booking (its webhooks) registers a listener from its
AppConfig.ready(). A listener gets plain facts, no answers: the questionnaire's id, the
location the patient chose (or None) and the time. It runs in the submitting transaction, so
what it writes is rolled back with a submission that fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

SubmittedListener = Callable[..., None]
_submitted_listeners: list[SubmittedListener] = []


def register_submitted(listener: SubmittedListener) -> None:
    """`listener(intake_id=…, location_id=…, at=…)` is called for every submission."""
    if listener not in _submitted_listeners:
        _submitted_listeners.append(listener)


def submitted(*, intake_id: int, location_id: int | None, at: dt.datetime) -> None:
    for listener in _submitted_listeners:
        listener(intake_id=intake_id, location_id=location_id, at=at)
