"""The commitments desk of a node: draft documents, co-sign exact versions, withdraw, report on
implementation, and keep a bilingual glossary; all as records in the party's own log, checked
before they are signed:

- a draft names its drafter among its parties, and a new version supersedes a lower one;
- a signature names the exact digest of a version this node holds, by a party the version names
  (signing a digest that is not that version's is refused: no one signs text they have not seen);
- a withdrawal or an implementation report comes from a party of an adopted document.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from detente.commitments.ledger import Ledger, Version, diff, render
from detente.commitments.model import (
    DOCUMENT,
    GLOSSARY,
    IMPLEMENTATION_REPORT,
    SIGNATURE,
    WITHDRAWAL,
    CommitmentDocument,
    CommitmentSignature,
    DocumentKind,
    GlossaryDefinition,
    ImplementationReport,
    Withdrawal,
    document_digest,
)
from detente.errors import LogNotFound, MalformedRecord
from detente.node.desk import Desk, well_formed
from detente.protocol.threads import COMMITMENT_TYPES
from detente.records.ref import RecordRef
from detente.records.text import BilingualText

__all__ = ["CommitmentDesk"]


class CommitmentDesk(Desk):
    def ledger(self) -> Ledger:
        items = [
            (x.origin, x.index, x.leaf_hash, x.record) for x in well_formed(self.node.records_of(COMMITMENT_TYPES))
        ]
        return Ledger.from_records(items)

    def _version(self, ledger: Ledger, document_id: str, version: int) -> Version:
        found = [v for v in ledger.history(document_id) if v.document.version == version]
        if not found:
            raise LogNotFound(
                f"no version {version} of {document_id} in this node's logs", hint="wait for the drafter's log to sync"
            )
        return found[0]

    # --- writing ----------------------------------------------------------------------------

    def draft(self, document: CommitmentDocument) -> dict[str, Any]:
        me = self.node.identity.name
        if me not in document.parties:
            raise MalformedRecord(f"{me} drafts a document it is not a party to", hint="add this party to 'parties'")
        ledger = self.ledger()
        versions = [v.document.version for v in ledger.history(document.document_id)]
        if versions and document.version <= max(versions):
            raise MalformedRecord(
                f"{document.document_id} already has version {max(versions)}",
                hint=f"a new draft is version {max(versions) + 1}",
            )
        digest = document_digest(document)
        seq = self._append(DOCUMENT, document.model_dump(mode="json", exclude_none=True))
        return self._placed(seq, document_id=document.document_id, version=document.version, digest=digest)

    def sign(self, document_id: str, version: int, digest: str) -> dict[str, Any]:
        me = self.node.identity.name
        target = self._version(self.ledger(), document_id, version)
        if digest != target.digest:
            raise MalformedRecord(
                f"{document_id} v{version} has digest {target.digest}, not {digest}",
                hint="read the version you mean to sign (detente commitment show) and sign its digest",
            )
        if me not in target.document.parties:
            raise MalformedRecord(f"{me} is not a party to {document_id}")
        if me in target.signed:
            raise MalformedRecord(f"{me} has already signed {document_id} v{version}")
        body = CommitmentSignature(document_id=document_id, version=version, digest=digest).model_dump()
        ref = RecordRef(origin=target.origin, index=target.index, leaf_hash=target.leaf_hash, rel="signs")
        return self._placed(self._append(SIGNATURE, body, refs=(ref,)), digest=digest)

    def withdraw(
        self, document_id: str, version: int, reason: BilingualText, effective: datetime | None
    ) -> dict[str, Any]:
        target = self._version(self.ledger(), document_id, version)
        if self.node.identity.name not in target.document.parties:
            raise MalformedRecord(f"{self.node.identity.name} is not a party to {document_id}")
        now = self._now()
        if effective is not None and effective.tzinfo is None:
            raise MalformedRecord(f"effective {effective.isoformat()} has no time zone", hint="end it with Z for UTC")
        if effective is not None and effective < now:
            raise MalformedRecord(
                f"effective {effective.isoformat()} is before this withdrawal is issued ({now.isoformat()}): "
                "a withdrawal cannot take effect in the past",
                hint="leave effective out to withdraw from now on, or give a later time",
            )
        body = Withdrawal(document_id=document_id, version=version, effective=effective or now, reason=reason)
        return self._placed(self._append(WITHDRAWAL, body.model_dump(mode="json")))

    def report(self, document_id: str, year: int, report: BilingualText) -> dict[str, Any]:
        ledger = self.ledger()
        adopted = [v for v in ledger.history(document_id) if v.adopted_at is not None]
        if not adopted or not adopted[-1].document.annual_report:
            raise MalformedRecord(f"{document_id} is not an adopted commitment with annual reports")
        body = ImplementationReport(document_id=document_id, year=year, report=report)
        return self._placed(self._append(IMPLEMENTATION_REPORT, body.model_dump(mode="json")))

    def define(self, definition: GlossaryDefinition) -> dict[str, Any]:
        return self._placed(self._append(GLOSSARY, definition.model_dump(mode="json")))

    # --- reading ----------------------------------------------------------------------------

    def _describe(self, v: Version, now: datetime) -> dict[str, Any]:
        doc = v.document
        return {
            "document_id": doc.document_id,
            "version": doc.version,
            "kind": doc.kind.value,
            "title": doc.title.model_dump(mode="json"),
            "digest": v.digest,
            "drafted_by": v.origin,
            "record": {"origin": v.origin, "index": v.index, "leaf_hash": v.leaf_hash},
            "parties": doc.parties,
            "signed_by": sorted(v.signed),
            "quorum": doc.quorum or len(doc.parties),
            "rule": f"{doc.quorum} of {len(doc.parties)}" if doc.quorum else "all",
            "rule_met": v.adopted_at is not None,
            "bound": sorted(v.bound(now)) if v.adopted_at is not None else [],
            "adopted_at": v.adopted_at.isoformat() if v.adopted_at else None,
            "in_force_from": v.start.isoformat() if v.start else None,
            "withdrawn": {"by": v.withdrawn[0], "effective": v.withdrawn[1].isoformat()} if v.withdrawn else None,
            "in_force": v.in_force(now),
        }

    def documents(self) -> list[dict[str, Any]]:
        now = self._now()
        ledger = self.ledger()
        return [
            self._describe(v, now)
            for v in sorted(ledger.versions.values(), key=lambda v: (v.document.document_id, v.document.version))
        ]

    def show(self, document_id: str) -> dict[str, Any]:
        now = self._now()
        history = self.ledger().history(document_id)
        if not history:
            raise LogNotFound(f"no document {document_id} in this node's logs")
        latest = history[-1]
        return {
            "versions": [self._describe(v, now) for v in history],
            "text": render(latest.document),
            "document": latest.document.model_dump(mode="json", exclude_none=True),
            "reports": self._reports(document_id, latest, now),
        }

    def diff(self, document_id: str, old: int, new: int) -> str:
        ledger = self.ledger()
        return diff(self._version(ledger, document_id, old).document, self._version(ledger, document_id, new).document)

    def _reports(self, document_id: str, version: Version, now: datetime) -> list[dict[str, Any]]:
        """Annual implementation reports: each party owes one per year of adoption, due on each
        anniversary; a missing one past its due date is overdue."""
        if not version.document.annual_report or version.start is None:
            return []
        filed: dict[tuple[str, int], datetime] = {}
        for x in self.well_formed(IMPLEMENTATION_REPORT):
            if x.record.body.get("document_id") == document_id:
                filed.setdefault((x.origin, int(x.record.body.get("year", 0))), x.record.issued)
        out = []
        start = version.start
        years = 1
        while start + timedelta(days=365 * years) <= now + timedelta(days=365):
            due = start + timedelta(days=365 * years)
            for party in version.document.parties:
                at = filed.get((party, due.year))
                state = "filed" if at else ("overdue" if now > due else "due")
                out.append({"party": party, "year": due.year, "due": due.isoformat(), "state": state,
                            "filed_at": at.isoformat() if at else None})  # fmt: skip
            years += 1
        return out

    def glossary(self, term: str = "") -> list[dict[str, Any]]:
        """Each term with every party's own definition side by side, and the jointly interpreted
        entries (clauses of adopted glossary documents)."""
        entries: dict[str, dict[str, Any]] = {}
        me = self.node.identity.name
        # this party's own definitions first: a peer's wording of a term fills only the languages
        # this party has not named it in, and never replaces this party's own
        own_first = sorted(self.well_formed(GLOSSARY), key=lambda x: x.origin != me)
        for x in own_first:
            d = GlossaryDefinition.model_validate(x.record.body)
            entry = entries.setdefault(d.term_id, {"term_id": d.term_id, "term": {}, "by_party": {}, "joint": []})
            if x.origin == me:
                entry["term"].update(d.term)
            else:
                for lang, name in d.term.items():
                    entry["term"].setdefault(lang, name)
            entry["by_party"][x.origin] = d.definition.model_dump(mode="json")
        now = self._now()
        for v in self.ledger().in_force(now):
            if v.document.kind == DocumentKind.GLOSSARY:
                for c in v.document.clauses:
                    entry = entries.setdefault(c.id, {"term_id": c.id, "term": {}, "by_party": {}, "joint": []})
                    entry["term"].update(c.term)
                    entry["joint"].append(
                        {"document_id": v.document.document_id, "version": v.document.version,
                         "definition": c.text.model_dump(mode="json"), "parties": v.document.parties}
                    )  # fmt: skip
        wanted = term.lower()
        return [
            e
            for _, e in sorted(entries.items())
            if not wanted or wanted == e["term_id"] or any(wanted in t.lower() for t in e["term"].values())
        ]
