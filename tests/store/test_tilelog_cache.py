"""TileLog's read caches on every driver: upper-level and partial tiles are kept, a proof that
needs more of a partial tile than the cache holds reads the store again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from detente.crypto.keys import Ed25519Identity
from detente.node.tilelog import TileLog
from detente.store.protocol import LogStore, TilePos
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_consistency, verify_inclusion
from detente.tlog.tiles import TileID

IDENT = Ed25519Identity.from_seed("cache.example/log", b"\x06" * 32)


class CountingStore:
    """A real store that records which tiles were read from it."""

    def __init__(self, inner: LogStore) -> None:
        self.inner = inner
        self.reads: list[TilePos] = []

    def ensure_log(self, origin: str) -> None:
        self.inner.ensure_log(origin)

    def logs(self) -> list[str]:
        return self.inner.logs()

    def latest_checkpoint(self, origin: str) -> bytes | None:
        return self.inner.latest_checkpoint(origin)

    def read_tiles(self, origin: str, positions: Sequence[TilePos]) -> dict[TilePos, tuple[bytes, int]]:
        self.reads.extend(positions)
        return self.inner.read_tiles(origin, positions)

    def commit(self, origin: str, expected: bytes | None, checkpoint: bytes, tiles: Mapping[TileID, bytes]) -> None:
        self.inner.commit(origin, expected, checkpoint, tiles)

    def close(self) -> None:
        self.inner.close()


def _entries(start: int, n: int) -> list[bytes]:
    return [b"cached entry %d" % i for i in range(start, start + n)]


def test_a_warm_proof_reads_only_its_level_0_tile(store) -> None:
    entries = _entries(0, 70_000)  # level 1 has a full tile and a partial one, level 2 a partial one
    writer = TileLog.create(store, IDENT)
    for start in range(0, len(entries), 10_000):
        writer.append(entries[start : start + 10_000])
    counting = CountingStore(store)
    reader = TileLog(counting, IDENT.name, [IDENT.vkey()], tile_cache_size=0)
    root = reader.checkpoint.root
    for index in (5, 66_000):  # one leaf on each side of the level-2 split warms every upper tile
        verify_inclusion(leaf_hash(entries[index]), index, reader.size, reader.inclusion_proof(index), root)
    assert len(counting.reads) > 2  # cold: the upper levels and the right edge too
    for index in (300, 66_001, 69_999, 41_234, 65_535):
        counting.reads.clear()
        verify_inclusion(leaf_hash(entries[index]), index, reader.size, reader.inclusion_proof(index), root)
        full_level_0 = index < 69_888  # 273 full level-0 tiles; the rest is the partial edge
        assert counting.reads == ([(0, index // 256)] if full_level_0 else [])


def test_a_cached_partial_tile_narrower_than_a_proof_needs_is_read_again(store) -> None:
    writer = TileLog.create(store, IDENT)
    entries = _entries(0, 300)
    writer.append(entries)
    counting = CountingStore(store)
    reader = TileLog(counting, IDENT.name, [IDENT.vkey()])
    old = reader.checkpoint
    verify_inclusion(leaf_hash(entries[260]), 260, 300, reader.inclusion_proof(260), old.root)
    more = _entries(300, 200)
    writer.append(more)
    entries += more
    reader.refresh()
    counting.reads.clear()
    # leaf 499 sits past the width (44) of the partial tile the reader holds for tile 0/1
    verify_inclusion(leaf_hash(entries[499]), 499, 500, reader.inclusion_proof(499), reader.checkpoint.root)
    assert (0, 1) in counting.reads
    verify_consistency(300, 500, old.root, reader.checkpoint.root, reader.consistency_proof(300))
    # and a proof at the older size is served by the wider tile now cached
    counting.reads.clear()
    verify_inclusion(leaf_hash(entries[260]), 260, 300, reader.inclusion_proof(260, 300), old.root)
    assert counting.reads == []
