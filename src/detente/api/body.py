"""Request bodies with size limits: raw uploads read in bounded chunks, and a middleware that
refuses an oversized body before anything buffers it."""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente.api.problems import problem_response
from detente.errors import EntryTooLarge

__all__ = ["BodyLimit", "limited_body"]


async def limited_body(request: Request, limit: int) -> bytes:
    """The body, refused with ``entry-too-large`` as soon as it passes ``limit`` bytes."""
    if int(request.headers.get("content-length") or 0) > limit:
        raise EntryTooLarge(f"request body is over {limit:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise EntryTooLarge(f"request body is over {limit:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class BodyLimit:
    """ASGI middleware: refuse a request body over its path's limit before the app buffers it.

    FastAPI reads a JSON body before it checks the caller's token, so without this an anonymous
    client could make the node hold any amount of memory. A declared ``Content-Length`` over the
    limit is answered 413 at once; a chunked body is counted as it streams and cut off the same
    way. Limits: ``default`` for every path, ``larger`` by path prefix (uploads, bulk imports).
    """

    def __init__(self, app: ASGIApp, *, default: int, larger: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.larger = sorted(larger.items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.larger if path.startswith(prefix)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared < 0 or declared > limit:
                    what = "an invalid Content-Length" if declared < 0 else f"{declared:,} bytes"
                    response = problem_response(
                        413 if declared >= 0 else 400,
                        "entry-too-large" if declared >= 0 else "malformed",
                        f"request body of {what}; this path takes at most {limit:,}",
                        "send less; uploads go to /api/v1/labels/…, bulk imports to /api/v1/incidents/import",
                    )
                    await response(scope, receive, send)
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
                    response = problem_response(
                        413, "entry-too-large", f"request body is over {limit:,} bytes", "send less"
                    )
                    await response(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counted, guarded)
