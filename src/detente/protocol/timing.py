"""Witnessed time: when a log entry existed, as parties other than its signer vouch for it.

A record's ``issued`` is its sender's claim. What others can vouch for comes from the C2SP
tlog-cosignature timestamps (https://c2sp.org/tlog-cosignature) on the log's checkpoints: a
witness that cosigned a checkpoint of size ``s`` at time ``t`` says "by ``t`` this log held its
first ``s`` entries". For entry ``i`` of a log:

- the **upper bound** ``hi`` is the earliest time a counting witness cosigned a checkpoint that
  includes it (size > ``i``): the entry provably existed by then;
- the **lower bound** ``lo`` is the latest time a counting witness cosigned a checkpoint that did
  not include it yet (size ≤ ``i``): the log had not published it before then.

Which witnesses count is the agreement's (:class:`TimeRule`): by default any witness other than
the log's own party; an agreement can name the witnesses that count (the other party, a neutral
auditor node) and require ``quorum`` of them, in which case ``hi`` is the time the ``quorum``-th
of them had cosigned, and ``lo`` the time before which ``quorum`` of them had seen the log without
the entry. Pure: rows in, intervals out.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

__all__ = ["NOTHING", "Cosigned", "TimeRule", "Timeline", "Witnessed", "claim_outside"]


@dataclass(frozen=True, slots=True)
class Cosigned:
    """Witness ``witness`` cosigned checkpoint ``size`` of log ``origin`` at POSIX ``timestamp``."""

    origin: str
    size: int
    witness: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class TimeRule:
    """Which cosignatures establish time: ``witnesses`` (names; empty: any witness other than the
    log's own party) and how many of them (``quorum``)."""

    witnesses: frozenset[str] = frozenset()
    quorum: int = 1

    def counts(self, witness: str, signer: str) -> bool:
        if witness == signer:
            return False  # nobody vouches for its own time
        return not self.witnesses or witness in self.witnesses


@dataclass(frozen=True, slots=True)
class Witnessed:
    """The witnessed interval of one entry; ``None`` where no evidence bounds it yet."""

    lo: datetime | None = None
    hi: datetime | None = None
    lo_by: tuple[str, ...] = ()
    hi_by: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        """Whether the witnesses' clocks agree (``lo`` not after ``hi``)."""
        return self.lo is None or self.hi is None or self.lo <= self.hi

    def as_dict(self) -> dict[str, object]:
        return {
            "lo": self.lo.isoformat() if self.lo else None,
            "hi": self.hi.isoformat() if self.hi else None,
            "lo_by": list(self.lo_by),
            "hi_by": list(self.hi_by),
        }


NOTHING = Witnessed()


@dataclass(slots=True)
class _Track:
    """One witness's cosignatures of one log, by size: prefix maxima and suffix minima of time."""

    sizes: list[int] = field(default_factory=list)
    prefix_max: list[int] = field(default_factory=list)
    suffix_min: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, rows: list[tuple[int, int]]) -> _Track:
        rows.sort()
        sizes = [s for s, _ in rows]
        times = [t for _, t in rows]
        prefix, best = [], -1
        for t in times:
            best = max(best, t)
            prefix.append(best)
        suffix, low = [0] * len(times), 2**63
        for k in range(len(times) - 1, -1, -1):
            low = min(low, times[k])
            suffix[k] = low
        return cls(sizes, prefix, suffix)

    def first_including(self, index: int) -> int | None:
        """The earliest time this witness cosigned a size > ``index``."""
        k = bisect_right(self.sizes, index)
        return self.suffix_min[k] if k < len(self.sizes) else None

    def last_excluding(self, index: int) -> int | None:
        """The latest time this witness cosigned a size ≤ ``index``."""
        k = bisect_right(self.sizes, index)
        return self.prefix_max[k - 1] if k else None


class Timeline:
    """Every counting cosignature of one log, answering :meth:`interval` in O(witnesses · log n)."""

    def __init__(self, origin: str, rows: Iterable[Cosigned], rule: TimeRule | None = None) -> None:
        self.origin = origin
        self.rule = rule or TimeRule()
        by_witness: dict[str, list[tuple[int, int]]] = {}
        for row in rows:
            if row.origin == origin and self.rule.counts(row.witness, origin):
                by_witness.setdefault(row.witness, []).append((row.size, row.timestamp))
        self._tracks = {w: _Track.of(r) for w, r in sorted(by_witness.items())}

    def interval(self, index: int) -> Witnessed:
        quorum = max(1, self.rule.quorum)
        firsts = sorted((t, w) for w, tr in self._tracks.items() if (t := tr.first_including(index)) is not None)
        lasts = sorted(
            ((t, w) for w, tr in self._tracks.items() if (t := tr.last_excluding(index)) is not None), reverse=True
        )
        hi = hi_by = None
        if len(firsts) >= quorum:
            hi, hi_by = _at(firsts[quorum - 1][0]), tuple(w for _, w in firsts[:quorum])
        lo = lo_by = None
        if len(lasts) >= quorum:
            lo, lo_by = _at(lasts[quorum - 1][0]), tuple(w for _, w in lasts[:quorum])
        return Witnessed(lo, hi, lo_by or (), hi_by or ())


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def claim_outside(issued: datetime, witnessed: Witnessed, tolerance: timedelta) -> bool:
    """Whether a record's claimed ``issued`` time falls outside its witnessed interval by more
    than ``tolerance``: written after the witnesses saw it, or before the log could have held it."""
    if witnessed.hi is not None and issued > witnessed.hi + tolerance:
        return True
    return witnessed.lo is not None and issued < witnessed.lo - tolerance
