"""Audit a whole log: the checkpoint's signature, every entry's DSSE signature and claimed
party, and the root recomputed from the entries themselves. Memory stays O(log n) plus one
bundle of entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from detente.errors import DetenteError, VerificationError
from detente.node.tilelog import TileLog
from detente.records.entry import open_entry
from detente.records.keys import KeyHistory
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import leaf_hash
from detente.tlog.tiles import TILE_WIDTH

__all__ = ["AuditReport", "audit_log"]


@dataclass
class AuditReport:
    origin: str
    size: int
    root: str
    records: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "records_verified": self.records,
            "ok": self.ok,
            "failures": self.failures[:100],
        }


def audit_log(
    log: TileLog, *, history: KeyHistory | None = None, progress: Callable[[int], None] | None = None
) -> AuditReport:
    """Verify everything; raise :class:`VerificationError` if the root does not match the
    checkpoint, and report per-entry failures (bad signature, wrong party) in the result.

    With the log's key ``history`` (pinned key, no events yet applied), entry ``j`` must be signed
    by exactly the key in force at ``j`` and not revoked there (rotation and revocation records are
    applied as they are met); without it, by any of the log's keys."""
    cp = log.refresh()
    report = AuditReport(log.origin, cp.size, cp.root.hex())
    compact = CompactRange()
    keys = list(log.keys)
    for start in range(0, cp.size, TILE_WIDTH):
        for offset, entry in enumerate(log.entries(start, min(start + TILE_WIDTH, cp.size))):
            compact.append(leaf_hash(entry))
            try:
                if history is None:
                    open_entry(entry, keys)
                else:
                    history.apply(start + offset, history.open_entry(entry, start + offset).record)
                report.records += 1
            except DetenteError as exc:
                report.failures.append(f"entry {start + offset}: {exc.message}")
        if progress is not None:
            progress(compact.size)
    if compact.root() != cp.root:
        raise VerificationError(
            f"the entries of {log.origin!r} do not hash to the root its checkpoint signs",
            hint="the store was altered after signing; compare with a peer's mirror",
        )
    return report
