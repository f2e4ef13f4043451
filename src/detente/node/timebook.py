"""The node's evidence of time (see :mod:`detente.protocol.timing` and ``docs/time.md``).

Three sources, all kept in the node's store as :class:`~detente.store.node_protocol.TimeRow`:

- the cosignatures witnesses returned on this party's own checkpoints (the publisher);
- the cosignatures this node made as a witness of its peers' logs (the witness service);
- the cosignatures a peer serves on its checkpoint, from witnesses this node knows the keys of,
  each verified before it is kept (a sync); and when this node first held each size of a peer's
  log (``mirrored``), which its automatic receipts quote.

Everything else is computed from these rows on demand; nothing here lives only in memory but a
cache of each log's timeline (what the inbox and the protocol loop ask for on every answer and
every turn: reading every cosignature row of a log each time was a sixth of an inbox answer, issue
#21). The cache is shared by every :class:`TimeBook` of one store, since the publisher, the
witness service and the syncer each hold their own: a cosignature kept through any of them drops
the cached timelines of its log and moves :attr:`TimeBook.generation` on, so that no answer made
after the write returns reads the timeline from before it. Only this node writes its store's
cosignatures (a second ``detente serve`` on the same store is refused, see ``docs/deploy.md``;
``detente publish`` only reads them), so nothing else can make the cache stale.
"""

from __future__ import annotations

import threading
import weakref
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


_INTERVALS_KEPT = 20_000
"""Witnessed intervals kept per cached timeline (a log's entries that records were read from;
past it the timeline answers without keeping more)."""


class _Cached:
    """One log's timeline under one rule, and the intervals asked of it so far (a timeline is
    fixed once read, and :class:`~detente.protocol.timing.Witnessed` is immutable)."""

    __slots__ = ("intervals", "line")

    def __init__(self, line: Timeline) -> None:
        self.line = line
        self.intervals: dict[int, Witnessed] = {}

    def interval(self, index: int) -> Witnessed:
        found = self.intervals.get(index)
        if found is None:
            found = self.line.interval(index)
            if len(self.intervals) < _INTERVALS_KEPT:
                self.intervals[index] = found
        return found


class _Timelines:
    """The timelines read from one store, by ``(origin, rule)``, and a generation per origin.

    A reader notes the origin's generation before it reads the store and keeps what it read only
    if no write came meanwhile; a writer stores its rows first, then moves the generation on and
    drops the origin's timelines. So a timeline read before a write is either never kept or
    dropped by that write, whichever finishes first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: dict[tuple[str, TimeRule | None], _Cached] = {}
        self.generations: dict[str, int] = {}
        self.generation = 0

    def changed(self, origin: str) -> None:
        with self.lock:
            self.generation += 1
            self.generations[origin] = self.generations.get(origin, 0) + 1
            for key in [k for k in self.lines if k[0] == origin]:
                del self.lines[key]


_SHARED: weakref.WeakKeyDictionary[NodeStore, _Timelines] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def _timelines_of(state: NodeStore) -> _Timelines:
    with _SHARED_LOCK:
        found = _SHARED.get(state)
        if found is None:
            found = _SHARED[state] = _Timelines()
        return found


class TimeBook:
    def __init__(self, state: NodeStore) -> None:
        self.state = state
        self._cache = _timelines_of(state)

    @property
    def generation(self) -> int:
        """Moves on whenever a cosignature is kept for any log of this store (through any
        :class:`TimeBook`): what was computed from timelines at one generation holds until it moves."""
        return self._cache.generation

    def cosigned(self, origin: str, size: int, cosignatures: Iterable[Cosignature]) -> None:
        """Keep verified cosignatures of checkpoint ``size`` of ``origin``."""
        rows = [
            TimeRow(origin, size, c.witness, COSIGNED, c.timestamp, c.signature.line().rstrip("\n"))
            for c in cosignatures
        ]
        if rows:
            self.state.add_times(rows)
            self._cache.changed(origin)

    def made(self, origin: str, size: int, witness: str, timestamp: int, line: str) -> None:
        """Keep a cosignature this node made at ``timestamp`` (``line``, as it answered the log)."""
        self.state.add_times([TimeRow(origin, size, witness, COSIGNED, timestamp, line.rstrip("\n"))])
        self._cache.changed(origin)

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
        return self._timeline(origin, rule).line

    def _timeline(self, origin: str, rule: TimeRule | None) -> _Cached:
        """``origin``'s timeline under ``rule``: the cached one, else read from the store (and
        kept, unless a cosignature of ``origin`` was kept meanwhile)."""
        cache = self._cache
        key = (origin, rule)
        with cache.lock:
            found = cache.lines.get(key)
            if found is not None:
                return found
            generation = cache.generations.get(origin, 0)
        found = _Cached(Timeline(origin, self.evidence(origin), rule))
        with cache.lock:
            if cache.generations.get(origin, 0) == generation:
                found = cache.lines.setdefault(key, found)
        return found

    def times(self, rule: TimeRule | None = None) -> Times:
        """A :data:`~detente.protocol.threads.Times` for one evaluation: each log's timeline is
        the cached one when no cosignature of it was kept since it was read from the store."""
        lines: dict[str, _Cached] = {}

        def interval(item: Logged) -> Witnessed:
            line = lines.get(item.origin)
            if line is None:
                line = lines[item.origin] = self._timeline(item.origin, rule)
            return line.interval(item.index)

        return interval

    def rows(self, origin: str) -> list[TimeRow]:
        """Every cosignature kept for ``origin`` (what ``/api/v1/logs/{origin}/cosignatures`` serves)."""
        return self.state.times(origin, COSIGNED)
