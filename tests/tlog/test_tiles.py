"""detente.tlog.tiles against C2SP tlog-tiles: index and path encoding, the partial-tile example,
what a tile holds, and entry bundles."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.errors import EntryTooLarge, MalformedTile
from detente.tlog.integrate import integrate
from detente.tlog.tiles import (
    MAX_ENTRY_SIZE,
    TILE_WIDTH,
    TileID,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_index,
    parse_tile_path,
    partial_width,
    stored_width,
    tile_bytes,
    tiles_for_size,
)

# --- paths -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "encoded"),
    [
        (0, "000"),
        (1, "001"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (123456078, "x123/x456/078"),
        (1_000_000, "x001/x000/000"),
    ],
)
def test_index_encoding(index: int, encoded: str) -> None:
    assert encode_index(index) == encoded


def test_negative_index_is_refused() -> None:
    with pytest.raises(MalformedTile):
        encode_index(-1)


@pytest.mark.parametrize(
    ("path", "tile"),
    [
        ("tile/0/x001/x234/067", TileID(0, 1234067)),
        ("tile/0/x001/x234/067.p/8", TileID(0, 1234067, 8)),
        ("tile/entries/000.p/5", TileID(-1, 0, 5)),
        ("tile/entries/x001/000", TileID(-1, 1000)),
        ("tile/1/000.p/255", TileID(1, 0, 255)),
        ("tile/63/000.p/1", TileID(63, 0, 1)),
        ("tile/2/x123/x456/078", TileID(2, 123456078)),
    ],
)
def test_tile_paths_parse_and_re_encode(path: str, tile: TileID) -> None:
    assert parse_tile_path(path) == tile
    assert tile.path() == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/x000/001",  # leading zero group
        "tile/0/x000/000",
        "tile/0/0001",
        "tile/0/01",
        "tile/0/1",
        "tile/00/000",  # leading zero in the level
        "tile/01/000",
        "tile/64/000",  # level above 63
        "tile/100/000",
        "tile/-1/000",
        "tile/0/001.p/0",
        "tile/0/001.p/256",  # a full tile has no .p/
        "tile/0/001.p/999",
        "tile/0/001.p/08",
        "tile/0/001.p/",
        "tile/0/001.p/8/",
        "tile/0/001/",
        "tile/0/../1",
        "tile/0/%2e%2e/001",
        "tile/%2e%2e/000",
        "tile/0/x001/../000",
        "tile/0/X001/000",
        "tile/0/x001",
        "tile/0/001/x002",
        "tile/0/001\n",
        "tile/0/001 ",
        "/tile/0/001",
        "tile//0/001",
        "tile/0/\u0661\u0662\u0663",  # Arabic-Indic digits
        "tile/data/000",
        "tile/entries/000.p/256",
        "tile/8/0/001",  # Go sumdb layout with the height in the path
        "",
    ],
)
def test_non_canonical_or_hostile_paths_raise_malformed_tile(path: str) -> None:
    with pytest.raises(MalformedTile):
        parse_tile_path(path)


@settings(max_examples=300, deadline=None)
@given(level=st.integers(-1, 63), index=st.integers(0, 10**15), width=st.integers(1, TILE_WIDTH))
def test_tile_ids_round_trip_through_paths(level: int, index: int, width: int) -> None:
    tile = TileID(level, index, width)
    assert parse_tile_path(tile.path()) == tile


@settings(max_examples=500, deadline=None)
@given(
    st.text(max_size=40)
    | st.lists(
        st.sampled_from(["tile/", "0", "1", "/", "x", "00", ".p/", "entries", "63", "64", "256", "."]), max_size=12
    ).map("".join)
)
def test_any_text_is_a_canonical_path_or_malformed_tile(text: str) -> None:
    try:
        tile = parse_tile_path(text)
    except MalformedTile:
        return
    assert tile.path() == text
    assert -1 <= tile.level <= 63 and 1 <= tile.width <= TILE_WIDTH


# --- which tiles a tree has ------------------------------------------------------------------------


def test_tiles_for_size_70000_is_the_spec_example() -> None:
    tiles = tiles_for_size(70_000)
    by_level: dict[int, list[TileID]] = {}
    for t in tiles:
        by_level.setdefault(t.level, []).append(t)
    assert sorted(by_level) == [0, 1, 2]
    assert [t for t in by_level[0] if t.is_full] == [TileID(0, n) for n in range(273)]
    assert [t for t in by_level[0] if not t.is_full] == [TileID(0, 273, 112)]
    assert by_level[1] == [TileID(1, 0), TileID(1, 1, 17)]
    assert by_level[2] == [TileID(2, 0, 1)]
    assert [partial_width(level, 70_000) for level in range(4)] == [112, 17, 1, 0]


def test_tiles_for_size_256_is_one_full_tile_and_a_level_1_partial() -> None:
    assert tiles_for_size(256) == [TileID(0, 0), TileID(1, 0, 1)]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, []),
        (1, [TileID(0, 0, 1)]),
        (255, [TileID(0, 0, 255)]),
        (257, [TileID(0, 0), TileID(0, 1, 1), TileID(1, 0, 1)]),
        (65536, [*(TileID(0, n) for n in range(256)), TileID(1, 0), TileID(2, 0, 1)]),
    ],
)
def test_tiles_for_small_and_boundary_sizes(size: int, expected: list[TileID]) -> None:
    assert tiles_for_size(size) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**40))
def test_partial_widths_follow_the_spec_formula(size: int) -> None:
    # "The partial tile at level l for a tree of size s has floor(s / 256**l) mod 256 entries."
    tiles = tiles_for_size(size) if size < 2**20 else None
    for level in range(6):
        assert partial_width(level, size) == (size // 256**level) % 256
    if tiles is not None:
        partials = {t.level: t.width for t in tiles if not t.is_full}
        assert partials == {lv: w for lv in range(6) if (w := (size // 256**lv) % 256)}


# --- what a tile holds -----------------------------------------------------------------------------


def _mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def test_tile_contents_follow_the_spec() -> None:
    # Level 0 holds leaf hashes; each level-1 hash is the MTH of a full level-0 tile.
    entries = [b"e%d" % i for i in range(3 * 256 + 5)]
    leaves = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    result = integrate(0, {}, entries)
    tiles = {(t.level, t.index): (blob, t.width) for t, blob in result.tiles.items()}
    for n in range(4):
        blob, width = tiles[(0, n)]
        assert stored_width(blob) == width
        wire = tile_bytes(blob, width, width)
        assert wire == b"".join(leaves[n * 256 : n * 256 + width])
    assert len(tile_bytes(*tiles[(0, 0)], 256)) == 8192  # a full tile is 8,192 bytes
    blob, width = tiles[(1, 0)]
    assert width == 3
    assert tile_bytes(blob, 3, 3) == b"".join(_mth(leaves[n * 256 : (n + 1) * 256]) for n in range(3))
    assert tile_bytes(blob, 2, 3) == tile_bytes(blob, 3, 3)[:64]  # an older, narrower view
    with pytest.raises(MalformedTile):
        tile_bytes(blob, 4, 3)
    bundles = {(t.index, t.width): blob for t, blob in result.bundles.items()}
    assert decode_entry_bundle(bundles[(3, 5)]) == entries[768:]


# --- entry bundles -------------------------------------------------------------------------------


def test_entry_bundle_layout() -> None:
    assert encode_entry_bundle([b"", b"ab", b"x" * 256]) == b"\x00\x00" + b"\x00\x02ab" + b"\x01\x00" + b"x" * 256


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=TILE_WIDTH))
def test_entry_bundles_round_trip(entries: list[bytes]) -> None:
    data = encode_entry_bundle(entries)
    assert decode_entry_bundle(data) == entries
    assert decode_entry_bundle(data, count=len(entries)) == entries
    for k in range(len(entries) + 1):
        assert decode_entry_bundle(data, count=k) == entries[:k]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=20))
def test_truncated_bundles_raise_malformed_tile(entries: list[bytes]) -> None:
    data = encode_entry_bundle(entries)
    boundaries = {0}
    pos = 0
    for e in entries:
        pos += 2 + len(e)
        boundaries.add(pos)
    for cut in range(len(data)):
        if cut not in boundaries:
            with pytest.raises(MalformedTile):
                decode_entry_bundle(data[:cut])
        with pytest.raises(MalformedTile):
            decode_entry_bundle(data[:cut], count=len(entries))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.none() | st.integers(0, 300))
def test_arbitrary_bundle_bytes_decode_or_raise_malformed_tile(data: bytes, count: int | None) -> None:
    try:
        out = decode_entry_bundle(data, count=count)
    except MalformedTile:
        return
    assert len(out) <= TILE_WIDTH
    assert encode_entry_bundle(out) == data[: sum(2 + len(e) for e in out)]


def test_a_bundle_of_more_than_256_entries_is_refused() -> None:
    with pytest.raises(MalformedTile):
        decode_entry_bundle(encode_entry_bundle([b""] * 257))


def test_entries_over_65535_bytes_raise_entry_too_large() -> None:
    assert MAX_ENTRY_SIZE == 65535
    assert decode_entry_bundle(encode_entry_bundle([b"x" * 65535])) == [b"x" * 65535]
    with pytest.raises(EntryTooLarge):
        encode_entry_bundle([b"ok", b"x" * 65536])
    with pytest.raises(EntryTooLarge):
        integrate(0, {}, [b"ok", b"x" * 65536])
