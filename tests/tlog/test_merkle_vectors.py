"""Every transparency-dev/merkle proof vector gets the verdict it wants from detente."""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path

import pytest

from detente.errors import ConsistencyError, InclusionError
from detente.tlog.hashing import EMPTY_ROOT, leaf_hash, node_hash
from detente.tlog.proofs import verify_consistency, verify_inclusion

MERKLE = Path(__file__).parent.parent / "vectors" / "merkle"
INCLUSION = sorted((MERKLE / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((MERKLE / "consistency").rglob("*.json"))


def _b64(value: str | None) -> bytes:
    # A vector hash that does not even decode can only be a failure case; keep its bytes.
    if value is None:
        return b""
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return value.encode()


def _id(path: Path) -> str:
    return str(path.relative_to(MERKLE))


def test_all_vectors_are_present() -> None:
    assert len(INCLUSION) == 98
    assert len(CONSISTENCY) == 98


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (
        _b64(v["leafHash"]),
        v["leafIdx"],
        v["treeSize"],
        [_b64(p) for p in v["proof"] or []],
        _b64(v["root"]),
    )
    if v["wantErr"]:
        with pytest.raises(InclusionError):
            verify_inclusion(*args)
    else:
        assert verify_inclusion(*args) is None


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), [_b64(p) for p in v["proof"] or []])
    if v["wantErr"]:
        with pytest.raises(ConsistencyError):
            verify_consistency(*args)
    else:
        assert verify_consistency(*args) is None


# RFC 6962 8-leaf data set (transparency-dev/merkle testonly/constants.go) and hasher vectors.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
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


@pytest.mark.parametrize("size", range(9))
def test_rfc6962_roots_through_the_tile_integrator(size: int) -> None:
    from detente.tlog.integrate import integrate

    result = integrate(0, {}, LEAVES[:size]) if size else None
    root = result.root if result else EMPTY_ROOT
    assert root.hex() == ROOTS[size]


def test_rfc6962_hasher_vectors() -> None:
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"L123456").hex() == "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert (
        node_hash(b"N123", b"N456").hex()
        == "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )
