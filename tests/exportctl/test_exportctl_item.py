"""Item figures: impossible values are refused with the reason, VALUE@BITS parses or fails with a
typed error, TPP is the highest dense rate × bit length and grows with the rates."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from detente.errors import MalformedRecord
from detente.exportctl import DenseRate, Item, builtin_pack, classify, parse_dense_rate


def test_tpp_is_the_highest_dense_rate_times_its_bit_length() -> None:
    item = Item("chip", dense=((1979, 8), (989.5, 16), (67, 64)), die_area_mm2=814)
    assert item.tpp == 15832
    assert item.best_rate == DenseRate(1979, 8)
    assert item.performance_density == pytest.approx(15832 / 814)


def test_bis_example_600_tops_at_8_bits_equals_300_tflops_at_16() -> None:
    assert Item("a", dense=((600, 8),)).tpp == Item("b", dense=((300, 16),)).tpp == 4800


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dense": ((100, 8),), "die_area_mm2": -5}, "applicable die area -5 is impossible: it cannot be negative"),
        (
            {"dense": ((100, 8),), "die_area_mm2": 0},
            "applicable die area 0 is impossible: it must be greater than zero",
        ),
        ({"dense": ((100, 0),)}, "bit length 0 is impossible"),
        ({"dense": ((100, -8),)}, "bit length -8 is impossible"),
        ({"dense": ((100, 8.5),)}, "not a whole number"),
        ({"dense": ((-1, 8),)}, "dense TOPS -1 is impossible: it cannot be negative"),
        ({"dense": ((math.nan, 8),)}, "finite"),
        ({"dense": ((math.inf, 8),)}, "finite"),
        ({"dense": (("many", 8),)}, "dense TOPS 'many' is not a number"),
        ({"dense": ("many",)}, "not VALUE@BITS"),
        ({"dense": ((True, 8),)}, "not a number"),
        ({"hbm_bandwidth_gbps": 1000, "hbm_area_mm2": 0}, "HBM area 0 is impossible"),
        ({"hbm_bandwidth_gbps": -1, "hbm_area_mm2": 100}, "HBM bandwidth -1 is impossible"),
        ({"training_ops": -1e26}, "training operations"),
        ({"dense": ((100, 8),), "datacenter": "yes"}, "datacenter must be true, false or unknown"),
        ({"dense": ((100, 8),), "kind": "toaster"}, "unknown item kind 'toaster'"),
        ({}, "has no figures to classify"),
    ],
)
def test_impossible_values_are_refused_with_the_reason(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(MalformedRecord, match=message):
        Item("chip", **kwargs)  # type: ignore[arg-type]


def test_an_item_needs_a_name() -> None:
    with pytest.raises(MalformedRecord, match="needs a name"):
        Item(" ", dense=((1, 8),))


def test_missing_figures_have_hints() -> None:
    with pytest.raises(MalformedRecord) as info:
        Item("nothing")
    assert info.value.hint and "--dense-tops" in info.value.hint


def test_from_dict_accepts_pairs_and_text_and_refuses_unknown_fields() -> None:
    item = Item.from_dict({"name": "x", "dense": [[1979, 8], "989.5@16"], "die_area_mm2": 814})
    assert item.tpp == 15832
    with pytest.raises(MalformedRecord, match="unknown item field 'watts'"):
        Item.from_dict({"name": "x", "watts": 700})


@pytest.mark.parametrize(
    ("text", "tops", "bits"),
    [
        ("1979@8", 1979, 8),
        (" 989.5 @ 16 ", 989.5, 16),
        ("1.5e3@FP8", 1500, 8),
        ("624@INT8", 624, 8),
        ("383@bf16", 383, 16),
    ],
)
def test_parse_dense_rate(text: str, tops: float, bits: int) -> None:
    assert parse_dense_rate(text) == DenseRate(tops, bits)


@pytest.mark.parametrize("text", ["", "1979", "@8", "1979@", "1979@8@8", "abc@8", "1979@x", "1979 8", "1,979@8"])
def test_parse_dense_rate_rejects_garbage(text: str) -> None:
    with pytest.raises(MalformedRecord, match="VALUE@BITS"):
        parse_dense_rate(text)


@given(st.text(max_size=30))
def test_parse_dense_rate_never_raises_anything_but_the_typed_error(text: str) -> None:
    try:
        rate = parse_dense_rate(text)
    except MalformedRecord:
        return
    assert rate.bits > 0 and rate.tops >= 0 and math.isfinite(rate.tops)


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.sampled_from([4, 8, 16, 32, 64]))
def test_parse_dense_rate_round_trips(tops: float, bits: int) -> None:
    assert parse_dense_rate(f"{tops!r}@{bits}") == DenseRate(tops, bits)


rates = st.lists(
    st.tuples(st.floats(min_value=0, max_value=1e5, allow_nan=False), st.sampled_from([4, 8, 16, 32, 64])),
    min_size=1,
    max_size=5,
)


@given(rates, st.tuples(st.floats(min_value=0, max_value=1e5, allow_nan=False), st.sampled_from([4, 8, 16, 32, 64])))
def test_tpp_never_decreases_when_a_rate_is_added(base: list[tuple[float, int]], extra: tuple[float, int]) -> None:
    before = Item("x", dense=tuple(base)).tpp
    after = Item("x", dense=(*base, extra)).tpp
    assert before is not None and after is not None and after >= before
    assert after == max(t * b for t, b in (*base, extra))


@given(rates, st.floats(min_value=1, max_value=10))
def test_tpp_is_monotonic_in_the_rates_and_a1_follows_it(base: list[tuple[float, int]], factor: float) -> None:
    small = Item("x", dense=tuple(base), datacenter=True)
    big = Item("x", dense=tuple((t * factor, b) for t, b in base), datacenter=True)
    assert big.tpp is not None and small.tpp is not None and big.tpp >= small.tpp
    us = builtin_pack("us-ear")
    if small.tpp >= 4800:
        assert classify(big, [us], date(2026, 1, 1)).result("3A090.a.1").outcome.value == "matched"
