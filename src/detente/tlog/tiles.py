"""C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): tile coordinates, paths, entry bundles,
and the stored form of a hash tile.

A hash tile at level ``L`` holds up to 256 hashes of tree level ``8·L``; tile ``N`` at level
``L`` covers hashes ``N·256 … N·256+255`` of that level. Full tiles are 8,192 bytes and never
change; a partial tile of width ``W`` (1–255) exists for every tree size whose right edge ends
inside it. Entry bundles hold the entries of a level-0 tile as ``u16be length ‖ bytes`` each.

detente *stores* a hash tile together with the seven levels of inner nodes above its hashes (and
its root when it is full), so any complete subtree hash is one slice of one stored tile: proofs
never rehash a tile. :func:`tile_bytes` cuts the C2SP wire form back out.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from detente.errors import EntryTooLarge, MalformedTile
from detente.tlog.hashing import HASH_SIZE

__all__ = [
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileID",
    "build_stored_tile",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_index",
    "node_location",
    "nodes_from_tiles",
    "parse_tile_path",
    "partial_width",
    "stored_node",
    "tile_bytes",
    "tiles_for_size",
]

TILE_HEIGHT = 8
TILE_WIDTH = 256
MAX_ENTRY_SIZE = 0xFFFF
_MAX_LEVEL = 63


@dataclass(frozen=True, order=True)
class TileID:
    """A tile at ``level`` (``-1`` for an entry bundle), ``index``, ``width`` 1–256."""

    level: int
    index: int
    width: int = TILE_WIDTH

    @property
    def is_entries(self) -> bool:
        return self.level == -1

    @property
    def is_full(self) -> bool:
        return self.width == TILE_WIDTH

    def path(self) -> str:
        head = "tile/entries/" if self.is_entries else f"tile/{self.level}/"
        tail = "" if self.is_full else f".p/{self.width}"
        return head + encode_index(self.index) + tail


def encode_index(n: int) -> str:
    """``1234067`` → ``x001/x234/067``: 3-digit groups, all but the last prefixed with ``x``."""
    if n < 0:
        raise MalformedTile("tile index must not be negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


_PATH = re.compile(
    r"\Atile/(?:(?P<level>0|[1-9][0-9]?)|(?P<entries>entries))/"
    r"(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?\Z"
)


def parse_tile_path(path: str) -> TileID:
    """Parse a tile or entry-bundle path; reject anything that is not exactly canonical."""
    m = _PATH.match(path)
    if not m:
        raise MalformedTile(
            f"not a tile path: {path[:120]!r}",
            hint="tile paths look like tile/0/x001/234 or tile/entries/005.p/17",
        )
    level = -1 if m.group("entries") else int(m.group("level"))
    if level > _MAX_LEVEL:
        raise MalformedTile(f"tile level {level} is above {_MAX_LEVEL}")
    index = int(m.group("index").replace("x", "").replace("/", ""))
    width = int(m.group("width") or TILE_WIDTH)
    if width > 255 and m.group("width"):
        raise MalformedTile("partial tile width must be 1–255")
    tile = TileID(level, index, width)
    if tile.path() != path:  # leading-zero groups and other non-canonical spellings
        raise MalformedTile(f"tile path is not canonical: {path[:120]!r}")
    return tile


def partial_width(level: int, size: int) -> int:
    """Width of the partial tile at ``level`` for a tree of ``size`` (0 when there is none)."""
    return (size >> (TILE_HEIGHT * level)) % TILE_WIDTH


def tiles_for_size(size: int) -> list[TileID]:
    """Every hash tile (full and the partial right edge) a tree of ``size`` needs, bottom up."""
    out: list[TileID] = []
    level = 0
    while True:
        count = size >> (TILE_HEIGHT * level)
        if count == 0:
            break
        out.extend(TileID(level, n) for n in range(count // TILE_WIDTH))
        if count % TILE_WIDTH:
            out.append(TileID(level, count // TILE_WIDTH, count % TILE_WIDTH))
        if count < TILE_WIDTH:
            break
        level += 1
    return out


# --- stored tiles: the hashes plus their inner nodes -----------------------------------------


def _level_sizes(width: int) -> list[int]:
    return [width >> k for k in range(TILE_HEIGHT + 1)]


def _level_offset(width: int, sublevel: int) -> int:
    return sum(width >> k for k in range(sublevel))


def build_stored_tile(hashes: Sequence[bytes], previous: bytes = b"", previous_width: int = 0) -> bytes:
    """Concatenate the tile's hashes and every complete inner node above them, level by level.

    ``previous`` may be the stored form of this tile at ``previous_width`` (a prefix of
    ``hashes``): its inner nodes are reused, so growing a partial tile hashes only what is new.
    """
    width = len(hashes)
    if not 1 <= width <= TILE_WIDTH or previous_width > width:
        raise MalformedTile(f"a tile holds 1–256 hashes, not {width}")
    sha256 = hashlib.sha256
    parts = [b"".join(hashes)]
    row = list(hashes)
    offset = previous_width * HASH_SIZE
    for k in range(1, TILE_HEIGHT + 1):
        count = width >> k
        if count == 0:
            break
        keep = previous_width >> k
        old = [previous[offset + i * HASH_SIZE : offset + (i + 1) * HASH_SIZE] for i in range(keep)]
        offset += keep * HASH_SIZE
        row = old + [sha256(b"\x01" + row[2 * i] + row[2 * i + 1]).digest() for i in range(keep, count)]
        parts.append(b"".join(row))
    return b"".join(parts)


def stored_width(blob: bytes) -> int:
    """The tile width of a stored tile, recovered from its length."""
    count = len(blob) // HASH_SIZE
    for width in range(TILE_WIDTH, 0, -1):
        if sum(_level_sizes(width)) == count:
            return width
    raise MalformedTile(f"stored tile of {len(blob)} bytes has no valid width")


def tile_bytes(blob: bytes, width: int, stored: int) -> bytes:
    """The C2SP wire form (``width`` hashes) of a stored tile whose own width is ``stored``."""
    if width > stored:
        raise MalformedTile(f"tile has {stored} hashes, {width} requested")
    return blob[: width * HASH_SIZE]


def node_location(level: int, index: int) -> tuple[int, int, int, int]:
    """Where complete subtree ``(level, index)`` lives: ``(tile level, tile index, sublevel, j)``."""
    tl, k = divmod(level, TILE_HEIGHT)
    p = index << k
    return tl, p >> TILE_HEIGHT, k, (p % TILE_WIDTH) >> k


def stored_node(blob: bytes, width: int, sublevel: int, j: int) -> bytes:
    """Hash ``j`` of ``sublevel`` inside a stored tile of ``width``."""
    if j >= width >> sublevel:
        raise MalformedTile(f"node {j} at sublevel {sublevel} is not complete in a tile of width {width}")
    off = (_level_offset(width, sublevel) + j) * HASH_SIZE
    return blob[off : off + HASH_SIZE]


def nodes_from_tiles(
    nodes: Sequence[tuple[int, int]],
    get_tile: Callable[[tuple[int, int]], tuple[bytes, int]],
) -> list[bytes]:
    """Hashes of complete subtrees ``(level, index)``, read from stored tiles.

    ``get_tile((tile level, tile index))`` returns ``(stored blob, width)``; it may return a wider
    version of a tile than the tree size needs, since tiles only ever grow to the right.
    """
    out: list[bytes] = []
    for level, index in nodes:
        tl, tn, k, j = node_location(level, index)
        blob, width = get_tile((tl, tn))
        out.append(stored_node(blob, width, k, j))
    return out


def stored_root(blob: bytes) -> bytes:
    """The root of a full stored tile (the last hash)."""
    return blob[-HASH_SIZE:]


# --- entry bundles ----------------------------------------------------------------------------


_U16 = struct.Struct(">H").pack


def encode_entry_bundle(entries: Iterable[bytes]) -> bytes:
    parts: list[bytes] = []
    append = parts.append
    for e in entries:
        if len(e) > MAX_ENTRY_SIZE:
            raise EntryTooLarge(f"log entry of {len(e)} bytes is over {MAX_ENTRY_SIZE}")
        append(_U16(len(e)))
        append(e)
    return b"".join(parts)


def decode_entry_bundle(data: bytes, *, count: int | None = None) -> list[bytes]:
    """Split an entry bundle; with ``count``, read only that many entries (a partial prefix)."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data) and (count is None or len(out) < count):
        if pos + 2 > len(data):
            raise MalformedTile("entry bundle ends inside a length prefix")
        (n,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + n > len(data):
            raise MalformedTile("entry bundle ends inside an entry")
        out.append(data[pos : pos + n])
        pos += n
    if count is not None and len(out) != count:
        raise MalformedTile(f"entry bundle holds {len(out)} entries, expected {count}")
    if len(out) > TILE_WIDTH:
        raise MalformedTile("entry bundle holds more than 256 entries")
    return out
