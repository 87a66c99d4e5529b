"""Two or more people acting at the same instant, each on their own database connection: what
PostgreSQL (row locks, exclusion constraints) decides, not what one connection sees."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connection, transaction


def at_once(
    attempts: list[Callable[[], object]], *, won: str, lost: tuple[type[Exception], str]
) -> list[str]:
    """Run every attempt at the same instant, each in its own thread and connection, and say
    how each ended, sorted: `won` when it returned; when it raised the exception of `lost`,
    its label; `error: ...` for any other exception (the bug such a test looks for)."""
    barrier = threading.Barrier(len(attempts))
    outcomes: list[str] = []
    refused, refused_label = lost

    def run(attempt):
        try:
            barrier.wait()
            attempt()
            outcomes.append(won)
        except refused:
            outcomes.append(refused_label)
        except Exception as error:  # noqa: BLE001 - any other outcome is the bug we look for
            outcomes.append(f"error: {error!r}")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(attempt,)) for attempt in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def first_holds_its_lock(
    first: Callable[[], object],
    second: Callable[[], object],
    *,
    won: str,
    lost: tuple[type[Exception] | tuple[type[Exception], ...], str],
    timeout: float = 10,
) -> tuple[str, str, bool]:
    """One after the other, deterministically in the middle of each other: `first` does its
    work in a transaction that it keeps open until `second`, started then on its own
    connection, is either waiting on a lock or done; only then does `first` commit. Returns
    how each ended (`won`, or the label of `lost` with what the refusal said, or `error: ...`)
    and whether `second` was seen waiting: the race
    really ran when it was, and a missing lock shows as `second` done before `first` commits."""
    refused, refused_label = lost
    first_worked, second_started = threading.Event(), threading.Event()
    second_pid: list[int] = []
    outcomes: dict[int, str] = {}
    waited: list[bool] = []

    def watch() -> None:
        deadline = time.monotonic() + timeout
        try:
            with connection.cursor() as cursor:
                while time.monotonic() < deadline and 1 not in outcomes:
                    cursor.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", second_pid
                    )
                    row = cursor.fetchone()
                    if row and row[0] == "Lock":
                        waited.append(True)
                        return
                    time.sleep(0.02)
        finally:
            connection.close()

    def run(n: int) -> None:
        try:
            if n == 0:
                with transaction.atomic():
                    first()
                    first_worked.set()
                    second_started.wait(timeout)
                    # A third connection watches the second one.
                    watcher = threading.Thread(target=watch)
                    watcher.start()
                    watcher.join()
            else:
                first_worked.wait(timeout)
                connection.ensure_connection()
                second_pid.append(connection.connection.get_backend_pid())
                second_started.set()
                second()
            outcomes[n] = won
        except refused as told:
            outcomes[n] = f"{refused_label}: {told}"
        except Exception as error:  # noqa: BLE001 - any other outcome is the bug we look for
            outcomes[n] = f"error: {error!r}"
        finally:
            first_worked.set()
            second_started.set()
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(3 * timeout)
    return outcomes.get(0, "unfinished"), outcomes.get(1, "unfinished"), bool(waited)
