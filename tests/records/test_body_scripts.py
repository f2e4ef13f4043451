"""The writer refuses, before signing, a record whose body holds a text with a script that
contradicts its language tag (Han text marked ``en``), whichever route built the record: an
incident report's title, a glossary definition, a clause of a commitment document. The path of
the text is named; ``force_lang`` lets a caller that asked the operator through."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from detente.commitments.model import DOCUMENT, CommitmentDocument, GlossaryDefinition
from detente.errors import LanguageMismatch
from detente.incidents.model import IncidentReport
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.records.record import Record

US, CN = "us.example/log", "cn.example/log"
ZH_AS_EN = {"original": {"lang": "en", "text": "人工智能系统在医院发生故障，影响了分诊"}}
EN = {"original": {"lang": "en", "text": "a model outage at a hospital"}}


def report(incident_id: str, title: dict[str, Any]) -> IncidentReport:
    return IncidentReport.model_validate(
        {"incident_id": incident_id, "category": "ai-incident", "title": title, "description": EN,
         "ai_relation": "x", "submitter": "s", "supporting_materials": ["u"], "severity": "high",
         "harm_types": ["health"]}
    )  # fmt: skip


def document(clause: dict[str, Any]) -> CommitmentDocument:
    return CommitmentDocument.model_validate(
        {"document_id": "d1", "version": 1, "kind": "statement", "title": EN, "parties": [US, CN],
         "clauses": [{"id": "c1", "text": EN}, {"id": "c2", "text": clause}]}
    )  # fmt: skip


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    local = LocalNode("us", US, tmp_path_factory.mktemp("scripts") / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    yield node
    node.stop()


@pytest.mark.parametrize(
    ("write", "where"),
    [
        (lambda n: n.incidents.file(report("us-1", ZH_AS_EN)), "title: the original is marked en but written mostly"),
        (lambda n: n.commitments.define(GlossaryDefinition.model_validate({"term_id": "ai", "term": {"en": "AI"}, "definition": ZH_AS_EN})), "definition: the original"),
        (lambda n: n.commitments.draft(document({"original": {"lang": "en", "text": "hi"}, "translations": {"zh": "hi"}})), "clauses.1.text: the zh translation is marked zh but written in Latin"),
    ],
    ids=["incident title", "glossary definition", "a clause's translation"],
)  # fmt: skip
def test_a_body_text_in_the_wrong_script_is_refused_before_signing(node: Node, write: Any, where: str) -> None:
    size = node.log.size
    with pytest.raises(LanguageMismatch, match=where) as caught:
        write(node)
    assert caught.value.code == "language-mismatch" and "language tag" in (caught.value.hint or "")
    assert node.log.size == size


def test_texts_in_their_own_script_are_signed_and_force_lang_lets_one_through(node: Node) -> None:
    size = node.log.size
    node.incidents.file(report("us-2", EN | {"translations": {"zh-Hans": "医院的模型故障"}}))
    body = document(ZH_AS_EN).model_dump(mode="json", exclude_none=True)
    record = Record(type=DOCUMENT, party=US, issued=datetime.now(UTC), body=body)
    node.writer.append(record, force_lang=True)
    assert node.log.size == size + 2
