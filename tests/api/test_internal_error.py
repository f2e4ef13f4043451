"""A fault inside the node is answered like every other error: a problem body, not Starlette's
plain "Internal Server Error" and never a traceback or the fault's own words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

import detente.api.app as app_module


def test_an_unexpected_fault_is_a_problem_body(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()

    def broken() -> dict[str, int]:
        raise RuntimeError("secret internal detail /var/lib/detente")

    monkeypatch.setattr(app_module, "rejections", broken)  # what /api/v1/metrics calls
    fresh = TestClient(client.app, raise_server_exceptions=False, headers=dict(client.headers))
    answer = fresh.get("/api/v1/metrics")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["code"] == "internal-error" and body["status"] == 500 and body["hint"]
    assert "secret" not in answer.text and "Traceback" not in answer.text
