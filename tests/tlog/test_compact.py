"""``detente.tlog.compact.CompactRange``: the root of a stream of leaves, saved as its subtree
roots and restored later (what an auditor keeps between runs); a restore refuses state that cannot
be a compact range of the size it claims (issue #18: tests the mutation run needs)."""

from __future__ import annotations

import hashlib

import pytest

from detente.errors import MalformedProof
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import EMPTY_ROOT


def _leaf(i: int) -> bytes:
    return hashlib.sha256(b"leaf %d" % i).digest()


def _range(size: int) -> CompactRange:
    cr = CompactRange()
    for i in range(size):
        cr.append(_leaf(i))
    return cr


@pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 8, 13])
def test_a_restored_range_continues_exactly_as_the_original(size: int) -> None:
    original = _range(size)
    restored = CompactRange.restore(size, original.hashes())
    assert (restored.size, restored.hashes(), restored.root()) == (size, original.hashes(), original.root())
    for i in range(size, size + 7):
        original.append(_leaf(i))
        restored.append(_leaf(i))
        assert restored.root() == original.root()
    assert CompactRange.restore(0, []).root() == EMPTY_ROOT


@pytest.mark.parametrize(
    ("size", "count"),
    [(-1, 0), (-1, 1), (1, 0), (1, 2), (2, 0), (3, 1), (3, 3), (7, 2), (8, 0), (8, 2), (0, 1)],
)
def test_a_restore_needs_one_hash_per_set_bit_of_a_non_negative_size(size: int, count: int) -> None:
    with pytest.raises(MalformedProof, match=f"^{count} hashes cannot be the compact range of size {size}$"):
        CompactRange.restore(size, [_leaf(i) for i in range(count)])


@pytest.mark.parametrize("length", [0, 31, 33])
def test_a_restore_needs_32_byte_hashes(length: int) -> None:
    with pytest.raises(MalformedProof):
        CompactRange.restore(3, [_leaf(0), bytes(length)])
    with pytest.raises(MalformedProof):
        CompactRange.restore(3, [bytes(length), _leaf(0)])
