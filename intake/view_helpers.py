"""What the intake views share: the methods a form page accepts, the access-log call, and
reading the revision a page was opened at."""

from __future__ import annotations

from django.http import HttpRequest
from django.views.decorators.http import require_http_methods

from clinic.audit import log_access  # noqa: F401 (the intake views' access-log call)

GET_OR_POST = require_http_methods(["GET", "HEAD", "POST"])


def seen_revision(request: HttpRequest) -> int:
    """The record's revision when the page was opened (a missing or damaged value counts as
    the oldest, so it can never overwrite anything)."""
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return -1
