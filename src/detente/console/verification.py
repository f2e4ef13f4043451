"""What the console's verification view shows: each log this node holds (its own and every
mirrored peer log) with its last signed checkpoint, the witnesses whose cosignatures verify on it
and whether the witness quorum is met; and a one-click audit of all of them.

The quorum the console applies is "at least one pinned witness other than the log's own party"
(the node's own witness key counts for its peers' logs). An outside auditor with a stricter
C2SP tlog-policy file runs ``detente audit`` instead.
"""

from __future__ import annotations

from typing import Any

from detente.crypto.keys import VerifierKey
from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import DetenteError
from detente.node.audit import audit_log
from detente.node.auditor import run_audit
from detente.node.node import Node
from detente.node.tilelog import TileLog
from detente.store.node_protocol import PeerRow
from detente.tlog.checkpoint import open_checkpoint
from detente.tlog.cosignature import verify_cosignatures
from detente.tlog.policy import parse_policy

__all__ = ["audit_followed", "followed_logs"]


def _witnesses(node: Node) -> dict[str, VerifierKey]:
    """Every witness key this node trusts, by party name: its own and each pinned peer's."""
    out = {node.config.name: node.signer.identity.cosigner_vkey()}
    for row in node.state.peers():
        if row.cosigner_vkey:
            out[row.name] = VerifierKey.parse(row.cosigner_vkey)
    return out


def _readers(node: Node) -> list[tuple[str, str, TileLog, PeerRow | None]]:
    """(party name, public URL, a read-only view, the peer row or None for the own log)."""
    own = TileLog.mirror(node.logs, node.signer.identity.vkey())  # a reader, apart from the sequencer's writer
    out: list[tuple[str, str, TileLog, PeerRow | None]] = [(node.config.name, node.config.url, own, None)]
    out += [(row.name, row.url, node.peering.mirror(row), row) for row in node.state.peers()]
    return out


def _cosigners(note: bytes, witnesses: dict[str, VerifierKey]) -> list[str]:
    by_key = {(vk.name, vk.key_id): n for n, vk in witnesses.items()}
    sigs = verify_cosignatures(parse_note(note), [verifier_for(vk) for vk in witnesses.values()])
    return sorted({by_key[(c.signature.name, c.signature.key_id)] for c in sigs})


def followed_logs(node: Node) -> list[dict[str, Any]]:
    """Each log's size and root as this node holds it, and its latest signed checkpoint with the
    pinned witnesses whose cosignatures verify on it and whether the quorum is met.

    For a peer's log the checkpoint is the one the peer serves now (fetched, its signature checked
    with the pinned key): the copy stored when the mirror last grew was pulled before this node's
    own cosignature on it existed. An unreachable peer shows its stored checkpoint and the error."""
    witnesses = _witnesses(node)
    out: list[dict[str, Any]] = []
    for name, url, log, row in _readers(node):
        entry: dict[str, Any] = {"party": name, "origin": log.origin, "url": url, "own": row is None}
        problem = None
        try:
            cp = log.refresh()
            note = (
                node.publisher.cosigned_checkpoint() if row is None else (log.signed_checkpoint() if cp.size else b"")
            )
        except DetenteError as exc:
            out.append(entry | {"size": 0, "root": "", "checkpoint": "", "cosigned_by": [], "problem": exc.message})
            continue
        served_size = cp.size
        if row is not None:
            try:
                served = node.peering.client(row).checkpoint()
                vk = VerifierKey.parse(row.vkey)
                served_size = open_checkpoint(served, [verifier_for(vk)], origin=vk.name).checkpoint.size
                note = served
            except DetenteError as exc:
                problem = f"{name} did not serve a valid checkpoint: {exc.message}"
        others = {n: vk for n, vk in witnesses.items() if n != name}
        cosigned: list[str] = []
        if note:
            try:
                cosigned = _cosigners(note, others)
            except DetenteError as exc:
                problem = exc.message
        entry |= {
            "size": cp.size,
            "served_size": served_size,
            "root": cp.root.hex(),
            "checkpoint": note.decode(errors="replace"),
            "cosigned_by": cosigned,
            "witnesses": sorted(others),
            "quorum_met": bool(cosigned) or not others,
            "problem": problem,
        }
        out.append(entry)
    return out


def _policy_text(node: Node) -> str:
    """A C2SP tlog-policy for the logs this node follows: any one pinned witness suffices."""
    lines = [f"log {node.signer.identity.vkey()} {node.config.url}"]
    lines += [f"log {row.vkey} {row.url}" for row in node.state.peers()]
    witnesses = _witnesses(node)
    lines += [f"witness w-{name} {vk}" for name, vk in witnesses.items()]
    lines.append("group any-witness any " + " ".join(f"w-{name}" for name in witnesses))
    lines.append("quorum any-witness")
    return "\n".join(lines) + "\n"


def audit_followed(node: Node) -> dict[str, Any]:
    """Audit every log this node holds, twice over:

    * ``stored``: the node's own copy (own log and mirrors) with :func:`audit_log`: every entry's
      signature and party, and the root recomputed from the stored entries;
    * ``served``: each log as its party serves it, from public URLs and keys alone, with
      :func:`run_audit` (signature, witness quorum, every record, cross-log references).

    Nothing is written; each run is a full audit (no state kept between clicks)."""
    stored: list[dict[str, Any]] = []
    for name, _, log, row in _readers(node):
        vkey = str(node.signer.identity.vkey()) if row is None else row.vkey
        history = node.keyring.history(VerifierKey.parse(vkey).name, vkey)  # rotated keys verify their own entries
        try:
            stored.append({"party": name, **audit_log(log, history=history).as_dict()})
        except DetenteError as exc:
            stored.append({"party": name, "origin": log.origin, "ok": False, "failures": [exc.message]})
    policy = _policy_text(node)
    served = run_audit(parse_policy(policy))
    clean = served.clean and all(s["ok"] for s in stored)
    return {"clean": clean, "stored": stored, "served": served.as_dict(), "policy": policy}
