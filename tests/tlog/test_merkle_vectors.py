"""Every transparency-dev/merkle proof vector (tests/vectors/merkle, see its README.md) gets the
verdict it wants from detente.tlog.proofs, plus the RFC 6962 8-leaf data set and hasher vectors
(transparency-dev/merkle testonly/constants.go, rfc6962/rfc6962_test.go)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from detente.errors import ConsistencyError, InclusionError, VerificationError
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash
from detente.tlog.integrate import integrate
from detente.tlog.proofs import (
    consistency_proof,
    inclusion_proof,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

MERKLE = Path(__file__).parent.parent / "vectors" / "merkle"
INCLUSION = sorted((MERKLE / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((MERKLE / "consistency").rglob("*.json"))


def _id(path: Path) -> str:
    return str(path.relative_to(MERKLE))


def _hash(value: str) -> bytes:
    """A vector hash as bytes. Text that is not base64 is passed on as its raw bytes: it can only
    be a failure case, and detente must still reach its typed error for it."""
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return value.encode()


def _proof(value: list[str] | None) -> list[bytes]:
    return [_hash(p) for p in value or []]


def test_the_vector_snapshot_is_complete(vectors: Path) -> None:
    assert vectors / "merkle" == MERKLE
    assert len(INCLUSION) == 98
    assert len(CONSISTENCY) == 98
    assert (MERKLE / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "417fb0c314750d94e53942e9f92e79b6d35915db" in (MERKLE / "README.md").read_text()


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (_hash(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v["proof"]), _hash(v["root"]))
    if v["wantErr"]:
        with pytest.raises(InclusionError):
            verify_inclusion(*args)
    else:
        assert verify_inclusion(*args) is None


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _hash(v["root1"]), _hash(v["root2"]), _proof(v["proof"]))
    if v["wantErr"]:
        with pytest.raises(ConsistencyError):
            verify_consistency(*args)
    else:
        assert verify_consistency(*args) is None


def test_typed_errors_are_verification_errors() -> None:
    assert issubclass(InclusionError, VerificationError)
    assert issubclass(ConsistencyError, VerificationError)


# --- hashes of the wrong length in every position ------------------------------------------------

HAPPY_INCLUSION = json.loads((MERKLE / "inclusion" / "1" / "happy-path.json").read_text())
HAPPY_CONSISTENCY = json.loads((MERKLE / "consistency" / "2" / "happy-path.json").read_text())
WRONG_LENGTHS = [b"", b"\x00" * 31, b"\x00" * 33, b"\x00" * 64, b"not base64!"]


@pytest.mark.parametrize("bad", WRONG_LENGTHS, ids=lambda b: f"{len(b)}-bytes")
def test_inclusion_hashes_of_the_wrong_length_raise_inclusion_error(bad: bytes) -> None:
    v = HAPPY_INCLUSION
    leaf, proof, root = _hash(v["leafHash"]), _proof(v["proof"]), _hash(v["root"])
    verify_inclusion(leaf, v["leafIdx"], v["treeSize"], proof, root)  # the unmodified vector holds
    with pytest.raises(InclusionError):
        verify_inclusion(bad, v["leafIdx"], v["treeSize"], proof, root)
    with pytest.raises(InclusionError):
        verify_inclusion(leaf, v["leafIdx"], v["treeSize"], proof, bad)
    for i in range(len(proof)):
        with pytest.raises(InclusionError):
            verify_inclusion(leaf, v["leafIdx"], v["treeSize"], [*proof[:i], bad, *proof[i + 1 :]], root)


@pytest.mark.parametrize("bad", WRONG_LENGTHS, ids=lambda b: f"{len(b)}-bytes")
def test_consistency_hashes_of_the_wrong_length_raise_consistency_error(bad: bytes) -> None:
    v = HAPPY_CONSISTENCY
    s1, s2 = v["size1"], v["size2"]
    r1, r2, proof = _hash(v["root1"]), _hash(v["root2"]), _proof(v["proof"])
    verify_consistency(s1, s2, r1, r2, proof)
    with pytest.raises(ConsistencyError):
        verify_consistency(s1, s2, bad, r2, proof)
    with pytest.raises(ConsistencyError):
        verify_consistency(s1, s2, r1, bad, proof)
    for i in range(len(proof)):
        with pytest.raises(ConsistencyError):
            verify_consistency(s1, s2, r1, r2, [*proof[:i], bad, *proof[i + 1 :]])


# --- RFC 6962 8-leaf data set ------------------------------------------------------------------

LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _naive_fetch(nodes: Sequence[tuple[int, int]]) -> list[bytes]:
    """Complete-subtree hashes of the 8-leaf tree, computed from the leaves directly."""
    out = []
    for level, index in nodes:
        row = [leaf_hash(e) for e in LEAVES[index << level : (index + 1) << level]]
        assert len(row) == 1 << level
        while len(row) > 1:
            row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
        out.append(row[0])
    return out


def test_empty_root_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert EMPTY_ROOT.hex() == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots(size: int) -> None:
    assert tree_root(size, _naive_fetch).hex() == ROOTS[size]
    compact = CompactRange()
    for e in LEAVES[:size]:
        compact.append(leaf_hash(e))
    assert compact.root().hex() == ROOTS[size]
    if size:
        result = integrate(0, {}, LEAVES[:size])
        assert result.root.hex() == ROOTS[size]
        assert result.leaf_hashes == [leaf_hash(e) for e in LEAVES[:size]]


# cmd/proofgen/main.go (leaf numbers there are 1-based); only the ends of each hash are quoted
# in the notes, the full values are in the vector files above.
@pytest.mark.parametrize(
    ("kind", "args", "ends"),
    [
        ("inclusion", (5, 8), [("bc1a0643", "599e6b"), ("ca854ea1", "5a0ae0"), ("d37ee418", "9614b7")]),
        ("consistency", (6, 8), [("0ebc5d34", "c558ef6a"), ("ca854ea1", "975a0ae0"), ("d37ee418", "209614b7")]),
        ("consistency", (2, 5), [("5f083f0a", "de3031e"), ("bc1a0643", "8599e6b")]),
        ("consistency", (6, 7), [("0ebc5d34", "c558ef6a"), ("b08693ec", "6ffb1a5f"), ("d37ee418", "209614b7")]),
    ],
)
def test_proofgen_proofs(kind: str, args: tuple[int, int], ends: list[tuple[str, str]]) -> None:
    a, b = args
    if kind == "inclusion":
        proof = inclusion_proof(a, b, _naive_fetch)
        verify_inclusion(leaf_hash(LEAVES[a]), a, b, proof, bytes.fromhex(ROOTS[b]))
    else:
        proof = consistency_proof(a, b, _naive_fetch)
        verify_consistency(a, b, bytes.fromhex(ROOTS[a]), bytes.fromhex(ROOTS[b]), proof)
    assert [(p.hex()[: len(h)], p.hex()[-len(t) :]) for p, (h, t) in zip(proof, ends, strict=True)] == ends


def test_rfc6962_hasher_vectors() -> None:
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert node_hash(b"N123", b"N456").hex() == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
