"""Every chip of the research table (shared/specs/media-export.md §B5) classifies as the table says."""

from __future__ import annotations

import json
from datetime import date

import pytest
from exportctl_helpers import NOW, outcome, us_result

from detente.exportctl import Outcome, catalogue, lookup

POLICY = "742.6(b)(10)(iii)(A)(1)"

# name, expected US entries, clauses that must have matched, 2026 case-by-case zone (None: n/a)
TABLE = [
    ("NVIDIA A100 SXM 80GB", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA A800 80GB", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA H100 SXM5", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA H100 PCIe", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA H800 SXM", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA H200 SXM", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA H20", (), (), None),
    ("NVIDIA L40S", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA L4", ("3A090.a",), ("3A090.a.2",), "inside"),
    ("NVIDIA L20", (), (), None),
    ("NVIDIA GeForce RTX 4090", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA GeForce RTX 4090 D", (), (), None),
    ("NVIDIA GeForce RTX 4080", (), (), None),
    ("AMD Instinct MI250X", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("AMD Instinct MI300X", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("AMD Instinct MI325X", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("Intel Gaudi 2", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("Intel Gaudi 3", ("3A090.a",), ("3A090.a.1",), "outside"),
    ("Huawei Ascend 910B (FP16 280)", ("3A090.a",), ("3A090.a.2",), "inside"),
    ("Huawei Ascend 910B (FP16 376)", ("3A090.a",), ("3A090.a.1",), "inside"),
    ("NVIDIA B200", ("3A090.a",), ("3A090.a.1",), "outside"),
]

# TPP and performance density as the table prints them (rounded)
FIGURES = {
    "NVIDIA A100 SXM 80GB": (4992, 6.04),
    "NVIDIA H100 SXM5": (15832, 19.45),
    "NVIDIA H100 PCIe": (12104, 14.87),
    "NVIDIA H20": (2368, 2.91),
    "NVIDIA L40S": (5864, 9.64),
    "NVIDIA L4": (1936, 6.57),
    "NVIDIA L20": (1912, 3.14),
    "NVIDIA GeForce RTX 4090": (5286, 8.69),
    "NVIDIA GeForce RTX 4090 D": (4707, 7.74),
    "NVIDIA GeForce RTX 4080": (3117, 8.23),
    "AMD Instinct MI250X": (6128, 4.23),
    "AMD Instinct MI300X": (20919, None),
    "Intel Gaudi 3": (29360, None),
    "Huawei Ascend 910B (FP16 280)": (4480, 6.73),
    "Huawei Ascend 910B (FP16 376)": (6016, 9.04),
    "NVIDIA B200": (36000, 22.3),
}


def test_the_catalogue_holds_every_chip_of_the_table() -> None:
    names = {e.name for e in catalogue()}
    assert {row[0] for row in TABLE} <= names


@pytest.mark.parametrize(("name", "tpp", "pd"), [(n, *f) for n, f in FIGURES.items()])
def test_catalogue_figures_give_the_tables_tpp_and_density(name: str, tpp: float, pd: float | None) -> None:
    item = lookup(name).item()
    assert item.tpp == pytest.approx(tpp, abs=1.0)
    if pd is None:
        assert item.performance_density is None
    else:
        assert item.performance_density == pytest.approx(pd, abs=0.01)


@pytest.mark.parametrize(("name", "entries", "matched", "zone"), TABLE)
def test_chip_classifies_as_the_table_says(
    name: str, entries: tuple[str, ...], matched: tuple[str, ...], zone: str | None
) -> None:
    result = us_result(lookup(name).item(), NOW)
    assert result.entries["us-ear"] == entries
    for clause in matched:
        assert outcome(result, clause) == "matched"
    policies = result.regime("us-ear").policies
    if zone is None:
        assert policies == ()
    else:
        assert [p.outcome for p in policies] == [Outcome.MATCHED if zone == "inside" else Outcome.NOT_MATCHED]


def test_l4_is_a2_not_a1() -> None:
    result = us_result(lookup("L4").item())
    assert outcome(result, "3A090.a.1") == "not-matched"
    assert outcome(result, "3A090.a.2") == "matched"


def test_h20_nearly_matches_both_b_paragraphs_with_the_margins() -> None:
    result = us_result(lookup("H20").item())
    b1, b2 = result.result("3A090.b.1"), result.result("3A090.b.2")
    assert b1.outcome == b2.outcome == Outcome.NEAR
    tpp_test = next(t for t in b1.tests if t.threshold == 2400.0)
    assert tpp_test.actual == 2368.0 and tpp_test.margin == pytest.approx(-32 / 2400)
    pd_test = next(t for t in b2.tests if t.threshold == 3.2)
    assert pd_test.margin == pytest.approx((2368 / 814 - 3.2) / 3.2)
    assert "1.3% below" in result.as_text() and "9.1% below" in result.as_text()


def test_consumer_cards_under_4800_are_excluded_by_note_2_and_the_4090_is_nac_eligible() -> None:
    for name in ("RTX 4090D", "RTX 4080"):
        result = us_result(lookup(name).item())
        assert outcome(result, "3A090.a.2") == "excluded"
        assert result.result("3A090.a.2").excluded_by == "3A090-note-2"
    rtx4090 = us_result(lookup("RTX 4090").item())
    exceptions = {r.clause.id: r.outcome for r in rtx4090.regime("us-ear").exceptions}
    assert exceptions["NAC-3A090.a"] == exceptions["ACA-3A090.a"] == Outcome.MATCHED


def test_a_datacenter_a1_chip_gets_no_nac() -> None:
    exceptions = {r.clause.id: r.outcome for r in us_result(lookup("H100 SXM5").item()).regime("us-ear").exceptions}
    assert exceptions["NAC-3A090.a"] == Outcome.NOT_MATCHED


def test_mi250x_meets_b2_parameters_but_a_takes_precedence() -> None:
    result = us_result(lookup("MI250X").item())
    b2 = result.result("3A090.b.2")
    assert b2.outcome == Outcome.MATCHED and b2.yielded_to == "3A090.a"
    assert result.entries["us-ear"] == ("3A090.a",)


def test_mi300x_without_a_die_area_is_a1_and_says_the_area_is_missing_for_a2() -> None:
    result = us_result(lookup("MI300X").item())
    assert outcome(result, "3A090.a.2") == "undetermined"
    assert any("--die-area" in n for n in result.needs)


def test_a800_and_h800_escaped_the_2022_rule_and_were_caught_in_november_2023() -> None:
    for name in ("A800", "H800"):
        before = us_result(lookup(name).item(), date(2023, 11, 16))
        after = us_result(lookup(name).item(), date(2023, 11, 17))
        assert before.entries["us-ear"] == ()
        failing = [t for t in before.result("3A090.a").tests if t.truth.value == "no"]
        assert [t.parameter.value for t in failing if t.parameter] == ["io_bandwidth"]
        assert after.entries["us-ear"] == ("3A090.a",)
        assert after.result("3A090.a.1").clause.version == "2023-10"


def test_a100_was_caught_by_the_2022_rule() -> None:
    result = us_result(lookup("A100").item(), date(2023, 1, 1))
    assert result.entries["us-ear"] == ("3A090.a",)
    assert result.result("3A090.a").clause.version == "2022-10"


def test_before_october_2022_no_us_clause_exists_for_chips() -> None:
    result = us_result(lookup("H100 SXM5").item(), date(2022, 1, 1))
    assert result.entries["us-ear"] == ()
    assert result.regime("us-ear").verdict() == "no clause of this pack applies to this kind of item"


@pytest.mark.parametrize("name", [row[0] for row in TABLE])
def test_every_answer_renders_as_json_and_as_text(name: str) -> None:
    result = us_result(lookup(name).item())
    data = json.loads(json.dumps(result.as_dict()))
    assert data["entries"]["us-ear"] == list(result.entries["us-ear"])
    text = result.as_text()
    assert text.startswith(f"Classification of {name} (integrated-circuit) as of {NOW}")
    assert result.regime("us-ear").pack.digest[:23] in text
