"""GET /api/v1/records pages like a paging client expects: a ``start`` at or past the log's end is
an empty page (it was 422 inclusion-proof-failed, as if the log were broken), and ``limit`` is
refused outside 1..1000 (-5 answered [] and 10**6 was cut to 1000 without a word)."""

from __future__ import annotations

from starlette.testclient import TestClient

STATEMENT = {"type": "detente.dev/statement/v1", "body": {"x": 1}}


def test_a_start_at_or_past_the_end_is_an_empty_page(client: TestClient) -> None:
    assert client.get("/api/v1/records", params={"start": 0}).json() == []  # an empty log
    assert client.post("/api/v1/records", json=STATEMENT).status_code == 201
    assert [r["index"] for r in client.get("/api/v1/records", params={"start": 0}).json()] == [0]
    for start in (1, 2, 2**62):
        answer = client.get("/api/v1/records", params={"start": start})
        assert answer.status_code == 200 and answer.json() == [], (start, answer.text)


def test_a_limit_outside_1_to_1000_is_refused(client: TestClient) -> None:
    for limit in (-5, 0, 1001):
        answer = client.get("/api/v1/records", params={"limit": limit})
        assert answer.status_code == 422 and "limit" in answer.json()["detail"], (limit, answer.text)
    assert client.get("/api/v1/records", params={"limit": 1000}).status_code == 200
