"""Duplicate suggestions: lexical overlap always; the semantic signal where the embedding model
is installed, between English texts only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detente.incidents.index import IndexBatch, StageRow
from detente.incidents.model import IncidentReport
from detente.incidents.similarity import Suggester, report_words
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
    probe = s._probe(new, report_words(new))
    # "insulin" and "dosing" are held by one incident, "chatbot", "advice" and "gave" by seven
    # (the title's words first among equals); "about" is a stop word
    assert probe == ["insulin", "dosing", "chatbot", "advice", "gave"]
    assert "a" in [g.incident_id for g in s.suggest(new, limit=10)]  # a candidate through its rare words
    unknown = report("y", "Zyxwv qwrtp", "Nothing indexed holds these words.")
    assert s._probe(unknown, report_words(unknown)) == []


def _semantic(index) -> Suggester:  # type: ignore[no-untyped-def]
    pytest.importorskip("numpy", reason="the semantic extra is not installed")
    s = Suggester(index)
    if s.embed(["probe"]) is None:
        pytest.skip("the embedding model package is not installed")
    return s


def _count_encodes(s: Suggester) -> list[int]:
    embedder = s._load()
    calls: list[int] = []
    encode = embedder.encode

    def counted(texts, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return encode(texts, *args, **kwargs)

    embedder.encode = counted
    return calls


PARAPHRASE = report(
    "z", "Medical assistant bot advised a diabetic to quit medication", "Dangerous guidance from an AI."
)


def test_vectors_are_kept_in_the_index_and_a_restart_does_not_embed_again(index) -> None:  # type: ignore[no-untyped-def]
    first = _semantic(index)
    calls = _count_encodes(first)
    assert first.suggest(PARAPHRASE)[0].incident_id == "a"
    assert sorted(calls) == [1, 2]  # the query, then the two English incidents (c has no English text)
    model = first._load().model_id
    stored = index.load_vectors(model)
    assert set(stored) == {(US, "a"), (US, "b"), (US, "c")} and stored[(US, "c")] == b""  # c: nothing to embed
    assert index.missing_vectors(model) == []

    restarted = _semantic(index)  # a new process on the same index
    calls = _count_encodes(restarted)
    got = restarted.suggest(PARAPHRASE)
    assert calls == [1]  # only the query: the incidents' vectors were read from the index
    assert got[0].incident_id == "a" and got[0].semantic is not None and got[0].semantic > 0.4


def test_an_incident_whose_text_changed_is_embedded_again(index) -> None:  # type: ignore[no-untyped-def]
    s = _semantic(index)
    s.suggest(PARAPHRASE)
    model = s._load().model_id
    update = report("b", "Chatbot told a diabetic patient to stop insulin", "An update: the same health chatbot.")
    index.apply(IndexBatch(stages=[StageRow(US, 9, f"{9:064x}", datetime(2026, 1, 3, tzinfo=UTC), update)]))
    assert index.missing_vectors(model) == [(US, "b", 9)]  # the stored vector is of the older text
    calls = _count_encodes(s)
    by_id = {g.incident_id: g for g in s.suggest(PARAPHRASE)}
    assert sorted(calls) == [1, 1] and index.missing_vectors(model) == []
    assert by_id["b"].semantic is not None and by_id["b"].semantic > 0.4  # now close to the paraphrase


def test_many_new_incidents_are_embedded_in_the_background(index, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from detente.incidents import similarity

    monkeypatch.setattr(similarity, "INLINE_EMBED", 1)  # as if a large import had just arrived
    s = _semantic(index)
    model = s._load().model_id
    s.suggest(PARAPHRASE)  # answers with the vectors ready so far; the rest are embedded meanwhile
    deadline = datetime.now(UTC).timestamp() + 60
    while s.embedding and datetime.now(UTC).timestamp() < deadline:
        import time

        time.sleep(0.05)
    assert not s.embedding and index.missing_vectors(model) == []
    got = s.suggest(PARAPHRASE)
    assert got[0].incident_id == "a" and got[0].semantic is not None and got[0].semantic > 0.4
