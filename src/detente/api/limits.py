"""Rate limits on the expensive operations: label checks and applies, report rendering, eval runs,
imports and STIX bundles.

Each such request takes one request from two token buckets (``detente.node.ratelimit``): its
client address's (``rate_limit_peer_*``: whatever tokens it holds, or none) and, when it carries
a valid token, that token's (``rate_limit_*``). An empty bucket is answered 429 ``rate-limited``
with ``Retry-After``, before the body is read and before anything runs. The token is checked
here only to name its bucket (a forged one names none); the route still checks it and its role."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from detente.api.problems import error_response
from detente.errors import DetenteError, RateLimited
from detente.node.config import NodeConfig
from detente.node.ratelimit import Buckets, Decision
from detente.node.tokens import Principal

__all__ = ["EXPENSIVE", "RateLimit", "is_expensive"]

EXPENSIVE: tuple[tuple[str, str], ...] = (
    ("POST", "/api/v1/labels/check"),
    ("POST", "/api/v1/labels/apply"),
    ("POST", "/api/v1/labels/propagate"),
    ("GET", "/api/v1/reports/quarterly/{period}"),
    ("GET", "/api/v1/reports/quarterly/{period}.html"),
    ("GET", "/api/v1/reports/quarterly/{period}.pdf"),
    ("POST", "/api/v1/reports/quarterly/{period}/publish"),
    ("POST", "/api/v1/evals/run"),
    ("POST", "/api/v1/evals/recheck"),
    ("POST", "/api/v1/incidents/import"),
    ("POST", "/api/v1/incidents/stix"),
    ("GET", "/api/v1/incidents/stix"),
)
"""The rate-limited operations, as their routes name them (tests check each is served)."""

_PATTERNS = [
    (method, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")) for method, path in EXPENSIVE
]


def is_expensive(method: str, path: str) -> bool:
    """Whether a request (or a route, by its path format) is rate-limited."""
    return (method, path) in EXPENSIVE or any(m == method and p.match(path) for m, p in _PATTERNS)


class RateLimit:
    """ASGI middleware: the per-address and per-token buckets in front of the expensive routes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        config: NodeConfig,
        identify: Callable[[str], Principal],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.identify = identify
        self.tokens = Buckets(config.rate_limit_per_minute / 60, config.rate_limit_burst, clock)
        self.peers = Buckets(config.rate_limit_peer_per_minute / 60, config.rate_limit_peer_burst, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_expensive(scope["method"], scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else "unknown"
        refused = self._refused(self.peers.take(address), f"client address {address}", "rate_limit_peer_*")
        if refused is None and not self.tokens.unlimited:
            header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"authorization"), None)
            if header:
                try:
                    who = await run_in_threadpool(self.identify, header)
                except DetenteError:
                    who = None  # the route answers 401
                if who is not None:
                    refused = self._refused(self.tokens.take(who.token_id), f"token {who.token_id}", "rate_limit_*")
        if refused is not None:
            await error_response(refused, scope.get("path", ""))(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _refused(decision: Decision, who: str, settings: str) -> RateLimited | None:
        if decision.allowed:
            return None
        return RateLimited(
            f"too many expensive requests from {who}",
            retry_after=decision.retry_after_header,
            hint=f"retry after {decision.retry_after_header} s; the node's operator sets the limits "
            f"({settings} in detente.toml)",
        )
