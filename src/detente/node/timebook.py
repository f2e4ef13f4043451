"""The node's evidence of time (see :mod:`detente.protocol.timing` and ``docs/time.md``).

Three sources, all kept in the node's store as :class:`~detente.store.node_protocol.TimeRow`:

- the cosignatures witnesses returned on this party's own checkpoints (the publisher);
- the cosignatures this node made as a witness of its peers' logs (the witness service);
- the cosignatures a peer serves on its checkpoint, from witnesses this node knows the keys of,
  each verified before it is kept (a sync); and when this node first held each size of a peer's
  log (``mirrored``), which its automatic receipts quote.

Everything else is computed from these rows on demand; nothing here lives only in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from detente.crypto.note import parse_note
from detente.crypto.note_verifiers import verifier_for
from detente.errors import DetenteError
from detente.protocol.threads import Logged, Times
from detente.protocol.timing import Cosigned, Timeline, TimeRule, Witnessed
from detente.store.node_protocol import NodeStore, TimeRow
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.cosignature import Cosignature, verify_cosignatures

__all__ = ["COSIGNED", "MIRRORED", "TimeBook"]

COSIGNED = "cosigned"
MIRRORED = "mirrored"


class TimeBook:
    def __init__(self, state: NodeStore) -> None:
        self.state = state

    def cosigned(self, origin: str, size: int, cosignatures: Iterable[Cosignature]) -> None:
        """Keep verified cosignatures of checkpoint ``size`` of ``origin``."""
        rows = [
            TimeRow(origin, size, c.witness, COSIGNED, c.timestamp, c.signature.line().rstrip("\n"))
            for c in cosignatures
        ]
        if rows:
            self.state.add_times(rows)

    def made(self, origin: str, size: int, witness: str, timestamp: int, line: str) -> None:
        """Keep a cosignature this node made at ``timestamp`` (``line``, as it answered the log)."""
        self.state.add_times([TimeRow(origin, size, witness, COSIGNED, timestamp, line.rstrip("\n"))])

    def served(self, note: bytes, witness_vkeys: Sequence[str]) -> int:
        """Keep the cosignatures on a peer's checkpoint ``note`` (its log signature already verified
        by the sync) from the witnesses whose keys this node knows; a cosignature that does not
        verify is dropped, never kept. Returns how many were kept."""
        try:
            parsed = parse_note(note)
            cp = Checkpoint.parse(parsed.text)
        except DetenteError:
            return 0
        kept: list[Cosignature] = []
        for vkey in witness_vkeys:
            try:
                kept.extend(verify_cosignatures(parsed, [verifier_for(vkey)]))
            except DetenteError:
                continue  # a forged or garbled cosignature line proves nothing: not kept
        self.cosigned(cp.origin, cp.size, kept)
        return len(kept)

    def mirrored(self, origin: str, size: int, at: float, me: str) -> None:
        """This node first held ``size`` entries of ``origin`` at ``at``."""
        self.state.add_times([TimeRow(origin, size, me, MIRRORED, int(at))])

    def first_mirrored(self, origin: str, index: int) -> datetime | None:
        """When this node first held entry ``index`` of a peer's log (``None``: not noted)."""
        times = [r.at for r in self.state.times(origin, MIRRORED) if r.size > index]
        return datetime.fromtimestamp(min(times), UTC) if times else None

    def evidence(self, origin: str) -> list[Cosigned]:
        return [Cosigned(r.origin, r.size, r.source, r.at) for r in self.state.times(origin, COSIGNED)]

    def timeline(self, origin: str, rule: TimeRule | None = None) -> Timeline:
        return Timeline(origin, self.evidence(origin), rule)

    def times(self, rule: TimeRule | None = None) -> Times:
        """A :data:`~detente.protocol.threads.Times` for one evaluation: each log's timeline is
        read from the store once, when first asked for."""
        lines: dict[str, Timeline] = {}

        def interval(item: Logged) -> Witnessed:
            line = lines.get(item.origin)
            if line is None:
                line = lines[item.origin] = self.timeline(item.origin, rule)
            return line.interval(item.index)

        return interval

    def rows(self, origin: str) -> list[TimeRow]:
        """Every cosignature kept for ``origin`` (what ``/api/v1/logs/{origin}/cosignatures`` serves)."""
        return self.state.times(origin, COSIGNED)
