"""The record types the node writes itself (a receipt, a missed deadline, an escalation step, a
fork alarm, a key rotation, revocation or encryption key) are refused on POST /api/v1/records
before signing, with where they come from: an operator could sign a fork alarm accusing a peer, or
a receipt referencing nothing, on nothing but their say-so."""

from __future__ import annotations

from starlette.testclient import TestClient

from detente.api.app import NODE_WRITTEN

CN = "cn.detente.example/log"
BODIES: dict[str, dict[str, object]] = {  # bodies the catalogue's schemas (or none) would take
    "detente.dev/log-alarm/v1": {"origin": CN, "fork": "made up"},
    "detente.dev/receipt/v1": {"received_at": "2026-01-01T00:00:00Z"},
    "detente.dev/deadline-missed/v1": {"deadline": "response", "party": CN, "due": "2026-01-01T00:00:00Z"},
}


def test_the_types_the_node_writes_itself_are_refused(pinned: TestClient) -> None:
    assert len(NODE_WRITTEN) == 7
    wrong = []
    for record_type, hint in NODE_WRITTEN.items():
        answer = pinned.post("/api/v1/records", json={"type": record_type, "body": BODIES.get(record_type, {})})
        problem = answer.json()
        if answer.status_code != 422 or "by the node itself" not in problem["detail"] or problem["hint"] != hint:
            wrong.append((record_type, answer.status_code, problem))
    assert not wrong, wrong
    assert pinned.get("/healthz").json()["size"] == 0
    statement = pinned.post("/api/v1/records", json={"type": "detente.dev/statement/v1", "body": {"x": 1}})
    assert statement.status_code == 201, statement.text  # the other free-form type is still signed
