"""A record body nested hundreds of levels deep is refused before signing with a typed 422 and a
hint (pydantic failed to serialize it while the record was sealed: 500 internal-error)."""

from __future__ import annotations

from starlette.testclient import TestClient

from detente.api.body import MAX_NESTING, nesting


def _statement(depth: int) -> bytes:
    """A statement whose body nests ``depth`` objects (the body itself one of them)."""
    inner = b'{"a":' * (depth - 1) + b"1" + b"}" * (depth - 1)
    return b'{"type":"detente.dev/statement/v1","body":{"x":' + inner + b"}}"


def test_a_deep_body_is_refused_before_signing(pinned: TestClient) -> None:
    json = {"content-type": "application/json"}
    refused = pinned.post("/api/v1/records", content=_statement(400), headers=json)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "malformed-record" and "400 levels" in problem["detail"]
    assert str(MAX_NESTING) in problem["hint"]
    assert pinned.post("/api/v1/records", content=_statement(MAX_NESTING + 1), headers=json).status_code == 422
    assert pinned.get("/healthz").json()["size"] == 0  # nothing signed
    signed = pinned.post("/api/v1/records", content=_statement(MAX_NESTING), headers=json)
    assert signed.status_code == 201, signed.text


def test_nesting_counts_objects_and_arrays() -> None:
    assert [nesting(v) for v in (1, "x", {}, [], {"a": [1, {"b": []}]}, [[[]]])] == [0, 0, 1, 1, 4, 3]
    deep: list[object] = []
    for _ in range(100_000):  # no recursion: as deep as the parser lets a body be
        deep = [deep]
    assert nesting(deep) == 100_001
