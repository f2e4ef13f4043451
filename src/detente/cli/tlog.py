"""``detente tlog``: check RFC 9162 proofs given on the command line or as JSON.

The JSON forms (``--file``) are those of the transparency-dev/merkle test data, so its vectors
(and the output of ``detente log prove``) can be checked directly:
inclusion ``{"leafIdx", "treeSize", "root", "leafHash", "proof"}``, consistency
``{"size1", "size2", "root1", "root2", "proof"}``; hashes in base64 (or 64 hex digits).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import typer

from detente._internal.encoding import hash32
from detente.cli.note import read_input
from detente.crypto.canonical import parse_json
from detente.errors import MalformedProof
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_consistency, verify_inclusion

app = typer.Typer(help="Verify Merkle inclusion and consistency proofs.", no_args_is_help=True)


def _hash(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedProof(f"{what} must be a base64 or hex string")
    return hash32(value, error=MalformedProof, what=what)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedProof(f"{what} must be a non-negative integer")
    return value


def _proof(values: Any) -> list[bytes]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise MalformedProof("proof must be a list of hashes")
    return [_hash(v, f"proof[{i}]") for i, v in enumerate(values)]


def _load(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    obj = parse_json(read_input(path), what=str(path))
    if not isinstance(obj, dict):
        raise MalformedProof(f"{path} must hold a JSON object")
    return obj


@app.command("verify-inclusion")
def verify_inclusion_cmd(
    json_file: Path | None = typer.Option(None, "--file", "-f", help="proof as JSON (file or -)"),
    index: int | None = typer.Option(None, "--index", help="leaf index (0-based)"),
    size: int | None = typer.Option(None, "--size", help="tree size"),
    root: str | None = typer.Option(None, "--root", help="tree root hash"),
    leaf: str | None = typer.Option(None, "--leaf-hash", help="RFC 9162 leaf hash"),
    entry: Path | None = typer.Option(None, "--entry-file", help="the entry itself (leaf hash computed)"),
    proof: list[str] = typer.Option([], "--proof", "-p", help="proof hash, deepest first (repeatable)"),
) -> None:
    """Check that a leaf is included in a tree of a given size and root."""
    obj = _load(json_file)
    idx = _int(index if index is not None else obj.get("leafIdx"), "leaf index")
    n = _int(size if size is not None else obj.get("treeSize"), "tree size")
    r = _hash(root if root is not None else obj.get("root"), "root")
    if entry is not None:
        lh = leaf_hash(read_input(entry))
    else:
        lh = _hash(leaf if leaf is not None else obj.get("leafHash"), "leaf hash")
    path = _proof(proof) if proof else _proof(obj.get("proof"))
    verify_inclusion(lh, idx, n, path, r)
    typer.echo(f"inclusion verified: leaf {idx} is in the tree of size {n} with root {r.hex()}")


@app.command("verify-consistency")
def verify_consistency_cmd(
    json_file: Path | None = typer.Option(None, "--file", "-f", help="proof as JSON (file or -)"),
    size1: int | None = typer.Option(None, "--size1", help="older tree size"),
    size2: int | None = typer.Option(None, "--size2", help="newer tree size"),
    root1: str | None = typer.Option(None, "--root1", help="older root hash"),
    root2: str | None = typer.Option(None, "--root2", help="newer root hash"),
    proof: list[str] = typer.Option([], "--proof", "-p", help="proof hash (repeatable)"),
) -> None:
    """Check that an older tree is a prefix of a newer one (the log was not rewritten)."""
    obj = _load(json_file)
    n1 = _int(size1 if size1 is not None else obj.get("size1"), "size1")
    n2 = _int(size2 if size2 is not None else obj.get("size2"), "size2")
    r1 = _hash(root1 if root1 is not None else obj.get("root1"), "root1")
    r2 = _hash(root2 if root2 is not None else obj.get("root2"), "root2")
    path = _proof(proof) if proof else _proof(obj.get("proof"))
    verify_consistency(n1, n2, r1, r2, path)
    typer.echo(f"consistency verified: size {n1} is a prefix of size {n2}")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def consistency_json(size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]) -> str:
    """The JSON form ``verify-consistency --file`` reads."""
    return json.dumps(
        {
            "size1": size1,
            "size2": size2,
            "root1": _b64(root1),
            "root2": _b64(root2),
            "proof": [_b64(p) for p in proof],
        },
        indent=2,
    )


def inclusion_json(index: int, size: int, root: bytes, leaf: bytes, proof: list[bytes]) -> str:
    """The JSON form ``verify-inclusion --file`` reads."""
    return json.dumps(
        {
            "leafIdx": index,
            "treeSize": size,
            "root": _b64(root),
            "leafHash": _b64(leaf),
            "proof": [_b64(p) for p in proof],
        },
        indent=2,
    )
