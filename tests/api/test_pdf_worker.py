"""The quarterly PDF is rendered in a worker process (issue #21): reportlab's rendering, a pure
function of the figures, never holds the node's GIL."""

from __future__ import annotations

import os
from collections.abc import Callable

from starlette.testclient import TestClient


def test_the_quarterly_pdf_is_rendered_in_a_worker_process(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    answer = client.get("/api/v1/reports/quarterly/2026Q4.pdf")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.content.startswith(b"%PDF") and answer.content.rstrip().endswith(b"%%EOF")
    workers = client.get("/api/v1/status").json()["heavy"]["workers"]
    assert (workers["jobs"], workers["started"], workers["alive"]) == (1, 1, 1)
    pids = client.app.state.heavy.pool.pids()  # type: ignore[attr-defined]
    assert len(pids) == 1 and pids[0] != os.getpid()
