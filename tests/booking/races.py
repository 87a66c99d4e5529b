"""Two or more people acting at the same instant, each on their own database connection: what
PostgreSQL (row locks, exclusion constraints) decides, not what one connection sees."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import close_old_connections, connection


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
