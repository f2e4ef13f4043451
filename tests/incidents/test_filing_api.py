"""Filing an incident through the API on a real node (SQLite, real signing and appending), served
in-process by FastAPI's TestClient: when only the duplicate suggestions after the append fail,
the answer still says the report is filed, with where to get the suggestions later."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from detente.api.app import create_app
from detente.errors import StorageError
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token

REPORT = {
    "incident_id": "us-2026-0042",
    "category": "ai-incident",
    "title": {"original": {"lang": "en", "text": "Chatbot gave dangerous dosing advice"}},
    "description": {"original": {"lang": "en", "text": "A health chatbot told a patient to stop insulin."}},
    "ai_relation": "model output",
    "submitter": "duty officer",
    "supporting_materials": ["https://example.org/r/42"],
    "severity": "medium",
    "harm_types": ["health"],
}


@pytest.fixture
def served(tmp_path: Path):  # type: ignore[no-untyped-def]
    local = LocalNode("us", "us.example/log", tmp_path / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    token = issue_token(node.state, "officer", "filing test", int(time.time()))
    with TestClient(create_app(node)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield node, client
    node.stop()


def test_a_report_whose_suggestions_fail_is_answered_as_filed(served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    node, client = served

    def busy(*_: object, **__: object) -> None:
        raise StorageError("SQLite error in the incident index: database is locked", hint="retry shortly")

    monkeypatch.setattr(node.incidents, "suggest", busy)
    resp = client.post("/api/v1/incidents", json={"report": REPORT})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["incident_id"] == "us-2026-0042" and body["possible_duplicates"] is None
    assert "the report is filed" in body["possible_duplicates_error"]
    assert node.log.size == body["index"] + 1  # logged once; a retry is not needed
    monkeypatch.undo()
    again = client.post("/api/v1/incidents", json={"report": REPORT | {"incident_id": "us-2026-0043"}})
    assert again.status_code == 201 and isinstance(again.json()["possible_duplicates"], list)
