"""Principles have a scope, moratoria a controlled vocabulary, control modes each party's own
glossary entries; attributions are exact. Each rule quotes its source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from detente.commitments.ledger import Ledger, render
from detente.commitments.model import (
    CONTROL_MODE_TERMS,
    DOCUMENT,
    GLOSSARY,
    SIGNATURE,
    CommitmentDocument,
    document_digest,
)
from detente.commitments.vocabulary import is_relabelling, normalise
from detente.records.notices import HumanControlMode
from detente.records.record import Record

US, CN = "us.example/log", "cn.example/log"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
AT = T0 + timedelta(days=1)
NUCLEAR = "nuclear-weapons-employment-decision"
HALTED = "autonomous-targeting-live-test"


def text(en: str, zh: str = "") -> dict[str, object]:
    return {"original": {"lang": "en", "text": en}, "translations": {"zh-Hans": zh} if zh else {}}


def document(**over: object) -> CommitmentDocument:
    base: dict[str, object] = {
        "document_id": "lima-2024",
        "version": 1,
        "kind": "principles",
        "title": text("Human control over the decision to use nuclear weapons", "对使用核武器的决定保持人类控制"),
        "parties": [US, CN],
        "clauses": [
            {
                "id": "1",
                "text": text("Maintain human control over the decision to use nuclear weapons."),
                "min_human_control": "in-the-loop",
                "scope": [NUCLEAR],
            }
        ],
    }
    return CommitmentDocument.model_validate(base | over)


_n = iter(range(1, 10_000))


def rec(origin: str, rtype: str, body: dict[str, object], at: datetime = T0) -> tuple[str, int, str, Record]:
    n = next(_n)
    return (origin, n, f"{n:064x}", Record(type=rtype, party=origin, issued=at, body=body))


def adopted(*docs: CommitmentDocument, extra: tuple[tuple[str, int, str, Record], ...] = ()) -> Ledger:
    items = []
    for d in docs:
        items.append(rec(US, DOCUMENT, d.model_dump(mode="json", exclude_none=True)))
        for party in (US, CN):
            digest = document_digest(d)
            items.append(rec(party, SIGNATURE, {"document_id": d.document_id, "version": d.version, "digest": digest}))
    return Ledger.from_records([*items, *extra])


def test_a_human_control_principle_checks_only_the_notices_in_its_scope() -> None:
    """Lima, 16 November 2024 (US–China leaders' statement, cbm-protocols.md §2.4): "The two leaders
    affirmed the need to maintain human control over the decision to use nuclear weapons." The
    principle covers that decision; a model evaluation declaring no human in the loop is not in
    its scope and is not flagged."""
    ledger = adopted(document())
    weak = {"human_control_mode": "on-the-loop"}
    assert ledger.flags(US, {CN}, weak | {"category": NUCLEAR}, AT) == ["human-control:lima-2024#1"]
    assert ledger.flags(US, {CN}, {"category": NUCLEAR, "human_control_mode": "in-the-loop"}, AT) == []
    assert (
        ledger.flags(US, {CN}, {"category": "frontier-model-evaluation", "human_control_mode": "out-of-the-loop"}, AT)
        == []
    )
    assert ledger.flags(US, {CN}, weak, AT) == []  # no category: in no scope
    assert "1. scope: nuclear-weapons-employment-decision" in render(document())


def test_a_principle_names_its_scope_in_the_controlled_vocabulary() -> None:
    clause = {"id": "1", "text": text("x"), "min_human_control": "in-the-loop"}
    with pytest.raises(ValidationError, match="names the notice categories it covers in 'scope'"):
        document(clauses=[clause])
    with pytest.raises(ValidationError, match=r"should match pattern"):
        document(clauses=[clause | {"scope": ["Nuclear Weapons!"]}])
    with pytest.raises(ValidationError, match="belong in principles"):
        document(kind="moratorium", clauses=[{"id": "1", "text": text("x"), "categories": [HALTED], "scope": [HALTED]}])


def moratorium() -> CommitmentDocument:
    return document(
        document_id="moratorium-autonomous-targeting",
        kind="moratorium",
        clauses=[{"id": "1", "text": text("No live tests of autonomous targeting."), "categories": [HALTED]}],
    )


def glossary() -> CommitmentDocument:
    return document(
        document_id="joint-glossary",
        kind="glossary",
        clauses=[
            {
                "id": HALTED,
                "term": {"en": "live test of autonomous targeting", "zh-Hans": "自主目标选择实弹测试"},
                "text": text("A test in which a system selects and engages targets without a human."),
            }
        ],
    )


def test_moratorium_categories_are_glossary_term_ids() -> None:
    with pytest.raises(ValidationError, match=r"should match pattern"):
        document(kind="moratorium", clauses=[{"id": "1", "text": text("x"), "categories": ["Autonomous targeting"]}])


@pytest.mark.parametrize(
    ("category", "finding"),
    [
        (HALTED, "moratorium:"),
        ("自主目标选择实弹测试", "moratorium:"),  # the term in Chinese, from the glossary both signed
        ("Live test of autonomous targeting", "moratorium:"),  # its English label
        ("autonomous-targetting-live-test", "moratorium-review:"),  # a misspelling
        ("live-fire-autonomous-targeting-test", "moratorium-review:"),  # every word, reordered, one added
        ("frontier-model-evaluation", None),
    ],
)
def test_a_relabelled_category_is_flagged_for_review(category: str, finding: str | None) -> None:
    ledger = adopted(moratorium(), glossary())
    expected = [f"{finding}moratorium-autonomous-targeting#1"] if finding else []
    assert ledger.flags(US, {CN}, {"category": category}, AT) == expected


def test_short_ids_one_letter_apart_are_not_a_relabelling() -> None:
    assert not is_relabelling("x-test", "y-test", [])
    assert normalise("Autonomous Targeting (live test)") == "autonomous-targeting-live-test"


def definition(term_id: str, en: str, definition: str) -> dict[str, object]:
    return {"term_id": term_id, "term": {"en": en}, "definition": text(definition)}


def test_control_modes_come_from_each_partys_own_glossary_entries() -> None:
    """The US–China Track-II glossaries (Brookings–Tsinghua, August 2024; cbm-protocols.md §4.5)
    were written by each side separately and are "not official or authoritative"; the 2023
    Political Declaration (which speaks of "appropriate levels of human judgment") and the 2024
    REAIM Blueprint were not endorsed by China (cbm-protocols.md §4.3, §4.4). So a mode's meaning is
    each party's own entry, and a party without one has none: nothing is borrowed from the other."""
    mine = definition("human-in-the-loop", "human in the loop", "A human approves each engagement.")
    ledger = adopted(extra=(rec(US, GLOSSARY, mine),))
    found = ledger.control_mode(US, HumanControlMode.IN_THE_LOOP)
    assert found is not None and found.definition.original.text == "A human approves each engagement."
    assert ledger.control_mode(CN, HumanControlMode.IN_THE_LOOP) is None
    assert ledger.control_mode(US, HumanControlMode.NOT_APPLICABLE) is None
    assert set(CONTROL_MODE_TERMS) == set(HumanControlMode) - {HumanControlMode.NOT_APPLICABLE}
    revised = definition("human-in-the-loop", "human in the loop", "A human approves each engagement in advance.")
    later, older = rec(US, GLOSSARY, revised, T0 + timedelta(hours=1)), rec(US, GLOSSARY, mine, T0)
    for items in ((older, later), (later, older)):  # the party's latest definition, in whatever order read
        found = adopted(extra=items).control_mode(US, HumanControlMode.IN_THE_LOOP)
        assert found is not None and found.definition.original.text.endswith("in advance.")
    doc = HumanControlMode.__doc__ or ""
    assert "appropriate levels of human judgment" in doc and "not endorsed by China" in doc
