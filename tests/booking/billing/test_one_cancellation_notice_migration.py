"""Migrating a database from the time a cancellation policy had a notice of its own: where it
differed from its location's, the location takes the policy's (the notice the fees were set
with), so no clinic's late-cancellation fee changes hours without anyone deciding it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("billing", "0002_issued_records_never_change"),
    ("clinic", "0010_one_cancellation_notice"),
]
AFTER = [("billing", "0003_one_cancellation_notice")]


def _location(Location, slug: str, notice: int):
    return Location.objects.create(
        name=slug.title(),
        slug=slug,
        street_address="1 Main St",
        city="Toronto",
        region="ON",
        postal_code="M4G 1A1",
        phone="416-555-0100",
        time_zone="America/Toronto",
        cancellation_notice_hours=notice,
    )


@pytest.mark.django_db(transaction=True)
def test_a_policy_notice_that_differed_becomes_the_locations():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Location, Policy = (
        old.get_model("clinic", "Location"),
        old.get_model("billing", "CancellationPolicy"),
    )
    stricter = _location(Location, "stricter", notice=24)
    same = _location(Location, "same", notice=24)
    Policy.objects.create(location=stricter, notice_hours=48, late_cancellation_fee="40.00")
    Policy.objects.create(location=same, notice_hours=24, late_cancellation_fee="40.00")
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps.get_model("clinic", "Location")
        notices = dict(new.objects.values_list("slug", "cancellation_notice_hours"))
        assert notices == {"stricter": 48, "same": 24}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
