"""detente.tlog.tiles checked value by value against references written here, with every refusal's
exact message: the stored form of a hash tile at every width, growing it from a narrower one, where
each complete subtree lives, which tiles a tree has, paths, and entry bundles. No Hypothesis and no
log: the whole file runs in a fraction of a second, so ``scripts/mutation`` runs it first for every
mutant of tiles.py (test_tiles.py, with the property tests, after it)."""

from __future__ import annotations

import dataclasses
import hashlib
from functools import cache

import pytest

from detente.errors import EntryTooLarge, MalformedTile
from detente.tlog.tiles import (
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    TileID,
    build_stored_tile,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_index,
    node_location,
    nodes_from_tiles,
    parse_tile_path,
    partial_width,
    stored_node,
    stored_root,
    stored_width,
    tile_bytes,
    tiles_for_size,
)


def _h(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


LEAVES = [hashlib.sha256(b"\x00" + b"entry %d" % i).digest() for i in range(600)]


@cache
def _rows(n: int) -> list[list[bytes]]:
    """Every complete subtree hash over ``LEAVES[:n]``: ``rows[level][index]``."""
    rows = [LEAVES[:n]]
    while len(rows[-1]) > 1:
        below = rows[-1]
        rows.append([_h(below[2 * i], below[2 * i + 1]) for i in range(len(below) // 2)])
    return rows


def _reference_stored(hashes: list[bytes]) -> bytes:
    """The stored layout, built the slow way: sublevel 0 to 8, each row's complete nodes."""
    out, row = [], list(hashes)
    for _ in range(9):
        if not row:
            break
        out.append(b"".join(row))
        row = [_h(row[i], row[i + 1]) for i in range(0, len(row) - 1, 2)]
    return b"".join(out)


@cache
def _stored(width: int) -> bytes:
    return build_stored_tile(LEAVES[:width])


WIDTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 254, 255, 256]


def test_constants() -> None:
    assert (TILE_HEIGHT, TILE_WIDTH, MAX_ENTRY_SIZE) == (8, 256, 65535)


# --- the stored form of a hash tile --------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_a_stored_tile_is_its_hashes_then_each_complete_inner_level(width: int) -> None:
    blob = _stored(width)
    assert blob == _reference_stored(LEAVES[:width])
    assert stored_width(blob) == width
    assert tile_bytes(blob, width, width) == b"".join(LEAVES[:width])
    rows = _rows(width)
    for sublevel in range(TILE_HEIGHT + 1):
        complete = width >> sublevel
        for j in range(complete):
            assert stored_node(blob, width, sublevel, j) == rows[sublevel][j]
        for j in (complete, complete + 1, 2 * complete + 7):  # not complete (or not there): never another node's bytes
            with pytest.raises(MalformedTile) as info:
                stored_node(blob, width, sublevel, j)
            assert info.value.message == f"node {j} at sublevel {sublevel} is not complete in a tile of width {width}"


def test_every_width_builds_and_is_recovered_from_the_length() -> None:
    for width in range(1, TILE_WIDTH + 1):
        blob = _stored(width)
        assert stored_width(blob) == width
        assert len(blob) == 32 * sum(len(row) for row in _rows(width)[:9])
    assert len(_stored(256)) == 32 * 511
    assert stored_root(_stored(256)) == _rows(256)[8][0]  # a full tile's last hash is its root


@pytest.mark.parametrize("hashes", [0, 2, 5, 6, 510, 512, 1024])
def test_a_length_that_no_width_has_is_refused(hashes: int) -> None:
    # 1 hash is width 1, 3 are width 2, 4 width 3, 7 width 4, 511 width 256.
    with pytest.raises(MalformedTile) as info:
        stored_width(bytes(32 * hashes))
    assert info.value.message == f"stored tile of {32 * hashes} bytes has no valid width"


@pytest.mark.parametrize("width", [3, 5, 17, 100, 129, 256])
def test_growing_a_tile_from_any_narrower_stored_form_equals_building_it_whole(width: int) -> None:
    for previous in range(width + 1):
        old = _stored(previous) if previous else b""
        assert build_stored_tile(LEAVES[:width], old, previous) == _stored(width), previous


@pytest.mark.parametrize(("width", "previous"), [(2, 1), (9, 8), (100, 37), (256, 255), (256, 128), (200, 200)])
def test_growing_a_tile_takes_the_inner_nodes_it_had_as_they_are(width: int, previous: int) -> None:
    # Mark every inner node of the narrower form: the grown tile keeps the marks (nothing that was
    # complete is hashed again) and builds each new node from the nodes under it.
    old = bytearray(_stored(previous))
    marks: dict[tuple[int, int], bytes] = {}
    for sublevel in range(1, TILE_HEIGHT + 1):
        for j in range(previous >> sublevel):
            mark = hashlib.sha256(b"mark %d %d" % (sublevel, j)).digest()
            off = _offset(previous, sublevel, j)
            old[off : off + 32] = mark
            marks[(sublevel, j)] = mark
    grown = build_stored_tile(LEAVES[:width], bytes(old), previous)
    assert stored_width(grown) == width
    for j in range(width):
        assert stored_node(grown, width, 0, j) == LEAVES[j]
    for sublevel in range(1, TILE_HEIGHT + 1):
        for j in range(width >> sublevel):
            got = stored_node(grown, width, sublevel, j)
            if (sublevel, j) in marks:
                assert got == marks[(sublevel, j)]
            else:
                below = [stored_node(grown, width, sublevel - 1, 2 * j + i) for i in (0, 1)]
                assert got == _h(*below)


def _offset(width: int, sublevel: int, j: int) -> int:
    return 32 * (sum(len(row) for row in _reference_rows(width)[:sublevel]) + j)


def _reference_rows(width: int) -> list[list[bytes]]:
    return [row[: width >> s] for s, row in enumerate(_rows(width)[:9])]


@pytest.mark.parametrize(
    ("hashes", "previous", "message"),
    [
        (0, 0, "a tile holds 1–256 hashes, not 0"),
        (257, 0, "a tile holds 1–256 hashes, not 257"),
        (5, 6, "a tile holds 1–256 hashes, not 5"),  # a "previous" wider than the tile
    ],
)
def test_a_tile_of_no_hashes_too_many_or_shrinking_is_refused(hashes: int, previous: int, message: str) -> None:
    hashes_list = (LEAVES * 2)[:hashes]
    with pytest.raises(MalformedTile) as info:
        build_stored_tile(hashes_list, _stored(previous) if previous else b"", previous)
    assert info.value.message == message


def test_tile_bytes_cuts_any_narrower_view_and_refuses_a_wider_one() -> None:
    blob = _stored(200)
    for width in (1, 2, 199, 200):
        assert tile_bytes(blob, width, 200) == b"".join(LEAVES[:width])
    with pytest.raises(MalformedTile) as info:
        tile_bytes(blob, 201, 200)
    assert info.value.message == "tile has 200 hashes, 201 requested"


# --- where a complete subtree lives ---------------------------------------------------------------


def test_node_location_of_every_level_and_edge() -> None:
    for level in range(0, 40):
        for index in (0, 1, 2, 3, 127, 128, 255, 256, 257, 1000, 65535, 65536, 10**9 + 7):
            first = index * 2**level  # its first leaf
            tile_level = level // 8
            at = first // 256**tile_level  # its first hash at tree level 8·tile_level
            sublevel = level - 8 * tile_level
            expected = (tile_level, at // 256, sublevel, (at % 256) // 2**sublevel)
            assert node_location(level, index) == expected, (level, index)


def _tree_tiles(size: int) -> dict[tuple[int, int], tuple[bytes, int]]:
    """The stored hash tiles of the tree of ``size`` leaves of ``LEAVES``, keyed (level, index)."""
    rows = _rows(size)
    out = {}
    for tile in tiles_for_size(size):
        start = tile.index * 256
        out[(tile.level, tile.index)] = (
            build_stored_tile(rows[8 * tile.level][start : start + tile.width]),
            tile.width,
        )
    return out


def test_every_complete_subtree_is_read_from_the_tiles() -> None:
    size = 600  # level-0 tiles 0 and 1 full, tile 2 of 88; level-1 tile 0 of 2
    tiles = _tree_tiles(size)
    assert sorted(tiles) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    rows = _rows(size)
    nodes = [(level, index) for level, row in enumerate(rows) for index in range(len(row))]
    assert len(nodes) == 600 + 300 + 150 + 75 + 37 + 18 + 9 + 4 + 2 + 1
    got = nodes_from_tiles(nodes, tiles.__getitem__)
    assert got == [rows[level][index] for level, index in nodes]


def test_a_wider_version_of_a_tile_gives_the_same_nodes() -> None:
    narrow, wide = _tree_tiles(300), _tree_tiles(600)
    rows = _rows(300)
    nodes = [(level, index) for level, row in enumerate(rows) for index in range(len(row))]
    assert nodes_from_tiles(nodes, narrow.__getitem__) == nodes_from_tiles(nodes, wide.__getitem__)
    assert nodes_from_tiles(nodes, wide.__getitem__) == [rows[level][index] for level, index in nodes]


# --- which tiles a tree has ------------------------------------------------------------------------


def _reference_tiles(size: int) -> list[TileID]:
    out = []
    for level in range(9):
        count = size // 256**level
        out += [TileID(level, n) for n in range(count // 256)]
        if count % 256:
            out.append(TileID(level, count // 256, count % 256))
    return out


@pytest.mark.parametrize(
    "size",
    [0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 767, 65535, 65536, 65537, 65791, 65792, 70000, 131071, 131329],
)
def test_tiles_for_size_matches_the_spec(size: int) -> None:
    assert tiles_for_size(size) == _reference_tiles(size)


def test_partial_widths_at_every_level() -> None:
    sizes = [0, 1, 255, 256, 257, 65535, 65536, 65537, 70000, 2**24 - 1, 2**24 + 2**16 + 257]
    sizes += [2**40 + 3 * 2**32 + 5 * 2**24 + 7 * 2**16 + 11 * 2**8 + 13, 2**63 - 1, 2**64 - 1]
    for size in sizes:
        for level in range(10):
            assert partial_width(level, size) == (size // 256**level) % 256, (size, level)


# --- paths ----------------------------------------------------------------------------------------


def test_tile_ids_are_frozen_ordered_values() -> None:
    tile = TileID(0, 7)
    assert (tile.width, tile.is_full, tile.is_entries) == (256, True, False)
    assert (TileID(0, 7, 255).is_full, TileID(-1, 0).is_entries, TileID(1, 0).is_entries) == (False, True, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tile.width = 5  # type: ignore[misc]
    shuffled = [TileID(1, 0), TileID(0, 5), TileID(0, 5, 3), TileID(-1, 2), TileID(0, 4)]
    assert sorted(shuffled) == [TileID(-1, 2), TileID(0, 4), TileID(0, 5, 3), TileID(0, 5), TileID(1, 0)]
    assert TileID(0, 4) < TileID(0, 5) and len({TileID(0, 5), TileID(0, 5, 256)}) == 1


@pytest.mark.parametrize(
    ("tile", "path"),
    [
        (TileID(-1, 7), "tile/entries/007"),
        (TileID(-1, 7, 3), "tile/entries/007.p/3"),
        (TileID(0, 0, 1), "tile/0/000.p/1"),
        (TileID(5, 1000, 255), "tile/5/x001/000.p/255"),
        (TileID(63, 999_999), "tile/63/x999/999"),
    ],
)
def test_paths(tile: TileID, path: str) -> None:
    assert tile.path() == path
    assert parse_tile_path(path) == tile


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1001, "x001/001"),
        (999_999, "x999/999"),
        (1_000_000, "x001/x000/000"),
        (10**18 - 1, "x999/x999/x999/x999/x999/999"),
        (10**18, "x001/x000/x000/x000/x000/x000/000"),
    ],
)
def test_index_encoding_at_each_group_boundary(n: int, encoded: str) -> None:
    assert encode_index(n) == encoded


@pytest.mark.parametrize("n", [-1, -1000])
def test_a_negative_index_is_refused_with_its_message(n: int) -> None:
    with pytest.raises(MalformedTile) as info:
        encode_index(n)
    assert info.value.message == "tile index must not be negative"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("tile/64/000", "tile level 64 is above 63"),
        ("tile/99/000.p/5", "tile level 99 is above 63"),
        ("tile/0/001.p/256", "partial tile width must be 1–255"),
        ("tile/entries/001.p/999", "partial tile width must be 1–255"),
        ("tile/0/x000/001", "tile path is not canonical: 'tile/0/x000/001'"),
        # a leading zero group that sorts before the canonical spelling (tile/0/x001/234)
        ("tile/0/x000/x001/234", "tile path is not canonical: 'tile/0/x000/x001/234'"),
        ("tile/entries/x000/x999/000.p/7", "tile path is not canonical: 'tile/entries/x000/x999/000.p/7'"),
        ("tile/0/001.p/08", "not a tile path: 'tile/0/001.p/08'"),
        ("a" * 200, f"not a tile path: {'a' * 120!r}"),
        ("tile/0/" + "x000/" * 30 + "001", f"tile path is not canonical: {('tile/0/' + 'x000/' * 30)[:120]!r}"),
    ],
)
def test_each_refused_path_has_its_message(path: str, message: str) -> None:
    with pytest.raises(MalformedTile) as info:
        parse_tile_path(path)
    assert info.value.message == message


def test_the_highest_level_and_widest_partial_parse() -> None:
    assert parse_tile_path("tile/63/000") == TileID(63, 0)
    assert parse_tile_path("tile/0/000.p/255") == TileID(0, 0, 255)
    assert parse_tile_path("tile/entries/000.p/1") == TileID(-1, 0, 1)


# --- entry bundles --------------------------------------------------------------------------------


def test_entry_bundle_boundaries() -> None:
    assert encode_entry_bundle([b"x" * 65535])[:2] == b"\xff\xff"
    with pytest.raises(EntryTooLarge) as info:
        encode_entry_bundle([b"x" * 65536])
    assert info.value.message == "log entry of 65536 bytes is over 65535"
    assert decode_entry_bundle(b"") == []
    assert decode_entry_bundle(b"", count=0) == []
    assert decode_entry_bundle(b"\x00\x00") == [b""]  # an empty entry that ends the bundle
    assert decode_entry_bundle(b"\x00\x02ab\x00\x00") == [b"ab", b""]
    assert decode_entry_bundle(b"\x00\x01a\x00\x01b") == [b"a", b"b"]  # an entry ending the bundle
    assert decode_entry_bundle(b"\x00\x01a\x00\x01b", count=1) == [b"a"]  # a partial prefix
    assert decode_entry_bundle(b"\x00\x01a\x00\x01b", count=2) == [b"a", b"b"]
    long = [b"x" * 300, b"y" * 5]
    assert decode_entry_bundle(encode_entry_bundle(long)) == long  # a bundle over 256 bytes


def test_a_bundle_of_256_entries_is_accepted_and_257_refused() -> None:
    full = encode_entry_bundle([b"%d" % i for i in range(256)])
    assert decode_entry_bundle(full) == [b"%d" % i for i in range(256)]
    assert decode_entry_bundle(full, count=256) == [b"%d" % i for i in range(256)]
    over = full + encode_entry_bundle([b"more"])
    assert decode_entry_bundle(over, count=256) == [b"%d" % i for i in range(256)]
    for count in (None, 257):  # asked for 257, still more than a bundle may hold
        with pytest.raises(MalformedTile) as info:
            decode_entry_bundle(over, count=count)
        assert info.value.message == "entry bundle holds more than 256 entries"


@pytest.mark.parametrize(
    ("data", "count", "message"),
    [
        (b"\x00", None, "entry bundle ends inside a length prefix"),
        (b"\x00\x00\x00", None, "entry bundle ends inside a length prefix"),
        (b"\x00\x01a\x00", None, "entry bundle ends inside a length prefix"),
        (b"\x00\x01a\x00\x02b", None, "entry bundle ends inside an entry"),
        (b"\x00\x02a", None, "entry bundle ends inside an entry"),
        (b"\xff\xff" + b"x" * 10, None, "entry bundle ends inside an entry"),
        (b"\x00\x01a\x00\x01b", 3, "entry bundle holds 2 entries, expected 3"),
        (b"", 1, "entry bundle holds 0 entries, expected 1"),
        (b"\x00\x00\x00\x00\x00", 3, "entry bundle ends inside a length prefix"),
    ],
)
def test_each_malformed_bundle_has_its_message(data: bytes, count: int | None, message: str) -> None:
    with pytest.raises(MalformedTile) as info:
        decode_entry_bundle(data, count=count)
    assert info.value.message == message
