"""Pull a peer's log, verify everything, mirror it, and raise alarms on forks.

One sync of one peer: fetch its signed checkpoint and verify it with the pinned key; fetch the
entries since the mirror's size; verify every record's signature and party; append them to the
local mirror only if they reproduce exactly the signed root (so the new tree provably extends
the one this node verified before). A checkpoint that cannot extend the mirror, or a second root
for a size already seen, is a fork: an alarm with both signed checkpoints as evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from detente.crypto.keys import VerifierKey
from detente.crypto.note_verifiers import verifier_for
from detente.errors import ConsistencyError, DetenteError, VerificationError
from detente.node.client import PeerClient
from detente.node.tilelog import TileLog
from detente.records.entry import OpenedEntry, open_entry
from detente.tlog.checkpoint import open_checkpoint
from detente.tlog.proofs import tree_root

__all__ = ["Fork", "SyncResult", "sync_peer"]


@dataclass(frozen=True)
class Fork:
    """Evidence that a log showed two views: both notes are validly signed by its key."""

    origin: str
    kind: str  # "equivocation" (two roots for one size) or "inconsistent" (does not extend)
    detail: str
    seen: bytes
    shown: bytes


@dataclass(frozen=True)
class SyncResult:
    origin: str
    old_size: int
    size: int
    records: int
    fork: Fork | None = None
    opened: tuple[OpenedEntry, ...] = ()
    """The records mirrored by this sync, already verified and parsed (index ``old_size`` on)."""


def sync_peer(mirror: TileLog, key: VerifierKey, client: PeerClient, on_fork: Callable[[Fork], object]) -> SyncResult:
    """Bring ``mirror`` up to the peer's latest checkpoint. Raises a :class:`DetenteError` when
    the peer is unreachable or serves entries that do not verify (nothing is written)."""
    note = client.checkpoint()
    shown = open_checkpoint(note, [verifier_for(key)], origin=key.name).checkpoint
    old = mirror.refresh()
    seen_note = mirror.signed_checkpoint() if old.size else b""

    def fork(kind: str, detail: str) -> SyncResult:
        evidence = Fork(key.name, kind, detail, seen_note, note)
        on_fork(evidence)
        return SyncResult(key.name, old.size, old.size, 0, evidence)

    if shown.size <= old.size:
        if shown.root == (old.root if shown.size == old.size else mirror.root(shown.size)):
            return SyncResult(key.name, old.size, old.size, 0)  # nothing new (or a stale replay)
        return fork("equivocation", f"two different roots for size {shown.size}")

    entries = client.entries(old.size, shown.size)
    opened = []
    for i, entry in enumerate(entries):
        try:
            opened.append(open_entry(entry, [key]))
        except DetenteError as exc:
            raise VerificationError(
                f"entry {old.size + i} of {key.name!r} does not verify: {exc.message}",
                hint="the peer or the network altered it; nothing was mirrored",
            ) from None
    try:
        mirror.extend(entries, note)
    except ConsistencyError:
        # Either the entries were altered in transit, or the log's tree no longer contains the
        # one we verified before. The peer's own hash tiles tell which.
        if old.size and tree_root(old.size, client.fetch_nodes(shown.size)) != old.root:
            return fork("inconsistent", f"size {shown.size} does not extend the verified size {old.size}")
        raise VerificationError(f"entries served by {key.name!r} do not produce its signed root") from None
    return SyncResult(key.name, old.size, shown.size, len(entries), opened=tuple(opened))
