"""Request bodies: the base of every JSON body model (unknown fields refused), and size limits: raw
uploads read in bounded chunks, and a middleware that refuses an oversized body before anything
buffers it."""

from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, ConfigDict
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente.api.problems import error_response
from detente.errors import EntryTooLarge, MalformedError

__all__ = ["MAX_NESTING", "BodyLimit", "RequestIn", "limited_body", "nesting"]

MAX_NESTING = 64
"""How deeply a free-form JSON value the node signs may nest objects and arrays: far past any
record's need, and well short of where serializing it fails (pydantic gives up at a few hundred
levels, after the record is made: a 500, not a refusal)."""


class RequestIn(BaseModel):
    """A JSON request body. A field the route does not take is refused (422 ``invalid-request``
    naming it), never dropped: a ``"tlp": "TLP:RED"`` sent to a route without a ``tlp`` field
    would otherwise be signed TLP:CLEAR, a misspelt ``"ttl"`` would issue a token that never
    expires."""

    model_config = ConfigDict(extra="forbid")


def nesting(value: object) -> int:
    """How deeply ``value`` nests JSON objects and arrays (a scalar: 0), counted without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


async def limited_body(request: Request, limit: int, setting: str = "this route's fixed limit") -> bytes:
    """The body, refused with ``entry-too-large`` as soon as it passes ``limit`` bytes."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise BodyLimit.too_large(f"over {limit:,} bytes", limit, setting)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyLimit.too_large(f"over {limit:,} bytes", limit, setting)
        chunks.append(chunk)
    return b"".join(chunks)


class BodyLimit:
    """ASGI middleware: refuse a request body over its path's limit before the app buffers it.

    FastAPI reads a JSON body before it checks the caller's token, so without this an anonymous
    client could make the node hold any amount of memory. A declared ``Content-Length`` over the
    limit is answered 413 at once; a chunked body is counted as it streams and cut off the same
    way (nothing past the limit is read). Limits: ``default`` for every path, ``larger`` by path
    prefix (uploads, bulk imports, the witness), each ``(bytes, where it is set)``.
    """

    def __init__(self, app: ASGIApp, *, default: tuple[int, str], larger: dict[str, tuple[int, str]]) -> None:
        self.app = app
        self.default = default
        self.larger = sorted(larger.items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> tuple[int, str]:
        return next((limit for prefix, limit in self.larger if path.startswith(prefix)), self.default)

    @staticmethod
    def too_large(what: str, limit: int, setting: str) -> EntryTooLarge:
        return EntryTooLarge(
            f"request body {what}; this path takes at most {limit:,} bytes",
            hint=f"send a smaller body (the limit is {setting})",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit, setting = self.limit_for(path)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0:
                    bad = MalformedError("request with an invalid Content-Length", hint="send a decimal byte count")
                    await error_response(bad, path)(scope, receive, send)
                    return
                if declared > limit:
                    await error_response(self.too_large(f"of {declared:,} bytes", limit, setting), path)(
                        scope, receive, send
                    )
                    return
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                seen += len(message.get("body", b""))
                if seen > limit:  # answer now; the app sees the client gone and its answer is dropped
                    refused = True
                    await error_response(self.too_large(f"over {limit:,} bytes", limit, setting), path)(
                        scope, receive, send
                    )
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)
