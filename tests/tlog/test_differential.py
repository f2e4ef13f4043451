"""Differential test: the tile-based integrator and tile-served proofs equal a naive RFC 9162
reference, for every tree size 0..1100 (crossing tile boundaries) and random sizes to 100,000."""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

import pytest

from detente.tlog.integrate import edge_tiles, integrate
from detente.tlog.proofs import (
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from detente.tlog.tiles import nodes_from_tiles


def _leaf(e: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + e).digest()


def _node(a: bytes, b: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + a + b).digest()


class Reference:
    """RFC 9162 §2.1 written as the recursive definitions, nothing clever."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.leaves[lo]
        k = 1 << ((n - 1).bit_length() - 1)
        return _node(self.mth(lo, lo + k), self.mth(lo + k, hi))

    def path(self, m: int, lo: int, hi: int) -> list[bytes]:
        n = hi - lo
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m - lo < k:
            return [*self.path(m, lo, lo + k), self.mth(lo + k, hi)]
        return [*self.path(m, lo + k, hi), self.mth(lo, lo + k)]

    def subproof(self, m: int, lo: int, hi: int, b: bool) -> list[bytes]:
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return [*self.subproof(m, lo, lo + k, b), self.mth(lo + k, hi)]
        return [*self.subproof(m - k, lo + k, hi, False), self.mth(lo, lo + k)]


class TileStore:
    """Tiles kept exactly as the node keeps them: the latest (widest) version of each."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], tuple[bytes, int]] = {}
        self.size = 0

    def append(self, entries: list[bytes]) -> bytes:
        edge = {t: self.tiles[(t.level, t.index)][0] for t in edge_tiles(self.size)}
        result = integrate(self.size, edge, entries)
        for t, blob in {**result.tiles, **result.bundles}.items():
            self.tiles[(t.level, t.index)] = (blob, t.width)
        self.size = result.size
        return result.root

    def fetch(self, nodes):  # type: ignore[no-untyped-def]
        return nodes_from_tiles(nodes, self.tiles.__getitem__)


def test_every_size_to_1100_root_and_proofs_equal_the_reference() -> None:
    entries = [b"entry-%d" % i for i in range(1101)]
    ref = Reference([_leaf(e) for e in entries])
    store = TileStore()
    roots = [tree_root(0, store.fetch)]
    assert roots[0] == ref.mth(0, 0)
    for i, e in enumerate(entries):
        root = store.append([e])
        assert root == ref.mth(0, i + 1), f"root at size {i + 1}"
        roots.append(root)
    rnd = random.Random(1100)
    for n in range(1, 1102):
        # proofs at an old size, served from tiles that have since grown
        for m in {0, n - 1, rnd.randrange(n)}:
            proof = inclusion_proof(m, n, store.fetch)
            assert proof == ref.path(m, 0, n), f"inclusion {m} of {n}"
            verify_inclusion(ref.leaves[m], m, n, proof, roots[n])
        for m in {1, n, rnd.randrange(1, n + 1)}:
            proof = consistency_proof(m, n, store.fetch)
            assert proof == (ref.subproof(m, 0, n, True) if m < n else []), f"consistency {m}->{n}"
            verify_consistency(m, n, roots[m], roots[n], proof)


@pytest.mark.parametrize("seed", range(3))
def test_random_batches_and_sizes_up_to_100000(seed: int) -> None:
    rnd = random.Random(seed)
    total = rnd.randrange(60_000, 100_001)
    entries = [rnd.randbytes(rnd.randrange(0, 40)) for _ in range(total)]
    ref = Reference([_leaf(e) for e in entries])
    store = TileStore()
    checkpoints: list[tuple[int, bytes]] = []
    while store.size < total:
        n = min(rnd.choice([1, 7, 255, 256, 257, 1000, 4096, 9999]), total - store.size)
        root = store.append(entries[store.size : store.size + n])
        checkpoints.append((store.size, root))
    for size, root in rnd.sample(checkpoints, min(12, len(checkpoints))):
        assert root == ref.mth(0, size)
        m = rnd.randrange(size)
        assert inclusion_proof(m, size, store.fetch) == ref.path(m, 0, size)
        old = rnd.randrange(1, size + 1)
        proof = consistency_proof(old, size, store.fetch)
        assert proof == (ref.subproof(old, 0, size, True) if old < size else [])
        verify_consistency(old, size, ref.mth(0, old), root, proof)
