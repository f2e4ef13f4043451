"""Reading a request body with a size limit (raw uploads: witness requests, media files)."""

from __future__ import annotations

from fastapi import Request

from detente.errors import EntryTooLarge

__all__ = ["limited_body"]


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
