"""A text that shows nothing (only spaces, a zero-width space, a direction mark, a Hangul filler)
is refused before signing wherever a record says something: a record's text and every bilingual
text of its body (original and translations; the writer checks them, so a peer's record carrying
one still parses and its log still syncs), a clarification's question and answer, a glossary term
(whose languages are BCP 47 tags)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from detente.commitments.model import GlossaryDefinition
from detente.errors import MalformedRecord
from detente.incidents.model import INCIDENT
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.records.hotline import ClarificationRequest, ClarificationResponse
from detente.records.record import Record
from detente.records.text import BilingualText, is_blank

BLANKS = ["", "   ", "\u200b", "\u200e\u200f", "\u00a0\u3000", "\t\n", "\u3164", "\ufeff "]
T = {"original": {"lang": "en", "text": "hello"}}
STATEMENT = "detente.dev/statement/v1"


def test_what_counts_as_blank() -> None:
    assert all(is_blank(text) for text in BLANKS)
    assert not any(is_blank(text) for text in ("a", " . ", "\u200b你好", "\u0627\u200f"))
    text = BilingualText.model_validate(
        {"original": {"lang": "en", "text": " "}, "translations": {"zh": "\u200b", "fr": "x"}}
    )
    assert text.blank() == ["original", "zh"]  # a peer's record carrying it still parses


@pytest.mark.parametrize("blank", BLANKS, ids=repr)
@pytest.mark.parametrize(
    ("model", "value"),
    [
        (ClarificationRequest, lambda b: {"question": b}),
        (ClarificationResponse, lambda b: {"answer": b}),
        (GlossaryDefinition, lambda b: {"term_id": "x", "term": {"en": b}, "definition": T}),
    ],
    ids=["question", "answer", "glossary term"],
)
def test_a_blank_body_field_is_refused(model: type[BaseModel], value: Any, blank: str) -> None:
    with pytest.raises(ValidationError, match=r"blank|at least 1 character"):
        model.model_validate(value(blank))
    model.model_validate(value(f"{blank}x{blank}"))  # a visible character among them is a text


def test_a_glossary_terms_languages_are_language_tags() -> None:
    with pytest.raises(ValidationError, match="not a BCP 47 language tag"):
        GlossaryDefinition.model_validate({"term_id": "x", "term": {"not a language tag!": "x"}, "definition": T})
    GlossaryDefinition.model_validate({"term_id": "x", "term": {"en": "x", "zh-Hans": "十"}, "definition": T})


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    local = LocalNode("us", "us.example/log", tmp_path_factory.mktemp("blank") / "us").init()
    config, base = load_config(local.directory)
    node = Node(config, base)
    yield node
    node.stop()


def _incident(title: dict[str, Any]) -> dict[str, Any]:
    return {"incident_id": "us-1", "category": "ai-incident", "title": title, "description": T, "ai_relation": "x",
            "submitter": "s", "supporting_materials": ["u"], "severity": "high", "harm_types": ["health"]}  # fmt: skip


@pytest.mark.parametrize(
    ("record", "where"),
    [
        ({"type": STATEMENT, "text": {"original": {"lang": "en", "text": "\u200b "}}}, "text.original"),
        ({"type": STATEMENT, "text": T | {"translations": {"zh": " "}}}, "text.zh"),
        ({"type": INCIDENT, "body": _incident({"original": {"lang": "en", "text": "\u3000"}})}, "title.original"),
    ],
    ids=["original", "translation", "a body's text"],
)  # fmt: skip
def test_a_blank_text_is_refused_before_signing(node: Node, record: dict[str, Any], where: str) -> None:
    size = node.log.size
    written = Record(party=node.signer.identity.name, issued=datetime.now(UTC), **record)
    with pytest.raises(MalformedRecord, match=rf"^{where}: blank") as caught:
        node.writer.append(written)
    assert caught.value.hint and node.log.size == size
