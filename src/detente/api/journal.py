"""The operator journal at the API's door, and ``Idempotency-Key`` on writes.

:class:`JournalDoor` (ASGI middleware) writes one journal row (:mod:`detente.node.journal`) for
every write (POST, PUT, PATCH, DELETE under ``/api/v1/``) with the calling token's id and role, its
outcome and where it landed, before the answer leaves the node; a write without a valid token, and
any request refused 401, is a failed sign-in, journaled with the token id it claimed.

A write that carries ``Idempotency-Key`` (draft-ietf-httpapi-idempotency-key-header) is answered
once per token and key: a retry with the same request (method, path, query and body) gets the
first answer again (``Idempotent-Replayed: true``) and writes nothing, not even a journal row; the
same key with a different request is refused 422 (``idempotency-key-reused``), and while the
first is still being answered, 409 (``idempotency-key-in-use``). A failed write (any status but
2xx) keeps no key, so its retry runs again. Keys are kept for a day (``IDEMPOTENCY_TTL``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Query
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente.api.problems import problem_response
from detente.errors import AuthError, DetenteError, IdempotencyKeyInUse, IdempotencyKeyReused, MalformedError
from detente.node.journal import as_dict
from detente.node.node import Node
from detente.node.tokens import Principal, authenticate
from detente.store.journal_protocol import IdempotencyRow

__all__ = ["JournalDoor", "add_journal_routes"]

log = logging.getLogger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEPT_ANSWER = 1 << 20
"""An answer larger than this is not kept for replay (its retry runs again)."""
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_TOKEN_ID = re.compile(r"(?:Bearer\s+)?dtk_([0-9a-f]{1,32})_")
_LANDED = ("origin", "index", "leaf_hash", "first_index", "count", "token_id", "role", "name", "vkey", "revoked")
"""What a write's answer says about where it landed, kept in its journal row."""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _claimed_id(scope: Scope) -> str:
    """The token id a request claims (its secret unchecked), or ``-``: who tried to sign in."""
    query = scope.get("query_string", b"").decode("latin-1")
    for text in (_header(scope, b"authorization") or "", *re.findall(r"(?:^|&)token=([^&]*)", query)):
        found = _TOKEN_ID.match(text.strip())
        if found:
            return found.group(1)
    return "-"


def parse_key(value: str) -> str:
    """An ``Idempotency-Key`` value: a structured-field string (``"…"``) or, as many clients send
    it, the bare text; printable ASCII, 1 to 255 characters."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not _KEY.fullmatch(text) or "\\" in text or '"' in text:
        raise MalformedError(
            "Idempotency-Key must be 1 to 255 printable ASCII characters (a quoted string, no quotes or backslashes)",
            hint='send a fresh random value per request, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"',
        )
    return text


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then whatever the client does next (a disconnect)

    return again


def _outcome(status: int, body: bytes) -> tuple[str, dict[str, object]]:
    """``ok`` and where the write landed, or ``<status> <problem code>`` and the problem's detail."""
    try:
        answer: Any = json.loads(body) if body and len(body) <= MAX_KEPT_ANSWER else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        answer = {}
    if 200 <= status < 300:
        landed = {k: answer[k] for k in _LANDED if k in answer and not isinstance(answer[k], dict | list)}
        made = _TOKEN_ID.match(answer["token"]) if isinstance(answer.get("token"), str) else None
        if made:  # a token created: its id, never its secret
            landed["token_id"] = made.group(1)
        return "ok", landed
    detail: dict[str, object] = {"detail": str(answer["detail"])[:300]} if "detail" in answer else {}
    return f"{status} {answer.get('code', 'error')}", detail


class JournalDoor:
    """ASGI middleware: journals every write and failed sign-in; answers ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self.node = node

    def _principal(self, authorization: str | None) -> Principal | None:
        try:
            return authenticate(self.node.state, authorization, int(self.node.clock()))
        except AuthError:
            return None

    def _journal(self, scope: Scope, who: Principal | None, status: int, body: bytes, **extra: object) -> None:
        outcome, detail = _outcome(status, body)
        target = f"{scope['method']} {scope['path']}"
        try:
            if who is None:  # no valid token: a failed sign-in, whatever else went wrong
                self.node.journal.record(_claimed_id(scope), "-", "sign-in", target, outcome, detail)
            else:
                self.node.journal.record(who.token_id, who.role, "write", target, outcome, {**detail, **extra})
        except DetenteError as exc:  # the answer is still given; the failure is in the node's log
            log.error("journal-not-written action=%s outcome=%s error=%s", target, outcome, exc.message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        write = scope["method"] in WRITES and scope["path"].startswith("/api/v1/")
        who = await run_in_threadpool(self._principal, _header(scope, b"authorization")) if write else None
        raw_key = _header(scope, b"idempotency-key") if who is not None else None
        key: str | None = None
        if raw_key is not None and who is not None:
            try:
                key = parse_key(raw_key)
            except MalformedError as exc:
                await self._refuse(scope, receive, send, who, exc)
                return
            body = await _read_body(receive)
            query = scope.get("query_string", b"")
            fingerprint = hashlib.sha256(
                b"\0".join([scope["method"].encode(), scope["path"].encode(), query, body])
            ).hexdigest()
            kept = await run_in_threadpool(self.node.journal.claim, who.token_id, key, fingerprint)
            if kept is not None:
                await self._kept(scope, receive, send, who, kept, fingerprint)
                return
            receive = _replay_body(body, receive)
        if not write:
            await self._read(scope, receive, send)
            return
        await self._write(scope, receive, send, who, key)

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a read through; journal it only when it was refused 401 (a failed sign-in)."""
        status = 0
        body: list[bytes] = []

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 401:
                body.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, watch)
        if status == 401:
            await run_in_threadpool(self._journal, scope, None, 401, b"".join(body))

    async def _write(self, scope: Scope, receive: Receive, send: Send, who: Principal | None, key: str | None) -> None:
        """Hold the answer until its journal row (and its idempotency key) is stored, then send it."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold)
        except BaseException:
            if key is not None and who is not None:
                await run_in_threadpool(self.node.journal.release, who.token_id, key)
            await run_in_threadpool(self._journal, scope, who, 500, b"")
            raise
        assert start is not None
        status, body = int(start["status"]), b"".join(chunks)
        extra = {"idempotency_key": key} if key is not None else {}
        await run_in_threadpool(self._journal, scope, who, status, body, **extra)
        if key is not None and who is not None:
            if 200 <= status < 300 and len(body) <= MAX_KEPT_ANSWER:
                media = _header({"headers": start.get("headers", ())}, b"content-type") or "application/json"
                await run_in_threadpool(self.node.journal.settle, who.token_id, key, status, media, body)
            else:
                await run_in_threadpool(self.node.journal.release, who.token_id, key)
        await send(start)
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def _kept(
        self, scope: Scope, receive: Receive, send: Send, who: Principal, kept: IdempotencyRow, fingerprint: str
    ) -> None:
        """The first answer again, or why there is none to give."""
        if kept.fingerprint != fingerprint:
            await self._refuse(scope, receive, send, who, IdempotencyKeyReused(
                f"Idempotency-Key {kept.key!r} was sent before with a different request"))  # fmt: skip
        elif kept.status is None:
            await self._refuse(scope, receive, send, who, IdempotencyKeyInUse(
                f"the request that first sent Idempotency-Key {kept.key!r} is still being answered"))  # fmt: skip
        else:
            headers = [(b"content-type", kept.media_type.encode("latin-1")), (b"idempotent-replayed", b"true"),
                       (b"content-length", str(len(kept.body)).encode())]  # fmt: skip
            await send({"type": "http.response.start", "status": kept.status, "headers": headers})
            await send({"type": "http.response.body", "body": kept.body, "more_body": False})

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, who: Principal, exc: DetenteError) -> None:
        response = problem_response(exc.http_status, exc.code, exc.message, exc.hint)
        await run_in_threadpool(self._journal, scope, who, exc.http_status, bytes(response.body))
        await response(scope, receive, send)


def add_journal_routes(app: FastAPI, node: Node, admin: Any) -> None:
    @app.get("/api/v1/journal", tags=["operators"])
    def journal(
        since: int | None = Query(None, ge=0, le=2**62, description="only rows written at or after (Unix seconds)"),
        limit: int = Query(1000, ge=1, le=10_000),
        who: Principal = admin,
    ) -> dict[str, object]:
        """The operator journal, oldest first, and whether its hash chain is intact."""
        problem: str | None = None
        head: dict[str, object] | None = None
        try:
            seq, last = node.journal.verify()
            head = {"seq": seq, "hash": last.hex()}
        except DetenteError as exc:
            problem = exc.message
        entries = [as_dict(row) for row in node.journal.entries(since=since, limit=limit)]
        return {"verified": problem is None, "problem": problem, "head": head, "entries": entries}
