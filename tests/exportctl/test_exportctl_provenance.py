"""Every fact's source is inside the data (no path outside the repository), facts from memory are
marked ``unverified`` with the reason, and every answer that relies on one says so (text, JSON).

Sources of the figures checked here (read 2026-12-04):
- China News Service, 21 Dec 2023, reporting MOFCOM: the 2023 technology catalogue has 134 entries,
  24 prohibited and 110 restricted.
- Unreliable Entity List Working Mechanism Announcement 2023 No. 1 (16 Feb 2023), full text.
"""

from __future__ import annotations

import json
import re
from datetime import date
from importlib import resources
from pathlib import Path

import pytest

from detente.exportctl import Item, RulePack, builtin_packs, classify, load_pack, lookup
from detente.exportctl.lists import lists, lists_for
from detente.exportctl.provenance import UNVERIFIED_WARNING

DATA = resources.files("detente.exportctl")
FILES = ["packs/us-ear.json", "packs/cn-ecl.json", "data/accelerators.json", "data/letters.json", "data/cn-lists.json"]
OUTSIDE = re.compile(r"shared/|specs/|media-export\.md|/work/|\.\./|file://")


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


@pytest.mark.parametrize("name", FILES)
def test_no_source_points_outside_the_repository(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    bad = [s for s in _strings(json.loads(text)) if OUTSIDE.search(s)]
    assert bad == []


@pytest.mark.parametrize("name", FILES[:3])
def test_no_fact_is_left_tagged_from_memory_without_an_unverified_mark(name: str) -> None:
    """The [MEM] tag is gone from packs and catalogue: each such fact was verified, removed, or
    moved into ``unverified`` with its reason."""
    text = (DATA / name).read_text(encoding="utf-8")
    assert "[MEM" not in text and '"MEM"' not in text


def test_a_catalogue_answer_relying_on_an_unverified_figure_says_so() -> None:
    result = classify(lookup("H20").item(), builtin_packs(), date(2025, 6, 1))
    facts = {u.fact: u for u in result.unverified}
    assert "die_area_mm2 = 814" in facts and "GH100" in facts["die_area_mm2 = 814"].reason
    data = result.as_dict()
    assert data["unverified_warning"] == UNVERIFIED_WARNING
    listed = [u for u in data["unverified"] if u["fact"] == "die_area_mm2 = 814"]  # type: ignore[union-attr, index]
    assert listed and listed[0]["where"] == "catalogue NVIDIA H20"  # type: ignore[index]
    text = result.as_text()
    assert text.splitlines()[1].startswith("WARNING: this answer relies on")
    assert "die_area_mm2 = 814 — no source read states the H20's die" in text
    assert UNVERIFIED_WARNING["zh"] in text


def test_figures_the_user_gives_replace_the_unverified_ones() -> None:
    base = lookup("H20").item()
    mine = base.with_figures(die_area_mm2=814.0, io_bandwidth_gbps=900.0)
    assert base.unverified and mine.unverified == ()
    facts = [u.fact for u in classify(mine, builtin_packs(), date(2025, 6, 1)).unverified]
    assert not any(f.startswith(("die_area_mm2", "io_bandwidth_gbps")) for f in facts)


def test_a_pack_fact_marked_unverified_is_reported_by_the_clauses_relying_on_it(us: RulePack) -> None:
    result = classify(lookup("H100 SXM5").item(), [us], date(2026, 6, 1))
    where = [u.where for u in result.unverified if "88 FR 73458" in u.fact]
    assert where and "us-ear 3A090.a.1 (version 2023-10)" in where[0]


def test_an_answer_relying_on_no_unverified_fact_carries_no_warning() -> None:
    pack = load_pack(Path("examples/exportctl/rule-pack.json").read_text(encoding="utf-8"))
    item = Item("my own IC", dense=((700.0, 8),), die_area_mm2=500.0, datacenter=True)
    result = classify(item, [pack], date(2026, 6, 1))
    assert result.unverified == ()
    assert result.as_dict()["unverified_warning"] is None
    assert "UNVERIFIED" not in result.as_text() and "WARNING" not in result.as_text()


def test_an_unverified_letter_is_listed_among_the_unverified_facts() -> None:
    result = classify(lookup("H20").item(), builtin_packs(), date(2025, 6, 1))
    assert any(u.where == "letter BIS-2025-04-NVIDIA-H20" for u in result.unverified)


def test_the_2023_technology_catalogue_has_134_entries_24_prohibited_110_restricted(cn: RulePack) -> None:
    catalogue = next(c for c in cn.clauses if c.id == "TECH-CATALOGUE")
    change = catalogue.status_on(date(2024, 1, 1))
    assert change is not None and "134 entries (24 prohibited, 110 restricted)" in change.note
    assert change.source is not None and "24 prohibited and 110 restricted" in change.source.notes
    assert "111" not in json.dumps(catalogue.model_dump(mode="json"))


def test_note_2_items_say_where_they_go_with_the_federal_register_citation() -> None:
    """The RTX 4090 D is excluded by Note 2: the answer says 3A991.p / 4A994.l (88 FR 73458) and
    that this reading is unverified."""
    result = classify(lookup("RTX 4090 D").item(), builtin_packs(), date(2026, 6, 1))
    assert result.regime("us-ear").entries == ()
    text = result.as_text()
    assert "3A991.p" in text and "4A994.l" in text and "88 FR 73458" in text
    assert any("3A991.p" in u.fact for u in result.unverified)


def test_cn_answers_name_chinas_lists_as_of_the_date() -> None:
    on = date(2025, 6, 1)
    result = classify(Item("speech", technology=("speech-synthesis",)), builtin_packs(), on)
    regime = result.as_dict()["regimes"]
    cn = next(r for r in regime if r["regime"] == "cn-ecl")  # type: ignore[index]
    ids = [x["id"] for x in cn["lists"]]  # type: ignore[index]
    assert ids == ["CN-DUAL-USE-LIST", "CN-CONTROL-LIST", "CN-UNRELIABLE-ENTITY-LIST"]
    uel = cn["lists"][2]  # type: ignore[index]
    numbers = [a["number"] for a in uel["announcements"]]
    assert numbers[0].startswith("Unreliable Entity List Working Mechanism Announcement 2023 No. 1")
    assert all(a["published"] <= "2025-06-01" for a in uel["announcements"])
    assert "Announcement 2024 No. 51" in result.as_text()
    # what the lists and the legal basis in force (the 2023 catalogue) rely on unverified is listed
    facts = {u.fact: u.where for u in result.unverified}
    assert any(w.startswith("cn-ecl list CN-DUAL-USE-LIST") for w in facts.values())
    number = "the 2023 revision's instrument is MOFCOM & MOST Announcement 2023 No. 57"
    assert "cn-ecl TECH-CATALOGUE (legal basis)" in facts[number]
    # before the dual-use list took effect it is not named; the UEL has only its 2023 announcement
    early = [x.id for x in lists_for("cn-ecl", date(2024, 6, 1))]
    assert early == ["CN-UNRELIABLE-ENTITY-LIST"]
    assert [a.published for a in lists()[2].as_of(date(2024, 6, 1))] == [date(2023, 2, 16)]


def test_every_list_announcement_has_a_number_a_date_and_a_source() -> None:
    for party_list in lists():
        for a in party_list.announcements:
            assert a.number and a.published and a.source and a.url
        assert party_list.unverified or all(a.quality == "M" for a in party_list.announcements)
