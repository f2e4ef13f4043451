"""Every threshold's edges (just below, at, just above) and the date-dependent answers."""

from __future__ import annotations

from datetime import date

import pytest
from exportctl_helpers import NOW, ic, outcome, us_result

from detente.errors import MalformedRecord
from detente.exportctl import Item, Outcome, Status, builtin_pack, classify

POLICY = "742.6(b)(10)(iii)(A)(1)"


# --- 3A090.a.1 and Note 2 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tpp", "datacenter", "entries", "a1"),
    [
        (4799, True, ("3A090.a",), "near"),  # a.2 matches (PD 8): datacenter, so Note 2 does not apply
        (4800, True, ("3A090.a",), "matched"),
        (4801, True, ("3A090.a",), "matched"),
        (4799, False, (), "near"),  # Note 2: not datacenter and TPP < 4800
        (4800, False, ("3A090.a",), "matched"),  # Note 2 no longer applies at 4800
        (4801, False, ("3A090.a",), "matched"),
    ],
)
def test_tpp_4800_with_and_without_datacenter(tpp: float, datacenter: bool, entries: tuple[str, ...], a1: str) -> None:
    result = us_result(ic(tpp, tpp / 8, datacenter=datacenter))  # performance density 8
    assert result.entries["us-ear"] == entries
    assert outcome(result, "3A090.a.1") == a1
    if tpp < 4800 and not datacenter:
        assert outcome(result, "3A090.a.2") == "excluded"
        assert result.result("3A090.a.2").excluded_by == "3A090-note-2"


def test_tpp_4799_with_a_low_density_is_not_controlled_and_the_near_miss_states_the_margin() -> None:
    result = us_result(ic(4799, 4799))  # PD 1
    assert result.entries["us-ear"] == ()
    test = result.result("3A090.a.1").tests[0]
    assert test.near and test.margin == pytest.approx(-1 / 4800)


def test_datacenter_unknown_below_4800_is_undetermined_and_names_the_figure() -> None:
    result = us_result(ic(3000, 300, datacenter=None))  # a.2 parameters met (PD 10)
    assert outcome(result, "3A090.a.2") == "undetermined"
    assert any("--datacenter" in n for n in result.needs)
    assert result.entries["us-ear"] == ()


# --- 3A090.a.2: TPP 1600 and PD 5.92 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("tpp", "area", "a2"),
    [
        (1600, 1600 / 5.92, "matched"),  # both at the threshold
        (1599, 1599 / 6, "near"),  # TPP just below, density above
        (1601, 1601 / 6, "matched"),
        (2960, 500 * (1 + 1e-9), "near"),  # density just below 5.92
        (2960, 500, "matched"),  # density exactly 5.92
        (2960, 500 * (1 - 1e-9), "matched"),
    ],
)
def test_tpp_1600_and_density_5_92(tpp: float, area: float, a2: str) -> None:
    assert outcome(us_result(ic(tpp, area)), "3A090.a.2") == a2


# --- 3A090.b.1: TPP 2400..4800 and PD 1.6..5.92 ----------------------------------------------


@pytest.mark.parametrize(
    ("tpp", "area", "b1"),
    [
        (2399, 1200, "near"),  # TPP just below 2400 (PD ≈ 2)
        (2400, 1200, "matched"),
        (2401, 1200, "matched"),
        (2400, 1500, "matched"),  # TPP 2400 and PD exactly 1.6
        (3200, 2000 * (1 + 1e-9), "near"),  # PD just below 1.6
        (3200, 2000, "matched"),
        (3200, 2000 * (1 - 1e-9), "matched"),
        (4799, 2000, "matched"),  # just below the upper TPP bound
        (4800, 2000, "near"),  # at the bound: TPP < 4800 fails by 0 % (and a.1 matches)
    ],
)
def test_tpp_2400_and_density_1_6(tpp: float, area: float, b1: str) -> None:
    assert outcome(us_result(ic(tpp, area)), "3A090.b.1") == b1


# --- 3A090.b.2: TPP 1600 and PD 3.2..5.92 ----------------------------------------------------


@pytest.mark.parametrize(
    ("tpp", "area", "b2", "entries"),
    [
        (1600, 500, "matched", ("3A090.b",)),  # TPP 1600 and PD exactly 3.2
        (1599, 400, "near", ()),  # TPP just below (PD ≈ 4)
        (1601, 400, "matched", ("3A090.b",)),
        (1600, 500 * (1 + 1e-9), "near", ()),  # PD just below 3.2
        (1600, 500 * (1 - 1e-9), "matched", ("3A090.b",)),
        (2960, 500, "near", ("3A090.a",)),  # PD exactly 5.92: the upper bound fails, a.2 matches
    ],
)
def test_tpp_1600_and_density_3_2(tpp: float, area: float, b2: str, entries: tuple[str, ...]) -> None:
    result = us_result(ic(tpp, area))
    assert outcome(result, "3A090.b.2") == b2
    assert result.entries["us-ear"] == entries


def test_b_items_get_nac_and_aca_when_datacenter_marketed() -> None:
    result = us_result(ic(1600, 500))
    exceptions = {r.clause.id: r.outcome for r in result.regime("us-ear").exceptions}
    assert exceptions == {"NAC-3A090.b": Outcome.MATCHED, "ACA-3A090.b": Outcome.MATCHED}


# --- 3A090.c and License Exception HBM -------------------------------------------------------


def hbm(bandwidth: float, area: float = 1000) -> Item:
    return Item("HBM stack", hbm_bandwidth_gbps=bandwidth, hbm_area_mm2=area)


@pytest.mark.parametrize(
    ("bandwidth", "c", "exception"),
    [
        (1999.9, "near", None),
        (2000, "near", None),  # 2.0 GB/s/mm² is not *greater than* 2
        (2000.1, "matched", Outcome.MATCHED),
        (3299.9, "matched", Outcome.MATCHED),  # HBM exception: below 3.3
        (3300, "matched", Outcome.NEAR),  # at 3.3: not below, but within 10 %
        (3300.1, "matched", Outcome.NEAR),
        (4000, "matched", Outcome.NOT_MATCHED),
    ],
)
def test_hbm_density_2_and_3_3(bandwidth: float, c: str, exception: Outcome | None) -> None:
    result = us_result(hbm(bandwidth))
    assert result.item.kind == "memory"
    assert outcome(result, "3A090.c") == c
    found = {r.clause.id: r.outcome for r in result.regime("us-ear").exceptions}
    assert found.get("HBM") == exception


def test_3a090c_does_not_exist_before_2_december_2024() -> None:
    before = us_result(hbm(4000), date(2024, 12, 1))
    on = us_result(hbm(4000), date(2024, 12, 2))
    assert before.regime("us-ear").controls == ()
    assert on.entries["us-ear"] == ("3A090.c",)
    assert on.result("3A090.c").clause.compliance == date(2024, 12, 31)


# --- 4E091 -----------------------------------------------------------------------------------


def weights(ops: float, published: bool | None = False) -> Item:
    return Item("a model", training_ops=ops, weights_published=published)


@pytest.mark.parametrize(
    ("ops", "published", "result_"),
    [
        (0.999e26, False, "near"),
        (1e26, False, "matched"),
        (1.001e26, False, "matched"),
        (1e26, True, "not-matched"),  # published weights are out of 4E091
        (1e25, False, "not-matched"),
    ],
)
def test_training_ops_10_26(ops: float, published: bool | None, result_: str) -> None:
    assert outcome(us_result(weights(ops, published), date(2025, 4, 1)), "4E091") == result_


def test_when_every_clause_lacks_a_figure_classify_raises_naming_it() -> None:
    with pytest.raises(MalformedRecord, match="every clause that applies needs a figure") as info:
        us_result(weights(1e26, None), date(2025, 4, 1))
    assert info.value.hint is not None and "--published-weights" in info.value.hint


def test_4e091_enforced_on_1_april_2025_and_not_enforced_on_1_june_2025() -> None:
    april = us_result(weights(2e26), date(2025, 4, 1))
    june = us_result(weights(2e26), date(2025, 6, 1))
    assert april.result("4E091").status == Status.IN_FORCE
    assert april.regime("us-ear").enforced_entries == ("4E091",)
    assert june.result("4E091").status == Status.NOT_ENFORCED
    assert june.result("4E091").status_since == date(2025, 5, 13)
    assert june.entries["us-ear"] == ("4E091",)  # still on the books
    assert june.regime("us-ear").enforced_entries == ()
    assert "not enforced since 2025-05-13" in june.as_text()


def test_4e091_does_not_exist_before_13_january_2025() -> None:
    assert us_result(weights(2e26), date(2025, 1, 12)).regime("us-ear").controls == ()


# --- 4A090: computers containing the ICs -----------------------------------------------------


def test_a_computer_with_a1_chips_is_4a090a_and_with_b_chips_4a090b() -> None:
    a = us_result(Item("server", kind="computer", dense=((1979, 8),), die_area_mm2=814, datacenter=True))
    assert a.entries["us-ear"] == ("4A090.a",)
    b = us_result(Item("server", kind="computer", dense=((200, 8),), die_area_mm2=500, datacenter=True))
    assert b.entries["us-ear"] == ("4A090.b",)
    consumer = us_result(Item("pc", kind="computer", dense=((500, 8),), die_area_mm2=600, datacenter=False))
    assert consumer.entries["us-ear"] == ()


# --- the January 2026 case-by-case band ------------------------------------------------------


@pytest.mark.parametrize(
    ("tpp", "dram", "policy"),
    [
        (20999, 6000, Outcome.MATCHED),
        (21000, 6000, Outcome.NEAR),  # TPP must be below 21,000
        (21001, 6000, Outcome.NEAR),
        (15000, 6499, Outcome.MATCHED),
        (15000, 6500, Outcome.NEAR),  # DRAM bandwidth must be below 6,500 GB/s
        (15000, 6501, Outcome.NEAR),
        (36000, 8000, Outcome.NOT_MATCHED),
        (15000, None, Outcome.UNDETERMINED),
    ],
)
def test_the_21000_and_6500_band(tpp: float, dram: float | None, policy: Outcome) -> None:
    result = us_result(ic(tpp, 800, dram_bandwidth_gbps=dram))
    assert result.entries["us-ear"] == ("3A090.a",)
    (band,) = result.regime("us-ear").policies
    assert band.clause.id == POLICY and band.outcome == policy


def test_the_band_is_not_listed_before_15_january_2026() -> None:
    item = ic(15000, 800, dram_bandwidth_gbps=4800)
    assert us_result(item, date(2026, 1, 14)).regime("us-ear").policies == ()
    assert len(us_result(item, date(2026, 1, 15)).regime("us-ear").policies) == 1


def test_the_near_tolerance_is_a_parameter() -> None:
    item = ic(4500, 4500)  # 6.25 % below 4800
    assert outcome(classify(item, [builtin_pack("us-ear")], NOW, near=0.10), "3A090.a.1") == "near"
    assert outcome(classify(item, [builtin_pack("us-ear")], NOW, near=0.05), "3A090.a.1") == "not-matched"
