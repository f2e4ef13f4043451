"""The auditor's replay of time (issue #19, ``docs/time.md``): every thread's outcome recomputed
from the public logs and the witnesses' cosignatures alone, and compared with what the parties'
nodes recorded.

Each log serves the cosignatures its witnesses returned (``/log/cosignatures``). A cosignature
counts only once the auditor has verified it: over the checkpoint text of that size, whose root the
auditor computed itself while folding the log's entries, with a witness key its policy names.
From the verified ones it builds each log's :class:`~detente.protocol.timing.Timeline`, evaluates
the threads with :func:`~detente.protocol.threads.evaluate` on witnessed time, and reports:

- per thread, each obligation's due time, when it was met by witnessed time, and which witnesses
  established each time;
- claims outside their witnessed interval (``time-claim-outside-witnessed-interval``);
- **disputes**: a ``deadline-missed`` record the evidence does not support (the answer was
  witnessed before the deadline, or the miss was logged before the deadline), and an answer
  witnessed after its deadline that no party recorded as missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from detente.crypto.note import Note, parse_note
from detente.crypto.note_verifiers import NoteVerifier
from detente.errors import DetenteError
from detente.protocol.agreement import Agreement, default_agreement
from detente.protocol.threads import TIME_CLAIM, Logged, Obligation, Thread, evaluate
from detente.protocol.timing import Cosigned, Timeline
from detente.records.catalogue import DEADLINE_MISSED
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.cosignature import verify_cosignatures

__all__ = ["TimeAudit", "replay", "verify_rows"]


@dataclass
class TimeAudit:
    verified: int = 0
    """Cosignatures verified (and so counted as evidence)."""
    unverifiable: int = 0
    """Cosignatures of sizes this run did not fold (before its start), or by witnesses outside the policy."""
    refused: list[str] = field(default_factory=list)
    """Cosignatures that did not verify: never counted."""
    threads: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cosignatures_verified": self.verified,
            "cosignatures_unverifiable": self.unverifiable,
            "cosignatures_refused": self.refused,
            "threads": self.threads,
            "disputes": self.disputes,
        }


def verify_rows(
    origin: str,
    rows: Iterable[tuple[int, str, int, str]],
    roots: dict[int, bytes],
    witnesses: list[NoteVerifier],
    out: TimeAudit,
) -> list[Cosigned]:
    """The rows (size, witness, timestamp, line) whose cosignature verifies over the checkpoint of
    that size with a root the auditor computed (``roots``), by a witness key in ``witnesses``."""
    kept: list[Cosigned] = []
    names = {w.name for w in witnesses}
    for size, _witness, _timestamp, line in rows:
        root = roots.get(size)
        try:
            sig = parse_note("x\n\n" + line + "\n").signatures[0]
        except (DetenteError, IndexError):
            out.refused.append(f"{origin} size {size}: a cosignature line that does not parse")
            continue
        if root is None or sig.name not in names:
            out.unverifiable += 1
            continue
        note = Note(Checkpoint(origin, size, root).body(), (sig,))
        try:
            cosigs = verify_cosignatures(note, witnesses)
        except DetenteError as exc:
            out.refused.append(f"{origin} size {size} by {sig.name}: {exc.message}")
            continue
        if not cosigs:
            out.unverifiable += 1  # a name the policy knows with another key ID
            continue
        out.verified += 1
        kept.extend(Cosigned(origin, size, c.witness, c.timestamp) for c in cosigs)
    return kept


def replay(
    logged: list[Logged],
    evidence: dict[str, list[Cosigned]],
    now: datetime,
    out: TimeAudit,
    agreement: Agreement | None = None,
) -> None:
    """Evaluate every thread among ``logged`` on witnessed time and report outcomes and disputes."""
    rules = agreement or default_agreement()
    lines = {origin: Timeline(origin, rows, rules.time_rule()) for origin, rows in evidence.items()}

    def times(item: Logged):  # type: ignore[no-untyped-def]
        line = lines.get(item.origin)
        return line.interval(item.index) if line is not None else Timeline(item.origin, ()).interval(item.index)

    evaluation = evaluate(logged, rules, now, "", times)
    by_subject = {t.subject.key[:2]: t for t in evaluation.threads}
    misses = [x for x in logged if x.record.type == DEADLINE_MISSED]
    recorded: set[tuple[str, int, str, str]] = set()
    for miss in misses:
        _check_miss(miss, by_subject, times, out, recorded)
    for thread in evaluation.threads:
        out.threads.append(_thread_row(thread, now))
        for ob in thread.obligations:
            key = (thread.subject.origin, thread.subject.index, ob.party, ob.kind)
            if ob.met_at is not None and ob.met_witnessed and ob.met_at > ob.due and key not in recorded:
                out.disputes.append(
                    f"{_id(thread.subject)}: the {ob.kind} of {ob.party} was witnessed at {_t(ob.met_at)}, after its "
                    f"deadline {_t(ob.due)}, and no party's log records it as missed"
                )


def _check_miss(
    miss: Logged,
    by_subject: dict[tuple[str, int], Thread],
    times: Any,
    out: TimeAudit,
    recorded: set[tuple[str, int, str, str]],
) -> None:
    body = miss.record.body
    party, deadline = body.get("party"), body.get("deadline")
    ref = next(iter(miss.record.refs), None)
    thread = by_subject.get((ref.origin, ref.index)) if ref is not None else None
    if thread is None or not isinstance(party, str) or not isinstance(deadline, str):
        return  # its thread is outside this run's records
    recorded.add((thread.subject.origin, thread.subject.index, party, deadline))
    ob = next((o for o in thread.obligations if o.party == party and o.kind == deadline), None)
    if ob is None:
        out.disputes.append(f"{_id(miss)} records a missed {deadline} of {party} that {_id(thread.subject)} never owed")
        return
    if ob.met_at is not None and ob.met_witnessed and ob.met_at <= ob.due:
        by = _established(thread, ob)
        out.disputes.append(
            f"{_id(miss)} records a missed {deadline} of {party} for {_id(thread.subject)}, but the evidence shows it "
            f"met at {_t(ob.met_at)} (witnessed by {by}), before its deadline {_t(ob.due)}"
        )
    logged_at = times(miss).hi
    if logged_at is not None and ob.start_witnessed and logged_at < ob.due:
        out.disputes.append(
            f"{_id(miss)} was witnessed at {_t(logged_at)}, before the deadline {_t(ob.due)} it says was missed"
        )


def _thread_row(thread: Thread, now: datetime) -> dict[str, Any]:
    subject = (thread.witnessed or {}).get(thread.subject.key)
    return {
        "thread": _id(thread.subject),
        "type": thread.subject.record.type,
        "issued": thread.subject.record.issued.isoformat(),
        "witnessed": subject.as_dict() if subject else None,
        "findings": [f for f in thread.findings if f.startswith(TIME_CLAIM)],
        "obligations": [
            {
                "party": o.party,
                "kind": o.kind,
                "due": o.due.isoformat(),
                "met_at": o.met_at.isoformat() if o.met_at else None,
                "met_by": _id(o.met_by) if o.met_by else None,
                "witnessed": o.met_witnessed if o.met_at else None,
                "established_by": _established(thread, o) if o.met_by else None,
                "missed": o.missed(now),
            }
            for o in thread.obligations
        ],
    }


def _established(thread: Thread, ob: Obligation) -> str:
    interval = (thread.witnessed or {}).get(ob.met_by.key) if ob.met_by else None
    return ", ".join(interval.hi_by) if interval and interval.hi_by else "nobody yet"


def _id(item: Logged) -> str:
    return f"{item.origin}#{item.index}"


def _t(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
