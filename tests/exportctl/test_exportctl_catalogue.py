"""The accelerator catalogue: lookups and a source for every figure."""

from __future__ import annotations

import pytest

from detente.errors import MalformedRecord
from detente.exportctl import catalogue, lookup


@pytest.mark.parametrize("name", ["NVIDIA H100 SXM5", "h100 sxm5", "H100-SXM5", "  nvidia   h100 sxm5 "])
def test_lookup_ignores_case_spaces_and_punctuation(name: str) -> None:
    assert lookup(name).name == "NVIDIA H100 SXM5"


def test_lookup_by_alias_and_without_the_vendor() -> None:
    assert lookup("4090D").name == "NVIDIA GeForce RTX 4090 D"
    assert lookup("H20").name == "NVIDIA H20"
    assert lookup("Gaudi 3").name == "Intel Gaudi 3"


def test_an_ambiguous_or_unknown_name_lists_close_names() -> None:
    with pytest.raises(MalformedRecord, match="no accelerator named 'H100'") as info:
        lookup("H100")
    assert info.value.hint and "NVIDIA H100 SXM5" in info.value.hint and "NVIDIA H100 PCIe" in info.value.hint
    with pytest.raises(MalformedRecord) as info:
        lookup("Gaudy 2")
    assert info.value.hint and "Intel Gaudi 2" in info.value.hint
    with pytest.raises(MalformedRecord) as info:
        lookup("")
    assert info.value.hint and "detente exportctl catalogue" in info.value.hint


def test_every_figure_has_a_source() -> None:
    for entry in catalogue():
        sources = entry.sources()
        assert sources, entry.name
        assert all(s.strip() for s in sources.values())
        assert len(sources) == len(entry.dense) + sum(
            getattr(entry, f) is not None
            for f in ("die_area_mm2", "dram_bandwidth_gbps", "io_bandwidth_gbps", "datacenter")
        )


def test_entries_are_dense_rates_with_their_bit_lengths() -> None:
    a100 = lookup("A100").item()
    assert {(r.tops, r.bits) for r in a100.dense} == {(624.0, 8), (312.0, 16)}
    assert a100.datacenter is True and a100.io_bandwidth_gbps == 600
