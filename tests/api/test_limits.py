"""Request limits (issue #21): body caps per path, set in detente.toml and enforced while the body
arrives (an oversized upload is never read to its end), and per-token and per-address rate
limits on the expensive operations, answered 429 with Retry-After. In process, on a real node."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import jsonschema
from starlette.testclient import TestClient

from detente.api.body import BodyLimit
from detente.api.contract import PROBLEM_SCHEMA
from detente.api.limits import EXPENSIVE

TEXT = {"Content-Type": "text/plain"}


def _check(client: TestClient, token: str | None = None) -> int:
    headers = {**TEXT, "Authorization": f"Bearer {token}"} if token else TEXT
    return client.post("/api/v1/labels/check", content=b"hi", headers=headers).status_code


def test_body_caps_come_from_detente_toml_with_a_hint(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=65_536, max_upload_bytes=100_000, max_import_bytes=70_000)
    big_json = b'{"type": "x", "body": {"pad": "' + b"a" * 70_000 + b'"}}'
    refused = client.post("/api/v1/records", content=big_json, headers={"Content-Type": "application/json"})
    assert refused.status_code == 413, refused.text
    problem = refused.json()
    assert problem["code"] == "entry-too-large" and "max_body_bytes" in problem["hint"]
    assert "65,536" in problem["detail"]
    under = client.post("/api/v1/records", content=big_json[:60_000], headers={"Content-Type": "application/json"})
    assert under.status_code == 422  # read, and refused for what it says, not for its size
    upload = client.post("/api/v1/labels/check", content=b"x" * 100_001, headers=TEXT)
    assert upload.status_code == 413 and "max_upload_bytes" in upload.json()["hint"]
    assert client.post("/api/v1/labels/check", content=b"x" * 90_000, headers=TEXT).status_code == 200
    stix = client.post("/api/v1/incidents/stix", content=b"{" + b" " * 70_000 + b"}")
    assert stix.status_code == 413 and "max_import_bytes" in stix.json()["hint"]


def test_the_upload_cap_covers_the_uploads_only(make_client: Callable[..., TestClient]) -> None:
    """The JSON routes beside the uploads (/api/v1/labels/guidelines, /anchors) keep max_body_bytes:
    an anonymous body there is refused 413 before it is read or parsed, not read up to 64 MiB."""
    client = make_client(max_body_bytes=65_536, max_upload_bytes=100_000)
    anonymous = TestClient(client.app)
    big_json = b'{"pad": "' + b"a" * 70_000 + b'"}'
    for path in ("/api/v1/labels/guidelines", "/api/v1/labels/anchors"):
        refused = anonymous.post(path, content=big_json, headers={"Content-Type": "application/json"})
        assert refused.status_code == 413 and "max_body_bytes" in refused.json()["hint"], (path, refused.text)
    params = {"propagator": "p", "propagate_id": "1"}
    for path in ("/api/v1/labels/check", "/api/v1/labels/apply", "/api/v1/labels/propagate"):
        answer = client.post(path, content=b"x" * 90_000, headers=TEXT, params=params)
        assert answer.status_code != 413, (path, answer.text)  # read (and judged on what it is)


def test_a_streamed_body_is_cut_off_as_soon_as_it_passes_the_cap() -> None:
    """ASGI level: a chunked upload of 100 chunks of 64 KiB against a 256 KiB cap. The app asks for
    the whole body; the middleware answers 413 once the cap is passed and nothing more is read."""
    chunk = b"x" * 65_536
    pulled = 0
    sent: list[dict[str, Any]] = []
    app_saw: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < 100}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:  # reads everything it is given
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        app_saw.append(size)

    limit = BodyLimit(app, default=(256 * 1024, "max_body_bytes in detente.toml"), larger={})
    scope = {"type": "http", "method": "POST", "path": "/api/v1/records", "headers": []}
    anyio.run(limit, scope, receive, send)
    assert pulled == 5  # 4 chunks fill the cap; the 5th passes it and is the last one read
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert app_saw == [4 * 65_536]  # the app saw the client go away, never the refused chunk


def test_a_token_is_limited_on_the_expensive_routes_only(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_burst=2, rate_limit_per_minute=0.01, rate_limit_peer_burst=100)
    assert [_check(client), _check(client)] == [200, 200]
    refused = client.post("/api/v1/labels/check", content=b"hi", headers=TEXT)
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) > 60  # 0.01 a minute: the next one in 100 minutes
    assert refused.json()["code"] == "rate-limited" and "rate_limit_" in refused.json()["hint"]
    jsonschema.validate(refused.json(), PROBLEM_SCHEMA)  # the document's one Problem schema
    assert client.get("/api/v1/reports/quarterly/2026Q4").status_code == 429  # one bucket for all expensive routes
    assert client.get("/api/v1/status").status_code == 200  # a cheap route is not limited
    # another token has its own bucket; a forged token (its id, a wrong secret) takes none of it
    other = client.post("/api/v1/tokens", json={"role": "viewer"}).json()["token"]
    forged = f"dtk_{other.split('_')[1]}_{'x' * 32}"
    assert [_check(client, forged) for _ in range(3)] == [401, 401, 401]
    assert [_check(client, other) for _ in range(3)] == [200, 200, 429]


def test_an_address_is_limited_whatever_its_tokens(make_client: Callable[..., TestClient]) -> None:
    client = make_client(rate_limit_peer_burst=3, rate_limit_peer_per_minute=0.01, rate_limit_burst=100)
    tokens = [client.post("/api/v1/tokens", json={"role": "viewer"}).json()["token"] for _ in range(4)]
    answers = [
        client.post("/api/v1/labels/check", content=b"hi", headers={**TEXT, "Authorization": f"Bearer {t}"})
        for t in tokens
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert "client address" in answers[-1].json()["detail"] and "rate_limit_peer_" in answers[-1].json()["hint"]
    anonymous = client.post("/api/v1/labels/check", content=b"hi", headers={**TEXT, "Authorization": ""})
    assert anonymous.status_code == 429  # before the token is even looked at


def test_zero_is_no_limit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(
        rate_limit_burst=1, rate_limit_per_minute=0, rate_limit_peer_burst=1, rate_limit_peer_per_minute=0
    )
    assert [_check(client) for _ in range(5)] == [200] * 5


def test_the_limited_operations_are_served_and_documented_429(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if "429" in op.get("responses", {})
    }
    assert documented == set(EXPENSIVE)
    for method, path in EXPENSIVE:
        assert "Retry-After" in spec["paths"][path][method.lower()]["responses"]["429"]["headers"]
