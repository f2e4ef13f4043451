"""Duplicate suggestions: lexical overlap always; the semantic signal where the embedding model
is installed, between English texts only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detente.incidents.index import IndexBatch, StageRow
from detente.incidents.model import IncidentReport
from detente.incidents.similarity import Suggester
from detente.store.sqlite_incidents import SQLiteIncidentIndex

US = "us.example/log"


def report(incident_id: str, title: str, description: str, lang: str = "en", **translations: str) -> IncidentReport:
    return IncidentReport.model_validate(
        {
            "incident_id": incident_id,
            "category": "ai-incident",
            "title": {"original": {"lang": lang, "text": title}, "translations": translations},
            "description": {"original": {"lang": lang, "text": description}},
            "ai_relation": "model output",
            "submitter": "desk",
            "supporting_materials": ["https://example.org"],
            "severity": "medium",
            "harm_types": ["health"],
        }
    )


@pytest.fixture
def index(tmp_path):  # type: ignore[no-untyped-def]
    idx = SQLiteIncidentIndex(tmp_path / "i.db")
    rows = [
        report("a", "Chatbot told a patient to stop taking insulin", "A health chatbot gave dangerous dosing advice."),
        report(
            "b",
            "Facial recognition misidentified a shopper",
            "A store's face matching system flagged the wrong person.",
        ),
        report(
            "c",
            "自动驾驶汽车在北京发生碰撞",
            "一辆自动驾驶汽车撞上护栏。",
            lang="zh",
            en="Self-driving car crashed in Beijing",
        ),
    ]
    t = datetime(2026, 1, 1, tzinfo=UTC)
    idx.apply(IndexBatch(stages=[StageRow(US, i, f"{i:064x}", t, r) for i, r in enumerate(rows)]))
    yield idx
    idx.close()


def test_lexical_suggestions_rank_the_shared_words_first(index) -> None:  # type: ignore[no-untyped-def]
    s = Suggester(index, semantic=False)
    got = s.suggest(report("x", "Health chatbot gave dangerous insulin advice", "A patient was told to stop insulin."))
    assert got[0].incident_id == "a" and got[0].semantic is None and got[0].lexical > 0
    zh = s.suggest(report("y", "北京自动驾驶汽车碰撞事故", "汽车撞上护栏", lang="zh"))
    assert zh[0].incident_id == "c"  # Chinese matched by bigrams


def test_semantic_suggestions_find_a_paraphrase_with_few_shared_words(index) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("numpy", reason="the semantic extra is not installed")
    s = Suggester(index)
    if s.embed(["probe"]) is None:
        pytest.skip("the embedding model package is not installed")
    paraphrase = report(
        "z", "Medical assistant bot advised a diabetic to quit medication", "Dangerous guidance from an AI."
    )
    got = s.suggest(paraphrase)
    assert got[0].incident_id == "a" and got[0].semantic is not None and got[0].semantic > 0.4
    by_id = {g.incident_id: g for g in got}
    assert by_id["a"].semantic > by_id["b"].semantic  # type: ignore[operator]
    chinese = s.suggest(report("w", "北京自动驾驶汽车碰撞", "汽车撞上护栏", lang="zh"))
    assert all(g.semantic is None for g in chinese)  # no English text: no semantic score


def test_the_candidate_query_uses_the_rarest_words_of_the_report(index) -> None:  # type: ignore[no-untyped-def]
    common = [report(f"n{i}", f"Chatbot advice note {i}", "A chatbot gave advice.") for i in range(6)]
    t = datetime(2026, 1, 2, tzinfo=UTC)
    index.apply(IndexBatch(stages=[StageRow(US, 10 + i, f"{10 + i:064x}", t, r) for i, r in enumerate(common)]))
    s = Suggester(index, semantic=False)
    new = report("x", "Chatbot advice about insulin dosing", "The chatbot gave advice on insulin.")
    probe = s._probe(new)
    # "insulin" and "dosing" are held by one incident, "chatbot", "advice" and "gave" by seven
    # (the title's words first among equals); "about" is a stop word
    assert probe == ["insulin", "dosing", "chatbot", "advice", "gave"]
    assert "a" in [g.incident_id for g in s.suggest(new, limit=10)]  # a candidate through its rare words
    assert s._probe(report("y", "Zyxwv qwrtp", "Nothing indexed holds these words.")) == []
