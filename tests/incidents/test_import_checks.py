"""Importing incident reports runs the checks of filing one, the batch's earlier reports counted:
an incident has one ``initial`` report, and an ``update`` or ``final`` follows it. What fails is
skipped with its reason (nothing of it is signed); the rest is imported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from detente.incidents.model import INCIDENT, IncidentReport
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node

T = {"original": {"lang": "en", "text": "outage"}}


def report(incident_id: str, stage: str = "initial") -> IncidentReport:
    return IncidentReport.model_validate(
        {
            "incident_id": incident_id,
            "stage": stage,
            "category": "ai-incident",
            "title": T,
            "description": T,
            "ai_relation": "x",
            "submitter": "s",
            "supporting_materials": ["u"],
            "severity": "high",
            "harm_types": ["health"],
        }
    )


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    local = LocalNode("us", "us.example/log", Path(tmp_path_factory.mktemp("import")) / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    yield node
    node.stop()


def _stages(node: Node, incident_id: str) -> list[str]:
    logged = node.party.records_of([INCIDENT])
    return [x.record.body.get("stage", "initial") for x in logged if x.record.body["incident_id"] == incident_id]


def test_an_update_of_an_incident_never_reported_is_skipped(node: Node) -> None:
    size = node.log.size
    result = node.incidents.import_records([report("i-1", "update"), report("i-2", "final")], [])
    assert result["reports"] == 0 and [s["id"] for s in result["skipped"]] == ["i-1", "i-2"]
    assert "its first report is 'initial'" in result["skipped"][0]["reason"] and node.log.size == size


def test_one_initial_report_per_incident_and_its_updates_after_it(node: Node) -> None:
    batch = [report("i-3", "update"), report("i-3"), report("i-3"), report("i-3", "update"), report("i-3", "final")]
    result = node.incidents.import_records(batch, [])
    assert result["reports"] == 3
    assert [s["reason"] for s in result["skipped"]] == [
        "no report of incident i-3 to update: its first report is 'initial'",
        "its initial report is earlier in this batch",
    ]
    assert _stages(node, "i-3") == ["initial", "update", "final"]
    again = node.incidents.import_records([report("i-3"), report("i-3", "update")], [])  # idempotent
    assert again["reports"] == 0 and {s["reason"] for s in again["skipped"]} == {"already imported"}
