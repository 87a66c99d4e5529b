"""Each client's requests a minute, counted in PostgreSQL so that the limit holds across
server processes: past it, a 429 OperationOutcome with Retry-After; the next minute, again."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from booking.api.http import count_request
from booking.api.models import ApiClient, RequestCount


def test_past_the_limit_it_answers_429_with_retry_after(api_client_for, location, time_machine):
    time_machine.move_to(dt.datetime(2027, 6, 9, 14, 0, 15, tzinfo=dt.UTC), tick=False)
    api = api_client_for(scopes="system/Location.read", locations=[location], requests_per_minute=3)
    assert [api.get("/fhir/Location").status_code for _ in range(3)] == [200, 200, 200]
    refused = api.get("/fhir/Location")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "45"
    assert refused.fhir["issue"][0]["code"] == "throttled"
    time_machine.move_to(dt.datetime(2027, 6, 9, 14, 1, 0, tzinfo=dt.UTC), tick=False)
    assert api.get("/fhir/Location").status_code == 200
    # The earlier minutes are cleared as a new one starts.
    assert RequestCount.objects.filter(client=api.client).count() == 1


def test_each_client_has_its_own_allowance(api_client_for, location):
    first = api_client_for(
        scopes="system/Location.read", locations=[location], requests_per_minute=1
    )
    second = api_client_for(
        scopes="system/Location.read", locations=[location], requests_per_minute=1
    )
    assert first.get("/fhir/Location").status_code == 200
    assert first.get("/fhir/Location").status_code == 429
    assert second.get("/fhir/Location").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_count_holds_across_separate_connections(api_client_for, location):
    """Like several server processes: each thread has its own database connection, and
    together they never grant more than the allowance."""
    api = api_client_for(scopes="system/Location.read", locations=[location])
    client = ApiClient.objects.get(pk=api.client.pk)
    now = dt.datetime(2027, 6, 9, 14, 0, 30, tzinfo=dt.UTC)
    numbers: list[int] = []
    barrier = threading.Barrier(8)

    def one_process():
        try:
            barrier.wait()
            for _ in range(5):
                numbers.append(count_request(client, now)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=one_process) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 41))
