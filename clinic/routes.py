"""Families of pages whose addresses share a start (`appointments/<int:pk>/`), written once.

The three apps' URL tables list most pages in families: an object's page and the actions on it,
a location's schedule pages. `routes` writes the shared start once and each page as the rest of
its address, its view and its name, so a family reads as one block and no member can drift to
another address by a typo in the repeated part.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import URLPattern, path


def routes(prefix: str, *pages: tuple[str, Callable, str]) -> list[URLPattern]:
    """One `path()` per page, each at `prefix` + the rest of its address (in the order given)."""
    return [path(prefix + rest, view, name=name) for rest, view, name in pages]
