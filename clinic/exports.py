"""The one CSV writer of the app: every export (access log, results, de-identified outcomes,
any added later) streams through `csv_response`.

A cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula by
spreadsheet programs: a patient named `=HYPERLINK("http://…")` would become a live link (or a
command) in the manager's spreadsheet. Such text gets a leading single quote (OWASP's advice),
which the spreadsheet shows as plain text. Numbers are written as they are, so a negative
change of pain stays a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value):
    """`value` as a cell that no spreadsheet runs: text that could start a formula is quoted;
    numbers, dates and empty cells are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    """A file that hands back what is written, so rows stream instead of piling up."""

    def write(self, value):
        return value


def csv_response(rows: Iterable[Iterable], filename: str) -> StreamingHttpResponse:
    """A streamed CSV attachment of `rows` (the header first), every cell neutralised."""
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([neutralised(cell) for cell in row]) for row in rows),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
