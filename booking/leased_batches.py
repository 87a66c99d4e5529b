"""What the email worker and the webhook deliveries share: due rows claimed in batches with
`SELECT … FOR UPDATE SKIP LOCKED` and a lease, worked through one at a time outside the
transaction, and the rest given back before the lease runs out. Each side keeps its own rows,
order and sending; the rows need `claimed_until`, `claimed_by` and `attempts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet


@dataclass
class Batch:
    """How one batch went: each row's result ('retrying', 'failed', 'skipped', or the side's
    own word for done) is counted in the field of that name."""

    claimed: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0


def claim(
    due: QuerySet, *, worker: str, limit: int, now: dt.datetime, until: dt.datetime
) -> list[int]:
    """Claim the first `limit` of the `due` rows (pending, in the order to work them) for
    `worker` until `until`: rows another worker is claiming right now are skipped (SKIP LOCKED),
    rows under another worker's lease are left alone, and each claim counts as an attempt.
    Run it in a transaction."""
    ids = list(
        due.select_for_update(skip_locked=True, of=("self",))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .values_list("pk", flat=True)[:limit]
    )
    if ids:
        due.model.objects.filter(pk__in=ids).update(
            claimed_until=until, claimed_by=worker, attempts=F("attempts") + 1
        )
    return ids


def work_through(
    ids: list[int],
    *,
    ours: QuerySet,
    stop_at: dt.datetime,
    clock: Callable[[], dt.datetime],
    handle: Callable[[int, dt.datetime], str],
    batch: Batch,
) -> None:
    """Hand each claimed row to `handle(pk, at)` and count its result on `batch`. From `stop_at`
    (the end of the lease less the time one row may take) the rest go back among `ours` (the
    rows still pending under this worker's claim), their attempt uncounted, rather than be
    worked when another worker may take them."""
    for position, pk in enumerate(ids):
        at = clock()
        if at >= stop_at:
            rest = ids[position:]
            ours.filter(pk__in=rest).update(claimed_until=None, attempts=F("attempts") - 1)
            batch.released = len(rest)
            return
        result = handle(pk, at)
        setattr(batch, result, getattr(batch, result) + 1)
