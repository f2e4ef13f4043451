"""The incident index on both drivers: full-text search in English and Chinese, filters, the
latest stage wins, idempotent replays, classifications, links and counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detente.errors import MalformedRecord
from detente.incidents.index import SearchQuery, batch_for
from detente.incidents.model import CLASSIFICATION, INCIDENT, LINK, LINK_CONFIRMATION
from detente.records.record import Record
from detente.records.ref import RecordRef

US, CN = "us.example/log", "cn.example/log"
T = datetime(2026, 11, 20, tzinfo=UTC)


def report(incident_id: str, title_en: str, description_en: str, **over: object) -> dict:  # type: ignore[type-arg]
    return {
        "incident_id": incident_id,
        "category": "ai-incident",
        "title": {"original": {"lang": "en", "text": title_en}},
        "description": {"original": {"lang": "en", "text": description_en}},
        "ai_relation": "model output",
        "submitter": "desk",
        "supporting_materials": ["https://example.org"],
        "severity": "medium",
        "harm_types": ["health"],
        "occurred_at": "2026-10-01T00:00:00Z",
    } | over


def items(*specs: tuple[str, int, str, dict]) -> list:  # type: ignore[type-arg]
    out = []
    for origin, index, rtype, body in specs:
        refs = tuple(body.pop("_refs", ()))
        rec = Record(type=rtype, party=origin, issued=T, body=body, refs=refs)
        out.append((origin, index, f"{index:064x}", rec))
    return out


@pytest.fixture
def filled(incident_index):  # type: ignore[no-untyped-def]
    incident_index.apply(
        batch_for(
            items(
                (
                    US,
                    0,
                    INCIDENT,
                    report("us-1", "Chatbot gave dangerous medical advice", "Patients were harmed by advice."),
                ),
                (
                    US,
                    1,
                    INCIDENT,
                    report(
                        "us-2",
                        "Power grid forecasting failure",
                        "A forecasting model caused blackouts.",
                        harm_types=["critical-infrastructure"],
                        severity="critical",
                        critical_infrastructure=True,
                        sectors=["Energy"],
                        occurred_at="2025-03-01T00:00:00Z",
                    ),
                ),
                (
                    CN,
                    0,
                    INCIDENT,
                    report(
                        "cn-1",
                        "自动驾驶汽车事故",
                        "一辆自动驾驶汽车在北京市发生碰撞。",
                        title={
                            "original": {"lang": "zh", "text": "自动驾驶汽车事故"},
                            "translations": {"en": "Self-driving car crash"},
                        },
                        description={"original": {"lang": "zh", "text": "一辆自动驾驶汽车在北京市发生碰撞。"}},
                        sectors=["transportation"],
                        jurisdictions=["CN"],
                    ),
                ),
                (
                    CN,
                    1,
                    CLASSIFICATION,
                    {
                        "incident": {"origin": US, "id": "us-1"},
                        "namespace": "OECD",
                        "taxonomy_version": "2024.05",
                        "attributes": {"geographic_scale": "national", "affected_stakeholders": ["patients"]},
                    },
                ),
            )
        )
    )
    return incident_index


def keys(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.incident_id for h in page.hits]


def test_english_search_with_stemming_and_chinese_by_bigrams(filled) -> None:  # type: ignore[no-untyped-def]
    assert keys(filled.search(SearchQuery(q="blackout"))) == ["us-2"]  # stemmed: blackouts
    assert keys(filled.search(SearchQuery(q="北京"))) == ["cn-1"]  # inside 北京市
    assert keys(filled.search(SearchQuery(q="自动驾驶"))) == ["cn-1"]
    assert keys(filled.search(SearchQuery(q="self-driving crash"))) == ["cn-1"]  # the translation is searched too
    hit = filled.search(SearchQuery(q="北京")).hits[0].as_dict()
    assert hit["title"] == "自动驾驶汽车事故"  # the original, as before
    assert hit["title_text"]["translations"] == {"en": "Self-driving car crash"}  # for a reader's language (#20)
    assert filled.search(SearchQuery(q="medical grid")).total == 0  # all words must match
    assert sorted(keys(filled.search(SearchQuery(q="medical grid", match="any")))) == ["us-1", "us-2"]


def test_filters(filled) -> None:  # type: ignore[no-untyped-def]
    assert keys(filled.search(SearchQuery(harm_type="critical-infrastructure"))) == ["us-2"]
    assert keys(filled.search(SearchQuery(sector="energy"))) == ["us-2"]
    assert keys(filled.search(SearchQuery(min_severity="high"))) == ["us-2"]
    assert keys(filled.search(SearchQuery(party=CN))) == ["cn-1"]
    assert keys(filled.search(SearchQuery(critical_infrastructure=True))) == ["us-2"]
    assert keys(filled.search(SearchQuery(jurisdiction="CN"))) == ["cn-1"]
    assert keys(filled.search(SearchQuery(occurred_to=datetime(2025, 12, 31, tzinfo=UTC)))) == ["us-2"]
    assert keys(filled.search(SearchQuery(taxonomy="OECD:affected_stakeholders=patients"))) == ["us-1"]
    assert filled.search(SearchQuery(taxonomy="OECD:geographic_scale=global")).total == 0
    with pytest.raises(MalformedRecord, match="unknown severity"):
        filled.search(SearchQuery(severity="apocalyptic"))
    with pytest.raises(MalformedRecord, match="NAMESPACE:FIELD=VALUE"):
        filled.search(SearchQuery(taxonomy="OECD"))


def test_latest_stage_wins_history_kept_and_replays_change_nothing(filled) -> None:  # type: ignore[no-untyped-def]
    update = items(
        (
            US,
            5,
            INCIDENT,
            report("us-1", "Chatbot medical advice: update", "Recall issued.", stage="update", severity="high"),
        )
    )
    filled.apply(batch_for(update))
    filled.apply(batch_for(update))  # a replay after a crash
    hit = filled.get(US, "us-1")
    assert hit.stage == "update" and hit.severity == "high" and hit.latest_index == 5
    assert [s["index"] for s in filled.stages(US, "us-1")] == [0, 5]
    old = items((US, 0, INCIDENT, report("us-1", "Chatbot gave dangerous medical advice", "Patients were harmed.")))
    filled.apply(batch_for(old))  # an older stage arriving late does not win
    assert filled.get(US, "us-1").latest_index == 5
    assert keys(filled.search(SearchQuery(q="recall"))) == ["us-1"]
    assert filled.search(SearchQuery(q="harmed")).total == 0  # the old text left the search index
    assert len(filled.classifications(US, "us-1")) == 1


def test_links_with_confirmations_and_counts(filled) -> None:  # type: ignore[no-untyped-def]
    link = {"source": {"origin": CN, "id": "cn-1"}, "target": {"origin": US, "id": "us-2"}, "relation": "related-to"}
    filled.apply(batch_for(items((CN, 7, LINK, link))))
    ref = RecordRef(origin=CN, index=7, leaf_hash=f"{7:064x}", rel="confirms")
    filled.apply(batch_for(items((US, 9, LINK_CONFIRMATION, {"verdict": "dispute", "_refs": [ref]}))))
    links = filled.links(US, "us-2")
    assert [(x["asserted_by"], x["relation"]) for x in links] == [(CN, "related-to")]
    assert [(c["by"], c["verdict"]) for c in links[0]["confirmations"]] == [(US, "dispute")]
    assert filled.links(CN, "cn-1") == links
    assert filled.counts("harm_type") == {"critical-infrastructure": 1, "health": 2}
    assert filled.counts("party") == {CN: 1, US: 2}
    assert filled.counts("year") == {"2025": 1, "2026": 2}
    with pytest.raises(MalformedRecord, match="cannot count"):
        filled.counts("colour")


def test_words_matching_very_many_incidents_are_listed_newest_first(filled) -> None:  # type: ignore[no-untyped-def]
    filled.COMMON = 1  # as if each word matched thousands of incidents
    page = filled.search(SearchQuery(q="failure"))
    assert page.total == 1 and keys(page) == ["us-2"]
    every = filled.search(SearchQuery(q="model"))  # every report's ai_relation says "model output"
    assert every.total == 3 and set(keys(every)[:2]) == {"cn-1", "us-1"} and keys(every)[2] == "us-2"  # by date


def test_common_words_with_filters(filled) -> None:  # type: ignore[no-untyped-def]
    filled.COMMON = 1
    health = filled.search(SearchQuery(q="model", harm_type="health"))
    assert health.total == 2 and set(keys(health)) == {"us-1", "cn-1"}
    page = filled.search(SearchQuery(q="model", sector="energy"))
    assert page.total == 1 and keys(page) == ["us-2"]
    assert filled.search(SearchQuery(q="model", party=CN)).total == 1


def test_capped_count_for_common_words_with_a_filter(filled) -> None:  # type: ignore[no-untyped-def]
    filled.COMMON, filled.COUNT_CAP = 1, 1
    page = filled.search(SearchQuery(q="model", occurred_from=datetime(2020, 1, 1, tzinfo=UTC)))
    assert page.total == 1 and page.exact is False and len(page.hits) == 3
    assert filled.search(SearchQuery(q="model", sector="energy")).exact is True


def test_word_counts_stop_at_the_cap(filled) -> None:  # type: ignore[no-untyped-def]
    assert filled.word_counts(["model", "forecasting", "absentword"], cap=10) == {
        "model": 3,  # every report's ai_relation says "model output"
        "forecasting": 1,
        "absentword": 0,
    }
    assert filled.word_counts(["model"], cap=2) == {"model": 2}


def test_vectors_are_kept_per_model_for_the_current_version_only(filled) -> None:  # type: ignore[no-untyped-def]
    m = "model-a@1"
    assert {(o, i) for o, i, _ in filled.missing_vectors(m)} == {(US, "us-1"), (US, "us-2"), (CN, "cn-1")}
    filled.store_vectors(m, [(US, "us-1", 0, b"\x01\x02"), (CN, "cn-1", 0, b"")])
    assert filled.load_vectors(m) == {(US, "us-1"): b"\x01\x02", (CN, "cn-1"): b""}
    assert filled.missing_vectors(m) == [(US, "us-2", 1)]
    assert filled.load_vectors("model-b@1") == {}  # another model has its own
    filled.store_vectors(m, [(US, "us-1", 0, b"\x03")])  # replaced, not added
    assert filled.load_vectors(m)[(US, "us-1")] == b"\x03"
    filled.apply(batch_for(items((US, 5, INCIDENT, report("us-1", "Chatbot advice, update", "More patients.")))))
    assert (US, "us-1") not in filled.load_vectors(m)  # the vector was of the older stage's text
    assert (US, "us-1", 5) in filled.missing_vectors(m)


def test_an_index_in_an_older_format_is_emptied_for_a_replay(filled) -> None:  # type: ignore[no-untyped-def]
    assert filled.rebuilt is False and filled.get(US, "us-1") is not None
    filled._exec("UPDATE @inc_meta SET value = '1' WHERE key = 'format'")
    filled._check_format()
    assert filled.rebuilt is True
    assert filled.get(US, "us-1") is None and filled.search(SearchQuery(q="chatbot")).total == 0
    filled.rebuilt = False
    filled._check_format()  # now current: nothing happens
    assert filled.rebuilt is False


def test_facet_filters_join_the_words_in_the_full_text_index(filled) -> None:  # type: ignore[no-untyped-def]
    assert keys(filled.search(SearchQuery(q="forecasting", harm_type="critical-infrastructure"))) == ["us-2"]
    assert filled.search(SearchQuery(q="forecasting", harm_type="health")).total == 0
    assert keys(filled.search(SearchQuery(q="forecasting", sector="ENERGY"))) == ["us-2"]
    assert keys(filled.search(SearchQuery(q="碰撞", jurisdiction="CN"))) == ["cn-1"]


def test_nul_characters_in_records_and_queries_do_not_break_the_index(incident_index) -> None:  # type: ignore[no-untyped-def]
    # JSON allows \u0000 and a peer may sign it; PostgreSQL text cannot hold NUL. Indexing such a
    # record and searching with such a query must work on both drivers (found by fuzzing).
    hostile = report("us-nul", "Chatbot\x00 leaked data", "A NUL\x00 in the description.")
    incident_index.apply(batch_for(items((US, 7, INCIDENT, hostile))))
    assert [h.incident_id for h in incident_index.search(SearchQuery(q="chatbot leaked")).hits] == ["us-nul"]
    incident_index.search(SearchQuery(q="leaked\x00"))
    assert incident_index.get(US, "us-nul\x00") is None


def test_size_grows_when_an_incident_is_added_or_changes(incident_index) -> None:  # type: ignore[no-untyped-def]
    before = incident_index.size()
    incident_index.apply(batch_for(items((US, 20, INCIDENT, report("us-s", "Grid model", "Load shed.")))))
    added = incident_index.size()
    assert added > before
    incident_index.apply(batch_for(items((US, 21, INCIDENT, report("us-s", "Grid model, update", "More.")))))
    assert incident_index.size() > added
