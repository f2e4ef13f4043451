"""/docs and /redoc in a real browser (issue #21): Swagger UI and ReDoc render the node's OpenAPI
document from the node's own files under its Content-Security-Policy, and no request to anywhere
else completes (ReDoc's "powered by" logo points at its CDN: the CSP refuses it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detente.node.localnet import LocalNode


def test_swagger_ui_and_redoc_render_offline(make_node: Callable[[str], LocalNode], page: Any) -> None:
    node = make_node("us").start()
    elsewhere: list[str] = []
    page.on(
        "requestfinished",
        lambda r: elsewhere.append(r.url) if not r.url.startswith((node.url, "data:", "blob:")) else None,
    )
    page.goto(f"{node.url}/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 60  # every operation of the document
    page.goto(f"{node.url}/redoc")
    page.wait_for_selector("[data-section-id]")
    assert page.locator("[data-section-id]").count() >= 60
    assert not page.js_errors, page.js_errors
    assert not elsewhere, elsewhere
    refused = [e for e in page.console_errors if "Content Security Policy" in e]
    assert all("cdn.redoc.ly" in e for e in refused), refused  # only ReDoc's logo, and it was refused
