"""Route registration for the domain routers, written once: each ``add_*_routes`` makes one
:class:`Routes` for its domain and registers every route through it, so every route carries the
domain's tag and a POST that logs a record answers 201 Created. Who may call a route is still
said where the route is, by its ``who: Principal = viewer`` or ``= officer`` parameter (the roles
table in docs/node.md is checked against the served routes by tests/federation/test_authorization.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.types import DecoratedCallable

__all__ = ["MAX_INDEX", "PAGED", "Routes"]

MAX_INDEX = 2**62
"""The largest log index, offset or version a route takes (``le=MAX_INDEX``): a larger integer
would overflow the store's 64-bit integers, a 500 for what is the caller's mistake (422 instead)."""

PAGED: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "X-Total-Count": {
                "description": "how many items there are before ``offset`` and ``limit``",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    }
}
"""``responses=PAGED``: a paged list's 200 declares its ``X-Total-Count`` header."""


class Routes:
    """The routes of one domain (one OpenAPI tag) on ``app``."""

    def __init__(self, app: FastAPI, tag: str) -> None:
        self.app = app
        self.tag = tag

    def get(self, path: str, **options: Any) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """A read: GET, 200."""
        return self.app.get(path, tags=[self.tag], **options)

    def post(self, path: str, **options: Any) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """A POST that computes, checks or imports and answers 200 (it names no one new record)."""
        return self.app.post(path, tags=[self.tag], **options)

    def create(self, path: str, **options: Any) -> Callable[[DecoratedCallable], DecoratedCallable]:
        """A POST that logs a record (or a token, a pin...): 201 Created."""
        return self.app.post(path, tags=[self.tag], status_code=201, **options)
