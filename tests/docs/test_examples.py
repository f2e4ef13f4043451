"""Every input file the docs tell operators to write has a complete example in ``examples/``
(issue #20): each is read by the model that reads it, every one is named by the docs, and all of
them are filed through a real node (SQLite, real keys; the API in process), with the example
agreement as the node's agreement in force."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.commitments.model import CommitmentDocument
from detente.exportctl.records import RecognitionArrangement, ViolationNarrative
from detente.exportctl.rules import load_pack
from detente.incidents.model import IncidentReport
from detente.media.guidelines import parse_guideline
from detente.media.watermark import WatermarkScheme
from detente.node.config import load_agreement, load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.tokens import issue_token
from detente.protocol.agreement import Agreement
from detente.store.node_protocol import PeerRow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()


def _document(path: Path) -> object:
    document = CommitmentDocument.model_validate_json(path.read_bytes())
    if document.agreement is not None:  # the protocol rules an agreement document sets
        Agreement.model_validate(document.agreement)
    return document


READERS: dict[str, Callable[[Path], object]] = {
    "incidents/report-initial.json": lambda p: IncidentReport.model_validate_json(p.read_bytes()),
    "incidents/report-update.json": lambda p: IncidentReport.model_validate_json(p.read_bytes()),
    "incidents/report-final.json": lambda p: IncidentReport.model_validate_json(p.read_bytes()),
    "commitments/statement.json": _document,
    "commitments/principles.json": _document,
    "commitments/moratorium.json": _document,
    "commitments/agreement.json": _document,
    "commitments/glossary.json": _document,
    "node/agreement.json": load_agreement,
    "exportctl/arrangement.json": lambda p: RecognitionArrangement.model_validate_json(p.read_bytes()),
    "exportctl/narrative.json": lambda p: ViolationNarrative.model_validate_json(p.read_bytes()),
    "exportctl/rule-pack.json": lambda p: load_pack(p.read_bytes()),
    "media/guideline.json": lambda p: parse_guideline(p.read_bytes()),
    "media/watermark-scheme.json": lambda p: WatermarkScheme.model_validate_json(p.read_bytes()),
}


def _example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_every_example_has_a_reader_and_nothing_is_left_out() -> None:
    files = {p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*") if p.is_file()}
    assert files - {"README.md"} == set(READERS)


@pytest.mark.parametrize("name", sorted(READERS))
def test_each_example_is_read_by_its_model(name: str) -> None:
    assert READERS[name](EXAMPLES / name) is not None


def test_the_docs_name_every_example_and_only_examples_that_exist() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"])
    text += (EXAMPLES / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"examples/([a-z-]+/[a-z-]+\.json)", text))
    assert named - set(READERS) == set(), "the docs name examples that do not exist"
    assert set(READERS) - named == set(), "examples that no page names"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Node, TestClient]]:
    cn = LocalNode("cn", "cn.detente.example/log", tmp_path / "cn").init()
    local = LocalNode("us", "us.detente.example/log", tmp_path / "us").init()
    local.use_agreement(_example("node/agreement.json"))
    config, base = load_config(local.directory)
    node = Node(config, base, clock=lambda: NOW)
    node.syncer.follow(PeerRow(name="cn", url="http://127.0.0.1:9", vkey=cn.vkey, cosigner_vkey=None, added=0))
    token = issue_token(node.state, "officer", "examples", int(NOW))
    with TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"}) as client:
        yield node, client
    node.stop()


def test_every_example_is_filed_through_a_node(served: tuple[Node, TestClient]) -> None:
    node, client = served
    assert node.agreement.agreement_id == "us-cn-hotline"

    def created(path: str, body: Any) -> Any:
        resp = client.post(path, json=body)
        assert resp.status_code == 201, (path, resp.text)
        return resp.json()

    for stage in ("initial", "update", "final"):
        filed = created("/api/v1/incidents", {"report": _example(f"incidents/report-{stage}.json")})
        if stage == "initial":  # a critical-infrastructure report warns the peers at once
            assert filed["early_warning"]["origin"] == node.signer.identity.name
    for kind in ("statement", "principles", "moratorium", "agreement", "glossary"):
        created("/api/v1/commitments/draft", _example(f"commitments/{kind}.json"))
    created("/api/v1/exportctl/recognitions", _example("exportctl/arrangement.json"))
    created("/api/v1/exportctl/packs", _example("exportctl/rule-pack.json"))
    text = {"original": {"lang": "en", "text": "Two boards shipped without a licence"}}
    notice = created("/api/v1/exportctl/disclosures", {"to": ["cn"], "text": text})
    created(
        "/api/v1/exportctl/disclosures/narrative",
        {"index": notice["index"], "narrative": _example("exportctl/narrative.json")},
    )
    created("/api/v1/labels/guidelines", _example("media/guideline.json"))
    created("/api/v1/watermark/keys", {"key_id": "us-wm-2026-1", "scheme": _example("media/watermark-scheme.json")})
    types = [item["record"]["type"] for item in client.get("/api/v1/records", params={"limit": 100}).json()]
    assert len(types) == node.log.size and "detente.dev/watermark-key/v1" in types
