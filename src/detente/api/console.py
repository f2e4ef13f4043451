"""The operator console's routes: the static single-page app at ``/console/``, who the token is,
a Server-Sent Events stream that says when the inbox changed, the followed logs' checkpoints,
and a one-click audit of them.

The static files are package data (``detente/console/static``) served with a strict
Content-Security-Policy: scripts, styles and requests only from the node itself, no inline
script, no framing. ``GET /api/v1/events`` is the one route that also accepts the token as a
``token`` query parameter, because a browser's ``EventSource`` cannot send an ``Authorization``
header; it is checked exactly as the header is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, StreamingResponse
from starlette.exceptions import HTTPException

from detente.api.routes import Routes
from detente.console.verification import audit_followed, followed_logs
from detente.errors import AuthError
from detente.node.node import Node
from detente.node.tokens import Principal, authenticate

__all__ = ["CONTENT_SECURITY_POLICY", "add_console_routes"]

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "i18n.json": "application/json; charset=utf-8",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
POLL_SECONDS = 0.5
"""How often the event stream compares the node's log sizes."""
STREAM_SECONDS = 15.0
"""An event stream ends after this long and the browser reconnects on its own (``retry``): the
token is checked again at each reconnection, and a stopping server (which lets open responses
finish) waits no longer than this for the streams."""


def _digest(node: Node) -> dict[str, Any]:
    """Cheap (in memory): the own log's size and each mirror's. Every change of the inbox comes
    with a new record in one of them (a message, receipt, acknowledgement, missed deadline)."""
    sizes = {node.signer.identity.name: node.log.size} | {
        p.origin: p.mirrored_size for p in node.peering.status.values()
    }
    tag = hashlib.sha256(json.dumps(sizes, sort_keys=True).encode()).hexdigest()[:16]
    return {"digest": tag, "sizes": sizes}


def _static(name: str) -> Response:
    if name not in CONTENT_TYPES:
        raise HTTPException(404, f"no console file {name!r}")
    return Response((STATIC / name).read_bytes(), media_type=CONTENT_TYPES[name], headers=SECURITY_HEADERS)


def add_console_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "console")

    @routes.get("/console", response_class=Response, include_in_schema=False)
    def console_index() -> Response:
        return _static("index.html")

    @routes.get("/console/", response_class=Response, include_in_schema=False)
    def console_slash() -> Response:
        return RedirectResponse("/console", status_code=308)

    @routes.get("/console/{name}", response_class=Response)
    def console_file(name: str) -> Response:
        """The console's static files (HTML, one ES module, one stylesheet, the UI strings)."""
        return _static(name)

    @routes.get("/api/v1/whoami")
    def whoami(who: Principal = viewer) -> dict[str, Any]:
        """The token's id, role and label, and the party this node is."""
        return {
            "token_id": who.token_id,
            "role": who.role,
            "label": who.label,
            "party": node.config.name,
            "origin": node.signer.identity.name,
        }

    @routes.get("/api/v1/events", response_class=StreamingResponse)
    async def events(
        request: Request,
        token: str | None = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """Server-Sent Events: an ``inbox`` event with a digest of the log sizes at once and
        whenever it changes. The token may come as ``?token=`` (EventSource sends no headers)."""
        header = authorization or (f"Bearer {token}" if token else None)
        authenticate(node.state, header, int(node.clock()))

        async def stream() -> AsyncIterator[str]:
            yield "retry: 1000\n\n"
            last = None
            loop = asyncio.get_running_loop()
            end = loop.time() + STREAM_SECONDS
            beat = loop.time()
            while loop.time() < end and not await request.is_disconnected():
                digest = _digest(node)
                if digest["digest"] != last:
                    last = digest["digest"]
                    yield f"event: inbox\nid: {last}\ndata: {json.dumps(digest)}\n\n"
                    beat = loop.time()
                elif loop.time() - beat > 10:
                    yield ": keep-alive\n\n"
                    beat = loop.time()
                await asyncio.sleep(POLL_SECONDS)
            try:  # a revoked or expired token ends the stream for good
                authenticate(node.state, header, int(node.clock()))
            except AuthError:
                yield "event: signed-out\ndata: {}\n\n"

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @routes.get("/api/v1/logs")
    def logs(who: Principal = viewer) -> list[dict[str, Any]]:
        """Each log this node holds (its own and every mirror): size, root, the last signed
        checkpoint, the pinned witnesses whose cosignatures verify on it, and the quorum."""
        return followed_logs(node)

    @routes.post("/api/v1/audit")
    async def audit(who: Principal = officer) -> dict[str, Any]:
        """Audit every log this node holds: its stored copy (every entry and the root) and the
        log as its party serves it (signature, witness quorum, records, cross-log references)."""
        return await run_in_threadpool(audit_followed, node)
