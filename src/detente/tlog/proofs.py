"""RFC 9162 inclusion and consistency proofs: generation and verification.

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step, with the edge cases decided
explicitly: every hash must be 32 bytes; equal sizes need an empty proof and equal roots; the
empty tree (size 0) is consistent with any tree, with an empty proof (c2sp.org/tlog-witness), and
its root must be ``SHA-256("")``. Verifiers return ``None`` or raise
:class:`~detente.errors.InclusionError` / :class:`~detente.errors.ConsistencyError`.

Generation is pure too: it works out which complete subtrees ``(level, index)`` the proof needs,
asks a ``fetch`` callable for all of their hashes in one batch, and folds them. Storage decides
where hashes come from (tiles, a cache, a naive list).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from detente.errors import ConsistencyError, InclusionError
from detente.tlog.hashing import EMPTY_ROOT, HASH_SIZE, node_hash

__all__ = [
    "NodeFetcher",
    "consistency_proof",
    "inclusion_proof",
    "root_from_inclusion",
    "subtree_nodes",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

Node = tuple[int, int]
"""A complete subtree: ``(level, index)`` covers leaves ``[index·2^level, (index+1)·2^level)``."""

NodeFetcher = Callable[[Sequence[Node]], Sequence[bytes]]


def _split(n: int) -> int:
    """The largest power of two strictly less than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_nodes(lo: int, hi: int) -> list[Node]:
    """Complete subtrees, left to right, whose fold is ``MTH(D[lo:hi])``.

    Valid for the ranges RFC 9162's recursion produces (``lo`` a multiple of a power of two at
    least ``hi - lo``): the blocks are the binary digits of ``hi - lo``, largest first.
    """
    out: list[Node] = []
    a, size = lo, hi - lo
    while size:  # one step per set bit, not per bit: a proof at 10^7 has ~24 ranges
        level = size.bit_length() - 1
        out.append((level, a >> level))
        a += 1 << level
        size ^= 1 << level
    return out


def _fold(hashes: Sequence[bytes]) -> bytes:
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def _resolve(ranges: list[tuple[int, int]], fetch: NodeFetcher) -> list[bytes]:
    # The ranges of a proof are disjoint, so no node is asked for twice. Most are complete
    # subtrees (one node, nothing to fold): a proof's cost per hash is what grows with the log.
    wanted: list[Node] = []
    counts: list[int] = []
    for lo, hi in ranges:
        size = hi - lo
        if size & (size - 1):
            nodes = subtree_nodes(lo, hi)
            wanted.extend(nodes)
            counts.append(len(nodes))
        else:
            level = size.bit_length() - 1
            wanted.append((level, lo >> level))
            counts.append(1)
    got = fetch(wanted)
    if len(got) != len(wanted):
        raise RuntimeError("node fetcher returned the wrong number of hashes")
    out: list[bytes] = []
    at = 0
    for count in counts:
        out.append(got[at] if count == 1 else _fold(got[at : at + count]))
        at += count
    return out


def _path_ranges(m: int, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    # PATH(m, D[lo:hi]), deepest sibling first.
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # _split(hi - lo), inline: once per proof hash
        if m < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()


def _subproof_ranges(m: int, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    # SUBPROOF(m, D[lo:hi], true), m counted from lo; appended deepest first.
    complete = True
    siblings: list[tuple[int, int]] = []
    while hi - lo != m:
        k = _split(hi - lo)
        if m <= k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            m -= k
            lo += k
            complete = False
    if not complete:
        out.append((lo, hi))
    out.extend(reversed(siblings))


def inclusion_proof(index: int, size: int, fetch: NodeFetcher) -> list[bytes]:
    """The audit path for leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise InclusionError(f"leaf index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    _path_ranges(index, 0, size, ranges)
    return _resolve(ranges, fetch) if ranges else []


def consistency_proof(size1: int, size2: int, fetch: NodeFetcher) -> list[bytes]:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2``."""
    if not 0 <= size1 <= size2:
        raise ConsistencyError(f"cannot prove size {size1} consistent with size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    ranges: list[tuple[int, int]] = []
    _subproof_ranges(size1, 0, size2, ranges)
    return _resolve(ranges, fetch)


def tree_root(size: int, fetch: NodeFetcher) -> bytes:
    """``MTH(D[0:size])``."""
    if size == 0:
        return EMPTY_ROOT
    return _resolve([(0, size)], fetch)[0]


def _check_hash(value: bytes, what: str, error: type[InclusionError] | type[ConsistencyError]) -> None:
    if len(value) != HASH_SIZE:
        raise error(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Recompute the root from a leaf hash and its audit path (RFC 9162 §2.1.3.2, steps 1–5)."""
    if not 0 <= index < size:
        raise InclusionError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf, "leaf hash", InclusionError)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "proof hash", InclusionError)
        if sn == 0:
            raise InclusionError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionError("inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` is at ``index`` in the tree of ``size`` with ``root``; raise if not."""
    _check_hash(root, "root hash", InclusionError)
    if root_from_inclusion(leaf, index, size, proof) != root:
        raise InclusionError(f"inclusion proof for leaf {index} does not lead to the root of the tree of size {size}")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that tree (``size1``, ``root1``) is a prefix of (``size2``, ``root2``); raise if not."""
    if size1 < 0 or size2 < size1:
        raise ConsistencyError(f"size {size1} cannot be a prefix of size {size2}")
    if size1 == size2:
        _verify_same_size(size1, root1, root2, proof)
        return
    _check_hash(root1, "first root", ConsistencyError)
    _check_hash(root2, "second root", ConsistencyError)
    for p in proof:
        _check_hash(p, "proof hash", ConsistencyError)
    if size1 == 0:
        if proof:
            raise ConsistencyError("the empty tree needs an empty consistency proof")
        if root1 != EMPTY_ROOT:
            raise ConsistencyError("the root of the empty tree must be SHA-256 of nothing")
        return
    if not proof:
        raise ConsistencyError("consistency proof is empty")
    fr, sr = _roots_from_consistency(size1, size2, root1, proof)
    if fr != root1 or sr != root2:
        raise ConsistencyError(f"consistency proof does not link the roots of sizes {size1} and {size2}")


def _verify_same_size(size: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    # As transparency-dev/merkle: equal sizes are consistent iff the proof is empty and the
    # roots are equal (an empty tree's root must also be SHA-256 of nothing).
    if proof:
        raise ConsistencyError("equal sizes need an empty consistency proof")
    if root1 != root2:
        raise ConsistencyError(f"two different roots for the same size {size}")
    if size == 0 and root1 != EMPTY_ROOT:
        raise ConsistencyError("the root of the empty tree must be SHA-256 of nothing")


def _roots_from_consistency(size1: int, size2: int, root1: bytes, proof: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The two roots a non-empty consistency proof leads to (RFC 9162 section 2.1.4.2), for
    ``0 < size1 < size2``; raises when the proof is too long or too short."""
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # exact power of two: first_hash is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ConsistencyError("consistency proof is longer than needed")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyError("consistency proof is shorter than needed")
    return fr, sr
