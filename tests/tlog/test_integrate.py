"""The tile integrator (``detente.tlog.integrate``) on its own: the right edge it needs, the exact
tiles and entry bundles a batch writes (their paths, widths and bytes), the root, and each way a
batch or an edge is refused. test_differential.py checks the roots and proofs at every size."""

from __future__ import annotations

import hashlib
from functools import cache

import pytest

from detente.errors import EntryTooLarge, MalformedTile
from detente.tlog.integrate import Integration, edge_tiles, integrate
from detente.tlog.tiles import TileID, decode_entry_bundle, stored_root

ENTRIES = [b"entry %d" % i for i in range(1100)]


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


@cache
def _mth(lo: int, hi: int) -> bytes:
    """RFC 9162 section 2.1.1 over ``ENTRIES[lo:hi]``."""
    if hi - lo == 1:
        return _leaf(ENTRIES[lo])
    k = 1
    while k * 2 < hi - lo:
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(lo, lo + k) + _mth(lo + k, hi)).digest()


@pytest.mark.parametrize(
    ("size", "edge"),
    [
        (0, []),
        (1, [TileID(0, 0, 1), TileID(-1, 0, 1)]),
        (255, [TileID(0, 0, 255), TileID(-1, 0, 255)]),
        (256, [TileID(1, 0, 1)]),
        (257, [TileID(0, 1, 1), TileID(1, 0, 1), TileID(-1, 1, 1)]),
        (512, [TileID(1, 0, 2)]),
        (65536, [TileID(2, 0, 1)]),
        (70000, [TileID(0, 273, 112), TileID(1, 1, 17), TileID(2, 0, 1), TileID(-1, 273, 112)]),
        (2**24 + 2**16, [TileID(2, 1, 1), TileID(3, 0, 1)]),
    ],
)
def test_the_right_edge_is_each_levels_partial_tile_then_the_partial_bundle(size: int, edge: list[TileID]) -> None:
    assert edge_tiles(size) == edge


def _grow(sizes: list[int]) -> list[Integration]:
    """Integrate ``ENTRIES`` in batches up to each size, each from the edge the last one wrote."""
    written: dict[tuple[int, int], tuple[TileID, bytes]] = {}
    out, size = [], 0
    for new in sizes:
        edge = {t: written[(t.level, t.index)][1] for t in edge_tiles(size)}
        assert all(written[(t.level, t.index)][0] == t for t in edge)
        result = integrate(size, edge, ENTRIES[size:new])
        written.update({(t.level, t.index): (t, blob) for t, blob in {**result.tiles, **result.bundles}.items()})
        out.append(result)
        size = new
    return out


def test_a_batch_writes_exactly_the_tiles_and_bundles_it_changes() -> None:
    first, second, third = _grow([600, 700, 1100])
    assert sorted(t.path() for t in first.tiles) == [
        "tile/0/000", "tile/0/001", "tile/0/002.p/88", "tile/1/000.p/2",
    ]  # fmt: skip
    assert sorted(t.path() for t in first.bundles) == ["tile/entries/000", "tile/entries/001", "tile/entries/002.p/88"]
    assert list(second.tiles) == [TileID(0, 2, 188)] and list(second.bundles) == [TileID(-1, 2, 188)]
    assert sorted(t.path() for t in third.tiles) == [
        "tile/0/002", "tile/0/003", "tile/0/004.p/76", "tile/1/000.p/4",
    ]  # fmt: skip
    assert sorted(t.path() for t in third.bundles) == [
        "tile/entries/002", "tile/entries/003", "tile/entries/004.p/76",
    ]  # fmt: skip
    for result in (first, second, third):
        assert all(type(t.index) is int for t in [*result.tiles, *result.bundles])
        assert result.root == _mth(0, result.size)
        assert result.leaf_hashes == [_leaf(e) for e in ENTRIES[result.old_size : result.size]]
        for t, blob in result.bundles.items():
            assert decode_entry_bundle(blob, count=t.width) == ENTRIES[t.index * 256 : t.index * 256 + t.width]
    assert (third.old_size, third.size) == (700, 1100)
    assert stored_root(third.tiles[TileID(0, 3, 256)]) == _mth(768, 1024)
    assert stored_root(third.tiles[TileID(0, 2, 256)]) == _mth(512, 768)


def test_one_entry_at_a_time_across_a_tile_boundary() -> None:
    results = _grow(list(range(250, 263)))
    assert [r.root for r in results] == [_mth(0, n) for n in range(250, 263)]
    assert list(results[6].tiles) == [TileID(0, 0, 256), TileID(1, 0, 1)]  # size 255 to 256
    assert list(results[7].tiles) == [TileID(0, 1, 1)] and list(results[7].bundles) == [TileID(-1, 1, 1)]


def test_an_empty_batch_changes_nothing() -> None:
    (grown,) = _grow([300])
    edge = {t: {**grown.tiles, **grown.bundles}[t] for t in edge_tiles(300)}
    result = integrate(300, edge, [])
    assert (result.size, result.tiles, result.leaf_hashes) == (300, {}, [])
    assert all(edge[t] == blob for t, blob in result.bundles.items())  # the partial bundle as it was
    assert result.root == _mth(0, 300)


def test_entries_up_to_65535_bytes_are_taken_and_larger_ones_refused() -> None:
    big = b"x" * 65535
    result = integrate(0, {}, [b"ok", big])
    assert decode_entry_bundle(result.bundles[TileID(-1, 0, 2)], count=2) == [b"ok", big]
    with pytest.raises(EntryTooLarge) as info:
        integrate(0, {}, [b"ok", big + b"x"])
    assert info.value.message == "a log entry is over 65535 bytes"


def test_a_missing_or_corrupt_edge_is_refused() -> None:
    (grown,) = _grow([300])
    edge = {t: {**grown.tiles, **grown.bundles}[t] for t in edge_tiles(300)}
    for missing in edge_tiles(300):
        with pytest.raises(MalformedTile) as info:
            integrate(300, {t: b for t, b in edge.items() if t != missing}, [b"x"])
        assert info.value.message == f"right-edge tile {missing.path()} is missing"
    bundle = TileID(-1, 1, 44)
    for corrupt in (edge[bundle][:-1], edge[bundle][:-10], b"\xff" + edge[bundle][1:]):
        with pytest.raises(MalformedTile):
            integrate(300, {**edge, bundle: corrupt}, [b"x"])


def test_an_edge_hash_tile_shorter_than_its_width_is_refused() -> None:
    (grown,) = _grow([300])
    edge = {t: {**grown.tiles, **grown.bundles}[t] for t in edge_tiles(300)}
    tile = TileID(0, 1, 44)
    for short in (edge[tile][: 44 * 32 - 1], edge[tile][:32], b""):
        with pytest.raises(MalformedTile) as info:
            integrate(300, {**edge, tile: short}, [b"x"])
        assert info.value.message == "right-edge tile tile/0/001.p/44 is too short"


def test_an_integration_is_frozen() -> None:
    from dataclasses import FrozenInstanceError

    (result,) = _grow([3])
    with pytest.raises(FrozenInstanceError):
        result.root = bytes(32)  # type: ignore[misc]
