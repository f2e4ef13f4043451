"""A compact range: the Merkle root of a stream of leaves in O(log n) memory.

Used by auditors to recompute a log's root from its entries without holding the tree.
"""

from __future__ import annotations

from detente.errors import MalformedProof
from detente.tlog.hashing import EMPTY_ROOT, node_hash

__all__ = ["CompactRange"]


class CompactRange:
    """Leaves ``[0, size)`` as the roots of their maximal complete subtrees."""

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []  # subtree roots, largest (leftmost) first

    @classmethod
    def restore(cls, size: int, hashes: list[bytes]) -> CompactRange:
        """Rebuild from :meth:`hashes` saved earlier; the count must match ``size``'s set bits."""
        if size < 0 or len(hashes) != bin(size).count("1") or any(len(h) != 32 for h in hashes):
            raise MalformedProof(f"{len(hashes)} hashes cannot be the compact range of size {size}")
        cr = cls()
        cr.size, cr._stack = size, list(hashes)
        return cr

    def hashes(self) -> list[bytes]:
        """The subtree roots, largest first: all the state needed to continue later."""
        return list(self._stack)

    def append(self, leaf_hash: bytes) -> None:
        h = leaf_hash
        n = self.size
        while n & 1:
            h = node_hash(self._stack.pop(), h)
            n >>= 1
        self._stack.append(h)
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h
