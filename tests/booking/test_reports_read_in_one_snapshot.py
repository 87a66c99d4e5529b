"""The dashboard's queries read side by side (booking.reports.side_by_side): on connections of
their own, in the snapshot of the page's reading, so a change committed meanwhile is in none of
the figures; on the caller's connection when its transaction is open or when no side connection
can be had."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from booking.benchmark.figures import Figures
from booking.benchmark.outcomes import _time_dashboard
from booking.reports import side_by_side
from booking.reports.side_by_side import REPORT_SETTINGS, SIDE_CONNECTIONS, read_together
from booking.reports.views import dashboard
from clinic.models import Location
from tests.factories import LocationFactory


def _backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    """The server ends a connection's process, as in a restart; waits (up to 5 s) for it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def _in_a_thread(fn):
    """`fn()` on a thread of its own (its own connection, closed after); what it raised is
    raised here."""
    outcome = {}

    def run():
        try:
            outcome["value"] = fn()
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.django_db(transaction=True)
def test_a_side_query_reads_the_pages_snapshot_on_its_own_connection(location):
    with read_together() as reading:
        here = _backend()
        counted_here = Location.objects.count()

        def count_after_a_change():
            # A front desk's change, committed on a connection of its own meanwhile.
            _in_a_thread(lambda: LocationFactory(name="Opened meanwhile"))
            return _backend(), Location.objects.count()

        side, counted_there = reading.start(count_after_a_change).result()
        # This connection's reading does not see it either: one snapshot for the page.
        assert Location.objects.count() == counted_here
    assert side != here
    assert counted_there == counted_here
    assert Location.objects.count() == counted_here + 1  # the change itself is kept


def _on_both_side_threads(reading, fn) -> list:
    """`fn` run on each side thread once (each waits for the other, so neither takes both)."""
    # (The timeout only turns a broken test into a failure instead of a hang.)
    both = threading.Barrier(SIDE_CONNECTIONS, timeout=30)

    def meet():
        both.wait()
        return fn()

    return [pending.result() for pending in [reading.start(meet) for _ in range(2)]]


@pytest.mark.django_db(transaction=True)
def test_kept_connections_are_used_again_by_the_next_reading(location, monkeypatch):
    """With connections kept between requests (CONN_MAX_AGE, as in production), the side
    threads keep theirs: the next page does not pay for new ones."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    try:
        with read_together() as reading:
            first = _on_both_side_threads(reading, _backend)
        with read_together() as reading:
            second = _on_both_side_threads(reading, _backend)
        assert len(set(first)) == SIDE_CONNECTIONS
        assert set(second) == set(first)
    finally:
        with read_together() as reading:  # so the test database can be dropped after
            _on_both_side_threads(reading, lambda: connection.close())


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_server_closed_is_replaced(location, monkeypatch):
    """The server closed a side thread's kept connection since the last page (a restart):
    the next page's query runs on a new one (Django's health check, as for a request's)."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)

    with read_together() as reading:
        snapshot = reading._snapshot

        def side_thread():
            first = side_by_side._in_snapshot(snapshot, [], _backend)
            _in_a_thread(lambda: _terminate(first))
            return first, side_by_side._in_snapshot(snapshot, [], _backend)

        first, replaced = _in_a_thread(side_thread)
    assert first != replaced


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_that_cannot_be_opened_again_falls_back(location, monkeypatch):
    """The server closed the kept connection and refuses a new one (still starting again, or
    its connection limit reached): the page reads that query on its own connection."""
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connect = BaseDatabaseWrapper.connect

    def refused_off_the_main_thread(self):
        if threading.current_thread() is not threading.main_thread():
            raise OperationalError("FATAL: the database system is starting up")
        return connect(self)

    with read_together() as reading:
        snapshot = reading._snapshot

        def side_thread():
            first = side_by_side._in_snapshot(snapshot, [], _backend)
            _in_a_thread(lambda: _terminate(first))
            monkeypatch.setattr(BaseDatabaseWrapper, "connect", refused_off_the_main_thread)
            with pytest.raises(side_by_side._NoSideConnection):
                side_by_side._in_snapshot(snapshot, [], _backend)

        _in_a_thread(side_thread)


@pytest.mark.django_db(transaction=True)
def test_side_connections_are_closed_after_the_reading_unless_kept(location):
    """The tests do not keep connections (CONN_MAX_AGE 0): none outlives the reading."""
    with read_together() as reading:
        assert _on_both_side_threads(reading, Location.objects.count) == [1, 1]
    # Asked of each side thread itself, outside any reading.
    both = threading.Barrier(SIDE_CONNECTIONS, timeout=30)

    def closed():
        both.wait()
        return connection.connection is None

    asked = [side_by_side.side_threads().submit(closed) for _ in range(SIDE_CONNECTIONS)]
    assert [answer.result() for answer in asked] == [True] * SIDE_CONNECTIONS


@pytest.mark.django_db(transaction=True)
def test_without_a_side_connection_the_query_runs_here(location, monkeypatch):
    """The server's connection limit reached: the page is read on its own connection."""
    connect = BaseDatabaseWrapper.ensure_connection

    def refused_off_the_main_thread(self):
        if threading.current_thread() is not threading.main_thread():
            raise OperationalError("FATAL: sorry, too many clients already")
        return connect(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", refused_off_the_main_thread)
    with read_together() as reading:
        here = _backend()
        assert reading.start(_backend).result() == here


def test_inside_an_open_transaction_everything_is_read_here(location):
    """The caller's transaction may hold changes no other connection sees (here: the test's
    own): they are in the figures."""
    LocationFactory(name="Not committed")
    with transaction.atomic(), read_together() as reading:
        assert reading.start(_backend).result() == _backend()
        assert reading.start(Location.objects.count).result() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_side_query_fails_the_page(location):
    """A query that fails is an error, not a silent second try on this connection."""

    def broken():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    with pytest.raises(Exception, match="division by zero"):
        with read_together() as reading:
            reading.start(broken).result()


@pytest.mark.django_db(transaction=True)
def test_the_pages_execute_wrappers_see_the_side_statements(location):
    seen = []

    def watch(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch), read_together() as reading:
        assert reading.start(Location.objects.count).result() == 1
    assert sum(sql.startswith("SET TRANSACTION SNAPSHOT") for sql in seen) == 1
    assert sum('FROM "clinic_location"' in sql for sql in seen) == 1


@pytest.mark.django_db(transaction=True)
def test_the_benchmark_counts_the_statements_of_every_connection(manager, clinic):
    figures = Figures([])
    _time_dashboard(manager, {}, "dashboard", figures, repeats=1)
    counted = {metric: value for metric, value, _ in figures.lines}["dashboard_queries"]
    request = RequestFactory().get("/reports/")
    request.user = manager
    with CaptureQueriesContext(connection) as here:
        dashboard(request)
    on_this_connection = [q for q in here.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    # Each side connection: isolation, snapshot, the report's settings and its query.
    assert counted == len(on_this_connection) + 2 * (2 + len(REPORT_SETTINGS) + 1)
