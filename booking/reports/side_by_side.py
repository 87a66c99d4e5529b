"""The dashboard's big queries read side by side, each on a connection of its own, all in one
snapshot of the database (as `pg_dump --jobs` does).

PostgreSQL runs one statement on one core, and its own parallel query does not help here: the
work of each query is its aggregation, above the scan it would share out (measured: no faster,
and the three queries as one statement's Parallel Append no faster either). Three aggregate
queries of about 20 ms each run one after another take 60 ms; side by side on the machine's
cores, and beside the Python that works out the hours, about half that. A server process keeps
its side threads and their connections (see SIDE_CONNECTIONS).

One snapshot: the reading transaction here exports its snapshot (`pg_export_snapshot`) and
each side connection imports it (`SET TRANSACTION SNAPSHOT`), so every figure of a page is read
from the same state of the database, as if one connection had read them all; a booking made
while the page is drawn is in none of its figures or in all of them.

When the caller's transaction is already open, it may hold changes other connections cannot
see (a view in an atomic block; the tests' own transaction): then everything is read on this
connection, in that transaction, one query after the other. Likewise if a side connection
cannot be opened (the server's connection limit): the page is slower, never wrong or broken.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from typing import Any

from django.db import OperationalError, connection, transaction

# Room to sort and hash a year of rows in memory rather than on disk; no just-in-time
# compilation (measured: compiling these queries costs more than it saves at this size, about
# 35 ms of a 275 ms dashboard); and no parallel workers, which the queries read side by side
# would only compete with for the same cores (measured, even alone on the machine: ten years
# of sessions took 21 ms planned with two workers, 18 ms without). Each transaction's own
# settings (SET LOCAL).
REPORT_SETTINGS = (
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL jit = off",
    "SET LOCAL max_parallel_workers_per_gather = 0",
)

# The side connections at the most: the machines serving the app have two cores or more, and
# one query stays on this connection. A server process keeps its side threads, and each thread
# its connection as a request's is kept (CONN_MAX_AGE): a new connection costs a fresh
# server process whose caches are cold (measured: 8 ms more for the visits query).
SIDE_CONNECTIONS = 2

_side_threads_lock = threading.Lock()
_side_threads: tuple[int, ThreadPoolExecutor] | None = None


def side_threads() -> ThreadPoolExecutor:
    """This process's side threads, made on first use (a server forks its workers after
    loading the app: each process makes its own)."""
    global _side_threads
    with _side_threads_lock:
        if _side_threads is None or _side_threads[0] != os.getpid():
            pool = ThreadPoolExecutor(SIDE_CONNECTIONS, thread_name_prefix="report-side")
            _side_threads = (os.getpid(), pool)
        return _side_threads[1]


class Reading:
    """What `read_together` yields: `start(fn, *args)` runs `fn(*args)` on a side connection in
    this reading's snapshot and returns its future; the caller keeps working meanwhile."""

    def __init__(self, snapshot: str | None):
        self._snapshot = snapshot
        self.started: list[Future] = []

    def start(self, fn: Callable[..., Any], *args: Any) -> Pending:
        if self._snapshot is None:
            return Pending(None, fn, args)
        # The page's execute wrappers (a query counter, say) see the side statements too.
        wrappers = list(connection.execute_wrappers)
        future = side_threads().submit(_in_snapshot, self._snapshot, wrappers, fn, *args)
        self.started.append(future)
        return Pending(future, fn, args)


class Pending:
    """A query started by `Reading.start`. `result()` waits for it; a query no side connection
    could be opened for is run then, on the caller's connection (same snapshot)."""

    def __init__(self, future: Future | None, fn: Callable[..., Any], args: tuple):
        self._future, self._fn, self._args = future, fn, args

    def result(self) -> Any:
        if self._future is not None:
            try:
                return self._future.result()
            except _NoSideConnection:
                pass
        return self._fn(*self._args)


@contextmanager
def read_together() -> Iterator[Reading]:
    """A read-only reading of the database in one snapshot, on this connection and on side
    connections (see the module's comment). Leaving the block waits for every query started
    in it: the snapshot they read lasts as long as this connection's transaction."""
    if connection.in_atomic_block:
        with transaction.atomic():
            _prepare(isolation=False)
            yield Reading(None)
        return
    with transaction.atomic():
        _prepare(isolation=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cursor.fetchone()
        reading = Reading(snapshot)
        try:
            yield reading
        finally:
            # Even when the caller failed: a side query still importing the snapshot needs
            # this transaction open.
            wait(reading.started)


def _prepare(*, isolation: bool) -> None:
    with connection.cursor() as cursor:
        if isolation:
            # First in the transaction, as PostgreSQL requires: every statement of the reading
            # sees the same snapshot, the one the side connections import.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for statement in REPORT_SETTINGS:
            cursor.execute(statement)


def _in_snapshot(snapshot: str, wrappers: list, fn: Callable[..., Any], *args: Any) -> Any:
    """Run on a side thread, on its own connection, in the reading's snapshot, through the
    page's execute wrappers. The connection is looked after as Django looks after a
    request's, before and after: closed if broken or past its age (at once when connections
    are not kept, as in the tests), and a kept one checked before use (CONN_HEALTH_CHECKS:
    one the server closed since, in a restart say, is replaced)."""
    try:
        try:
            connection.close_if_unusable_or_obsolete()
            # Here rather than at the transaction's start, so that a kept connection the
            # server closed since, which cannot be opened again, falls back too.
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except OperationalError:
            raise _NoSideConnection from None
        with ExitStack() as wrapped:
            for wrapper in wrappers:
                wrapped.enter_context(connection.execute_wrapper(wrapper))
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                    for statement in REPORT_SETTINGS:
                        cursor.execute(statement)
                return fn(*args)
    finally:
        connection.close_if_unusable_or_obsolete()


class _NoSideConnection(Exception):
    """A side connection could not be opened (the server's connection limit, say)."""
