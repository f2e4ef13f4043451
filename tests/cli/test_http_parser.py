"""`detente serve` parses HTTP with httptools (a dependency), not h11: a refused upload is read
to its end on the event loop, 2.5 ms with httptools against 13-17 ms with h11 per 12 MiB
(docs/performance.md, issue #21). uvicorn's ``auto`` picks httptools when it is importable and
falls back to h11 silently, so this fails if an install loses it."""

from __future__ import annotations


def test_uvicorn_serves_with_httptools() -> None:
    from uvicorn.protocols.http.auto import AutoHTTPProtocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    assert AutoHTTPProtocol is HttpToolsProtocol
