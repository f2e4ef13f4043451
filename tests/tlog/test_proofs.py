"""detente.tlog.proofs beyond the published vectors (test_merkle_vectors.py): the edge cases of
its verifiers with hashes compared by value, and each refusal with its own message."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache

import pytest

from detente.errors import ConsistencyError, InclusionError
from detente.tlog.hashing import EMPTY_ROOT
from detente.tlog.proofs import (
    consistency_proof,
    inclusion_proof,
    root_from_inclusion,
    tree_root,
    verify_consistency,
    verify_inclusion,
)


def _copy(h: bytes) -> bytes:
    return bytes(bytearray(h))  # equal by value, another object


def test_the_empty_tree_is_consistent_with_itself_by_value() -> None:
    empty = hashlib.sha256(b"").digest()
    assert empty is not EMPTY_ROOT
    verify_consistency(0, 0, empty, _copy(empty), [])
    for wrong in (b"\x01" * 32, b"\xff" * 32):  # sorting before and after SHA-256("")
        with pytest.raises(ConsistencyError) as info:
            verify_consistency(0, 0, wrong, wrong, [])
        assert info.value.message == "the root of the empty tree must be SHA-256 of nothing"


@pytest.mark.parametrize("empty", [EMPTY_ROOT, _copy(EMPTY_ROOT)])
def test_the_empty_tree_is_consistent_with_any_tree(empty: bytes) -> None:
    root = hashlib.sha256(b"any root").digest()
    verify_consistency(0, 5, empty, root, [])
    for wrong in (b"\x01" * 32, b"\xff" * 32):
        with pytest.raises(ConsistencyError) as info:
            verify_consistency(0, 5, wrong, root, [])
        assert info.value.message == "the root of the empty tree must be SHA-256 of nothing"
    with pytest.raises(ConsistencyError) as info:
        verify_consistency(0, 5, empty, root, [root])
    assert info.value.message == "the empty tree needs an empty consistency proof"


@pytest.mark.parametrize("extra", [-1, 1])
def test_a_node_fetcher_returning_too_few_or_too_many_hashes_is_an_error(extra: int) -> None:
    def fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        return [bytes(32)] * (len(nodes) + extra)

    for prove in (
        lambda: inclusion_proof(2, 7, fetch),
        lambda: consistency_proof(3, 7, fetch),
        lambda: tree_root(7, fetch),
    ):
        with pytest.raises(RuntimeError, match=r"^node fetcher returned the wrong number of hashes$"):
            prove()


def test_indexes_and_sizes_outside_the_tree_are_refused_with_their_message() -> None:
    def fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
        return [bytes(32)] * len(nodes)

    leaf = bytes(32)
    for index in (-1, 5, 6):
        with pytest.raises(InclusionError) as info:
            inclusion_proof(index, 5, fetch)
        assert info.value.message == f"leaf index {index} is not in a tree of size 5"
        with pytest.raises(InclusionError) as info:
            root_from_inclusion(leaf, index, 5, [])
        assert info.value.message == f"leaf index {index} is not in a tree of size 5"
    for size1, size2 in ((-1, 5), (6, 5)):
        with pytest.raises(ConsistencyError) as info:  # type: ignore[assignment]
            consistency_proof(size1, size2, fetch)
        assert info.value.message == f"cannot prove size {size1} consistent with size {size2}"
    assert inclusion_proof(0, 5, fetch) and inclusion_proof(4, 5, fetch)
    assert consistency_proof(0, 5, fetch) == [] and consistency_proof(5, 5, fetch) == []


LEAVES = [hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(7)]


def _mth(lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return LEAVES[lo]
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(lo, lo + k) + _mth(lo + k, hi)).digest()


def _fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
    return [_mth(i << level, (i + 1) << level) for level, i in nodes]


@pytest.mark.parametrize("length", [31, 33])
def test_each_hash_of_the_wrong_length_is_refused_with_its_message(length: int) -> None:
    bad = b"\x00" * length
    proof = inclusion_proof(2, 7, _fetch)
    verify_inclusion(LEAVES[2], 2, 7, proof, _mth(0, 7))
    cases = [
        (lambda: verify_inclusion(bad, 2, 7, proof, _mth(0, 7)), f"leaf hash is {length} bytes, not 32"),
        (lambda: verify_inclusion(LEAVES[2], 2, 7, proof, bad), f"root hash is {length} bytes, not 32"),
        (
            lambda: verify_inclusion(LEAVES[2], 2, 7, [proof[0], bad, proof[2]], _mth(0, 7)),
            f"proof hash is {length} bytes, not 32",
        ),
    ]
    link = consistency_proof(3, 7, _fetch)
    verify_consistency(3, 7, _mth(0, 3), _mth(0, 7), link)
    cases += [
        (lambda: verify_consistency(3, 7, bad, _mth(0, 7), link), f"first root is {length} bytes, not 32"),
        (lambda: verify_consistency(3, 7, _mth(0, 3), bad, link), f"second root is {length} bytes, not 32"),
        (
            lambda: verify_consistency(3, 7, _mth(0, 3), _mth(0, 7), [link[0], bad]),
            f"proof hash is {length} bytes, not 32",
        ),
    ]
    for refuse, message in cases:
        with pytest.raises((InclusionError, ConsistencyError)) as info:
            refuse()
        assert info.value.message == message  # type: ignore[union-attr]


def test_equal_sizes_compared_by_value() -> None:
    """Sizes past CPython's small-integer cache, equal but distinct objects."""
    size1, size2 = int("300"), int("300")
    root = hashlib.sha256(b"a root").digest()
    verify_consistency(size1, size2, root, _copy(root), [])
    with pytest.raises(ConsistencyError) as info:
        verify_consistency(size1, size2, root, b"\x01" * 32, [])
    assert info.value.message == "two different roots for the same size 300"


def test_proofs_one_hash_too_long_or_too_short_are_refused_with_their_message() -> None:
    extra = hashlib.sha256(b"extra").digest()
    proof = inclusion_proof(2, 7, _fetch)
    for bad, message in (
        ([*proof, extra], "longer than the tree is deep"),
        (proof[:-1], "shorter than the tree is deep"),
    ):
        with pytest.raises(InclusionError) as info:
            verify_inclusion(LEAVES[2], 2, 7, bad, _mth(0, 7))
        assert info.value.message == f"inclusion proof is {message}"
    for size1 in (1, 3, 4, 6):
        link = consistency_proof(size1, 7, _fetch)
        verify_consistency(size1, 7, _mth(0, size1), _mth(0, 7), link)
        for bad, message in (([*link, extra], "longer than needed"), (link[:-1], "shorter than needed")):
            if not bad:
                continue
            with pytest.raises(ConsistencyError) as c_info:
                verify_consistency(size1, 7, _mth(0, size1), _mth(0, 7), bad)
            assert c_info.value.message == f"consistency proof is {message}", size1


def test_sizes_that_cannot_be_a_prefix_are_refused_with_their_message() -> None:
    root = _mth(0, 5)
    for size1, size2 in ((-1, 5), (-2, 5), (6, 5)):
        with pytest.raises(ConsistencyError) as info:
            verify_consistency(size1, size2, root, root, [])
        assert info.value.message == f"size {size1} cannot be a prefix of size {size2}"


BIG = [hashlib.sha256(b"\x00" + i.to_bytes(2, "big")).digest() for i in range(1100)]


@cache
def _big_mth(lo: int, hi: int) -> bytes:
    if hi - lo == 1:
        return BIG[lo]
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _big_mth(lo, lo + k) + _big_mth(lo + k, hi)).digest()


def _big_fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
    return [_big_mth(i << level, (i + 1) << level) for level, i in nodes]


@pytest.mark.parametrize(("size1", "size2"), [(601, 602), (600, 1100), (1025, 1100), (1024, 1100)])
def test_proofs_past_the_small_integer_cache(size1: int, size2: int) -> None:
    """Positions compared by value where they pass 256 (an identity test would fail them)."""
    link = consistency_proof(size1, size2, _big_fetch)
    verify_consistency(size1, size2, _big_mth(0, size1), _big_mth(0, size2), link)
    for index in (size1 - 1, size2 - 2, size2 - 1):
        path = inclusion_proof(index, size2, _big_fetch)
        verify_inclusion(BIG[index], index, size2, path, _big_mth(0, size2))


@pytest.mark.parametrize("size1", [1, 3, 4, 5, 6])
def test_a_genuine_link_with_either_root_wrong_is_refused(size1: int) -> None:
    """Each root checked by value against what the proof leads to, whichever side the wrong one
    sorts on: a witness whose old root is not the prefix of the new tree (a fork) is refused even
    with the true proof from the new tree."""
    link = consistency_proof(size1, 7, _fetch)
    root1, root2 = _mth(0, size1), _mth(0, 7)
    verify_consistency(size1, 7, root1, root2, link)
    for wrong in (b"\x00" * 32, b"\xff" * 32):
        for r1, r2 in ((wrong, root2), (root1, wrong)):
            with pytest.raises(ConsistencyError) as info:
                verify_consistency(size1, 7, r1, r2, link)
            assert info.value.message == f"consistency proof does not link the roots of sizes {size1} and 7"
