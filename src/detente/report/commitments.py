"""The quarter's commitments, from the records alone (:class:`detente.commitments.ledger.Ledger`):
which document versions were drafted, signed or withdrawn in the quarter, which are in force at
its end, and by which rule each was adopted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from detente.commitments.ledger import Ledger, Version
from detente.commitments.model import DOCUMENT, IMPLEMENTATION_REPORT, SIGNATURE, WITHDRAWAL
from detente.protocol.threads import Logged
from detente.report.figures import CommitmentRow, Commitments

__all__ = ["commitments"]


def _status(v: Version, as_of: datetime) -> str:
    if v.withdrawn is not None and v.withdrawn[1] <= as_of:
        return "withdrawn"
    if v.in_force(as_of):
        return "in-force"
    return "adopted" if v.adopted_at is not None else "awaiting"


def commitments(
    known: list[Logged], touched: set[tuple[str, Any]], count: Mapping[str, int], as_of: datetime
) -> Commitments:
    """``known``: the readable commitment and glossary records up to the period's end (any other
    is ignored); ``touched``: the (document, version) of the quarter's readable commitment records;
    ``count``: the quarter's readable records by type."""
    ledger = Ledger.from_records((x.origin, x.index, x.leaf_hash, x.record) for x in known)
    rows = []
    for v in sorted(ledger.versions.values(), key=lambda v: (v.document.document_id, v.document.version)):
        doc = v.document
        if (doc.document_id, doc.version) not in touched and not v.in_force(as_of):
            continue
        rows.append(
            CommitmentRow(
                document=f"{doc.document_id} v{doc.version}",
                kind=doc.kind.value,
                title=doc.title,
                parties=list(doc.parties),
                rule=f"{doc.quorum} of {len(doc.parties)}" if doc.quorum else "all",
                signed_by=sorted(v.signed),
                status=_status(v, as_of),
                adopted_at=v.adopted_at,
            )
        )
    return Commitments(
        documents=count.get(DOCUMENT, 0),
        signatures=count.get(SIGNATURE, 0),
        withdrawals=count.get(WITHDRAWAL, 0),
        implementation_reports=count.get(IMPLEMENTATION_REPORT, 0),
        in_force=sum(1 for r in rows if r.status == "in-force"),
        items=rows,
    )
