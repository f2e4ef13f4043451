"""Figures across parties for the quarterly report: responsiveness between every pair of parties,
sealed exchanges counted, and claims of time the witnesses contradict (pure, like
:mod:`detente.report.quarter`)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from detente.protocol.threads import TIME_CLAIM, Logged, Thread
from detente.report.figures import PairResponsiveness, SealedExchanges, TimeClaim, TimeClaims

__all__ = ["pairs", "sealed", "time_claims"]


def _short_type(record_type: str) -> str:
    """``detente.dev/hotline-message/v1`` → ``hotline-message`` (as :func:`detente.report.quarter.short_type`)."""
    parts = record_type.split("/")
    return parts[-2] if len(parts) >= 3 else record_type


def pairs(threads: list[Thread], as_of: datetime) -> list[PairResponsiveness]:
    """Every (sender, recipient) pair among the quarter's threads: who answered whom, in time."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for t in threads:
        for to in t.subject.record.to:
            row = table.setdefault((t.sender, to), dict.fromkeys(("n", "rec", "ans", "owed", "missed", "given"), 0))
            row["n"] += 1
            for ob in t.obligations:
                if ob.party != to:
                    continue
                in_time = ob.met_at is not None and ob.met_at <= ob.due
                if ob.kind == "receipt":
                    row["rec"] += in_time
                elif ob.kind == "response":
                    row["owed"] += 1
                    row["ans"] += in_time
                    row["given"] += ob.met_at is not None
                row["missed"] += ob.missed(as_of)
    return [
        PairResponsiveness(
            sender=s,
            to=to,
            notices=r["n"],
            received_in_time=r["rec"],
            answered_in_time=r["ans"],
            answers_owed=r["owed"],
            missed=r["missed"],
            silent=r["owed"] > 0 and r["given"] == 0,
        )
        for (s, to), r in sorted(table.items())
    ]


def sealed(quarter: list[Logged]) -> SealedExchanges:
    """How many records of the quarter were sealed, by marking, sender and type: nothing of their content."""
    sealed = [x for x in quarter if x.record.sealed is not None]
    return SealedExchanges(
        total=len(sealed),
        by_tlp=dict(Counter(x.record.tlp.value for x in sealed)),
        by_sender=dict(Counter(x.origin for x in sealed)),
        by_type=dict(Counter(_short_type(x.record.type) for x in sealed)),
    )


def time_claims(threads: list[Thread], known: list[Logged]) -> TimeClaims:
    """Every record of the quarter's threads whose claimed time its witnessed interval contradicts."""
    by_key = {(x.origin, x.index): x for x in known}
    items: list[TimeClaim] = []
    for t in threads:
        for finding in t.findings:
            if not finding.startswith(TIME_CLAIM):
                continue
            _, _, where = finding.partition("@")
            origin, _, index = where.rpartition("#")
            item = by_key.get((origin, int(index))) if where else t.subject
            if item is None:
                continue
            w = (t.witnessed or {}).get(item.key)
            items.append(
                TimeClaim(
                    record=f"{item.origin}#{item.index}",
                    thread=f"{t.subject.origin}#{t.subject.index}",
                    issued=item.record.issued,
                    witnessed_from=w.lo if w else None,
                    witnessed_by=w.hi if w else None,
                    witnesses=sorted({*(w.lo_by if w else ()), *(w.hi_by if w else ())}),
                )
            )
    return TimeClaims(total=len(items), by_party=dict(Counter(i.record.rpartition("#")[0] for i in items)), items=items)
