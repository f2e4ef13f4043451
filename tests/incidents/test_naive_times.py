"""An incident report's times must carry a time zone: one without is refused before it is signed,
and a peer's report carrying one (validly signed by the peer) is quarantined when mirrored, so the
incident views of this node keep answering (a naive ``aware_at`` compared with the regimes' aware
dates made the incident's page and the working group's view answer 500 for good)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from detente.api.app import create_app
from detente.incidents.model import INCIDENT
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token

sys.path.insert(0, str(Path(__file__).parents[1] / "federation"))
from hostile_peer import HostilePeer

TEXT = {"original": {"lang": "en", "text": "model outage at a hospital"}}
REPORT = {
    "incident_id": "cn-2026-0001",
    "category": "ai-incident",
    "title": TEXT,
    "description": TEXT,
    "ai_relation": "the triage model failed",
    "submitter": "cert",
    "supporting_materials": ["https://example.org/a"],
    "severity": "high",
    "harm_types": ["health"],
    "jurisdictions": ["CN", "EU"],
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Node, TestClient, HostilePeer]]:
    """A node (us) pinning a peer (cn) that logs whatever it likes."""
    peer = HostilePeer(tmp_path / "cn")
    local = LocalNode("us", "us.example/log", tmp_path / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    token = issue_token(node.state, "admin", "naive times test", int(time.time()))
    try:
        with TestClient(create_app(node), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            pinned = client.post("/api/v1/peers", json={"name": "cn", "url": peer.url, "vkey": peer.vkey()})
            assert pinned.status_code == 201, pinned.text
            yield node, client, peer
    finally:
        node.stop()
        peer.close()


def test_a_naive_time_is_refused_before_signing(served) -> None:  # type: ignore[no-untyped-def]
    node, client, _ = served
    size = node.log.size
    for times in (
        {"aware_at": "2026-11-02T00:00:00"},
        {"occurred_at": "2026-11-01T00:00:00Z", "aware_at": "2026-11-02T00:00:00"},
    ):
        answer = client.post("/api/v1/incidents", json={"report": REPORT | {"incident_id": "us-2026-0001", **times}})
        assert answer.status_code == 422 and "timezone" in answer.text, answer.text
    assert node.log.size == size


def test_a_peers_report_with_a_naive_time_is_quarantined_and_reads_keep_working(served) -> None:  # type: ignore[no-untyped-def]
    _, client, peer = served
    peer.append(INCIDENT, REPORT | {"aware_at": "2026-11-02T00:00:00"})
    peer.append(INCIDENT, REPORT | {"incident_id": "cn-2026-0002", "aware_at": "2026-11-02T00:00:00Z"})
    synced = client.post("/api/v1/peers/cn/sync")
    assert synced.status_code == 200 and synced.json()["size"] == 2, synced.text
    quarantined = {(q["origin"], q["index"]) for q in client.get("/api/v1/status").json()["quarantine"]}
    assert quarantined == {(peer.origin, 0)}
    group = client.get("/api/v1/working-group")
    assert group.status_code == 200, group.text
    for number, status in (("0001", 404), ("0002", 200)):
        shown = client.get("/api/v1/incident", params={"origin": peer.origin, "id": f"cn-2026-{number}"})
        assert shown.status_code == status, shown.text
