"""What the tests of PostgreSQL's own rules share: a statement written straight to the database,
past the services (as a script or a bulk update would), and the named rule that refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection, transaction


@contextmanager
def refused_by(constraint: str) -> Iterator[pytest.ExceptionInfo]:
    """Expect the block to be refused by the constraint or trigger named `constraint`, in a
    savepoint of its own (the test goes on after it)."""
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        yield refused
    assert refused.value.__cause__.diag.constraint_name == constraint


def write_sql(statement: str, *params) -> None:
    with connection.cursor() as cursor:
        # Without parameters, a statement's own % signs (RAISE's) are not placeholders.
        cursor.execute(statement, params or None)


@contextmanager
def rule_set_aside(table: str, trigger: str) -> Iterator[None]:
    """The trigger `trigger` on `table` switched off for the block: rows written as they were
    before the rule, or a rule's neighbours tested alone. Inside the test's transaction, so it
    is never off beyond the test."""
    # Nothing pending while the table is altered (for the rest of the test's transaction: its
    # deferred foreign keys are then checked at each statement, which the tests do not mind).
    write_sql("SET CONSTRAINTS ALL IMMEDIATE")
    write_sql(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        write_sql(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
