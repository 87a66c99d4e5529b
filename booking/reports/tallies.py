"""Folding the dashboard's tallies (see booking.models.report_rows): the triggers append an
entry counted +1 or -1 for every combination of rows a statement adds or removes, and the
worker, every pass, adds up each touched day's entries into one per combination, leaving
out the combinations no row has any more. The dashboard's sums are the same before and
after; only the number of entries it reads changes.

Safe beside writers: the entries to fold are those the statement's snapshot sees, and an entry
committed meanwhile stays for the next fold. Two folds take turns (an advisory lock), so they
never wait on each other's rows in a different order; writers never take it.
"""

from __future__ import annotations

from django.db import connection, transaction

from booking.models.report_rows import TALLIES, tally_columns

# The advisory lock two folds take turns on (the report rows' refresh uses 20261206-7).
FOLD_LOCK = 20261208


def fold() -> int:
    """Fold the tallies of every day with new entries. Returns how many entries fewer there
    are (one statement a tally, after the lock)."""
    fewer = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, 0)", [FOLD_LOCK])
        for tally in TALLIES:
            table = tally._meta.db_table
            keys = ", ".join(tally_columns(tally))
            columns = "".join(f", {s}" for s in tally.summed)
            added = "".join(f", SUM({s})" for s in tally.summed)
            cursor.execute(
                f"""
WITH days AS (SELECT DISTINCT local_date FROM {table} WHERE NOT folded),
gone AS (DELETE FROM {table} WHERE local_date IN (SELECT local_date FROM days) RETURNING *),
kept AS (
    INSERT INTO {table} ({keys}, rows_counted{columns}, folded)
    SELECT {keys}, SUM(rows_counted){added}, true
      FROM gone
     GROUP BY {keys}
    HAVING SUM(rows_counted) <> 0
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept)"""
            )
            fewer += cursor.fetchone()[0]
    return fewer
