"""detente.tlog.proofs beyond the published vectors (test_merkle_vectors.py): the edge cases of
its verifiers with hashes compared by value, and each refusal with its own message."""

from __future__ import annotations

import hashlib

import pytest

from detente.errors import ConsistencyError
from detente.tlog.hashing import EMPTY_ROOT
from detente.tlog.proofs import verify_consistency


def _copy(h: bytes) -> bytes:
    return bytes(bytearray(h))  # equal by value, another object


def test_the_empty_tree_is_consistent_with_itself_by_value() -> None:
    empty = hashlib.sha256(b"").digest()
    assert empty is not EMPTY_ROOT
    verify_consistency(0, 0, empty, _copy(empty), [])
    with pytest.raises(ConsistencyError) as info:
        verify_consistency(0, 0, b"\x01" * 32, b"\x01" * 32, [])
    assert info.value.message == "the root of the empty tree must be SHA-256 of nothing"
