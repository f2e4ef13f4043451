"""Differential test: the tile integrator (detente.tlog.integrate) and proofs served from stored
tiles equal a naive RFC 9162 §2.1 reference written here, for every tree size 0..1100 (crossing
level-0 and level-1 tile boundaries) and for random sizes up to 100,000 (level-2 tiles)."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from functools import lru_cache

import pytest

from detente.errors import ConsistencyError, InclusionError, MalformedTile, StorageError
from detente.tlog.integrate import edge_tiles, integrate
from detente.tlog.proofs import (
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from detente.tlog.tiles import TILE_WIDTH, TileID, decode_entry_bundle, nodes_from_tiles


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    """The largest power of two strictly less than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


class Reference:
    """RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 as written: MTH, PATH and SUBPROOF over D[lo:hi]."""

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.leaves = leaf_hashes
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.leaves[lo]
        k = _k(n)
        return _node(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m - k, lo + k, hi), self.mth(lo, lo + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self.subproof(m, 0, n, True)

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = _k(n)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


class TileStore:
    """Tiles kept as detente's node keeps them (node/tilelog.py ``_edge`` / ``append`` and the
    LogStore contract): the latest version of each (level, index) with its width; a tile is only
    ever replaced by a wider one; the edge for the next batch is read back and width-checked."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], tuple[bytes, int]] = {}
        self.size = 0

    def _edge(self, size: int) -> dict[TileID, bytes]:
        edge: dict[TileID, bytes] = {}
        for t in edge_tiles(size):
            blob, width = self.tiles.get((t.level, t.index), (b"", 0))
            if width != t.width:
                raise StorageError(f"tile {t.path()} has width {width}, the tree needs {t.width}")
            edge[t] = blob
        return edge

    def append(self, entries: Sequence[bytes]) -> bytes:
        result = integrate(self.size, self._edge(self.size), entries)
        assert (result.old_size, result.size) == (self.size, self.size + len(entries))
        for t, blob in {**result.tiles, **result.bundles}.items():
            _, old_width = self.tiles.get((t.level, t.index), (b"", 0))
            assert t.width > old_width, f"{t.path()} rewritten at width {t.width} over {old_width}"
            self.tiles[(t.level, t.index)] = (blob, t.width)
        self.size = result.size
        return result.root

    def fetch(self, nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        return nodes_from_tiles(nodes, self.tiles.__getitem__)

    def entries(self) -> list[bytes]:
        out: list[bytes] = []
        for n in range((self.size + TILE_WIDTH - 1) // TILE_WIDTH):
            blob, width = self.tiles[(-1, n)]
            out.extend(decode_entry_bundle(blob, count=width))
        return out


def _batches(rnd: random.Random, total: int, choices: Sequence[int]) -> list[int]:
    out: list[int] = []
    while sum(out) < total:
        out.append(min(rnd.choice(choices), total - sum(out)))
    return out


def _flip(proof: list[bytes], i: int) -> list[bytes]:
    return [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]


def _check_proofs(store: TileStore, ref: Reference, n: int, rnd: random.Random) -> None:
    """Proofs at size ``n`` from the store's tiles equal the reference, verify, and fail when
    one hash is changed."""
    root = ref.mth(0, n)
    for m in {0, n - 1, rnd.randrange(n), rnd.randrange(n)}:
        proof = inclusion_proof(m, n, store.fetch)
        assert proof == ref.path(m, 0, n), f"inclusion proof of {m} in {n}"
        verify_inclusion(ref.leaves[m], m, n, proof, root)
        if proof:
            with pytest.raises(InclusionError):
                verify_inclusion(ref.leaves[m], m, n, _flip(proof, rnd.randrange(len(proof))), root)
    for old in {0, 1, n, rnd.randint(1, n), rnd.randint(1, n)}:
        proof = consistency_proof(old, n, store.fetch)
        assert proof == (ref.proof(old, n) if 0 < old < n else []), f"consistency proof {old} -> {n}"
        verify_consistency(old, n, ref.mth(0, old), root, proof)
        if proof:
            with pytest.raises(ConsistencyError):
                verify_consistency(old, n, ref.mth(0, old), root, _flip(proof, rnd.randrange(len(proof))))


ENTRIES = [b"entry %d" % i + bytes(i % 7) for i in range(1101)]
REF = Reference([_leaf(e) for e in ENTRIES])


@pytest.mark.parametrize(
    ("seed", "choices"),
    [
        (0, [1]),  # one entry at a time: integrate's own root at every size
        (1, [1, 2, 3, 5, 8, 13, 255, 256, 257]),
        (2, [7, 100, 250, 300, 511, 512, 513]),  # batches spanning several tiles at once
        (3, [1100]),  # everything in one batch
    ],
)
def test_every_size_to_1100_equals_the_reference(seed: int, choices: list[int]) -> None:
    rnd = random.Random(seed)
    store = TileStore()
    roots = {0: tree_root(0, store.fetch)}
    assert roots[0] == REF.mth(0, 0)
    checked = {0}
    for batch in _batches(rnd, len(ENTRIES), choices):
        before = store.size
        root = store.append(ENTRIES[before : before + batch])
        assert root == REF.mth(0, store.size), f"integrate root at size {store.size}"
        # every size the batch passed through, read from the tiles as they are now
        for n in range(before + 1, store.size + 1):
            roots[n] = tree_root(n, store.fetch)
            assert roots[n] == REF.mth(0, n), f"root at size {n} after growing to {store.size}"
            checked.add(n)
        _check_proofs(store, REF, store.size, rnd)
    assert checked == set(range(len(ENTRIES) + 1))
    assert store.entries() == ENTRIES
    # proofs for older sizes, served from tiles that have since grown
    for n in rnd.sample(range(1, len(ENTRIES) + 1), 120):
        _check_proofs(store, REF, n, rnd)


def test_integrate_refuses_a_missing_edge() -> None:
    store = TileStore()
    store.append(ENTRIES[:300])
    with pytest.raises(StorageError):
        store._edge(301)  # the store's view does not match the size asked for
    with pytest.raises(MalformedTile):
        integrate(300, {}, [b"x"])


@pytest.mark.parametrize("seed", [10, 11])
def test_random_sizes_up_to_100000(seed: int) -> None:
    rnd = random.Random(seed)
    total = rnd.randrange(70_000, 100_001)
    entries = [rnd.randbytes(rnd.randrange(0, 24)) for _ in range(total)]
    ref = Reference([_leaf(e) for e in entries])
    store = TileStore()
    roots: dict[int, bytes] = {0: hashlib.sha256(b"").digest()}
    for batch in _batches(rnd, total, [1, 9, 255, 256, 257, 1000, 4096, 9999, 65536]):
        root = store.append(entries[store.size : store.size + batch])
        roots[store.size] = root
    sizes = sorted({total, 65536 if total >= 65536 else total, *rnd.sample(range(1, total + 1), 5)})
    for n in sizes:
        roots[n] = tree_root(n, store.fetch)
        assert roots[n] == ref.mth(0, n), f"root at size {n}"
    for n in sizes:
        _check_proofs(store, ref, n, rnd)
    for n, root in roots.items():
        assert root == ref.mth(0, n), f"integrate root at size {n}"
    assert store.entries() == entries
