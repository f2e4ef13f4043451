"""Which commitments are in force, from the records alone. Pure: logged records in, state out.

- A document version is adopted when every party it names has logged a signature naming its
  exact digest; it is in force from ``effective_from`` or the last signature, whichever is later,
  until a party withdraws it (from the withdrawal's ``effective`` time).
- The latest adopted version of a document supersedes earlier ones from its own start.
- Adopted agreements set the protocol rules for threads between their parties from their start;
  the engine can say which document a deadline comes from.
- A notice in a category that an adopted moratorium halts (its term id, or one of the term's
  labels in an adopted glossary, in either language) is flagged ``moratorium:`` with the clause; a
  notice whose category comes close to a halted term without being it (a relabelling) is flagged
  ``moratorium-review:`` for a human to judge (:mod:`detente.commitments.vocabulary`).
- A notice in the scope of a human-control principle its sender signed (its category among the
  clause's ``scope``) that declares a weaker mode is flagged ``human-control:``; a notice out of
  scope is not checked against it.
- What each control mode means comes from each party's own glossary entries
  (:data:`~detente.commitments.model.CONTROL_MODE_TERMS`, :meth:`Ledger.control_mode`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from detente.commitments.model import (
    CONTROL_MODE_TERMS,
    DOCUMENT,
    GLOSSARY,
    SIGNATURE,
    WITHDRAWAL,
    CommitmentDocument,
    CommitmentSignature,
    DocumentKind,
    GlossaryDefinition,
    Withdrawal,
    control_rank,
    document_digest,
)
from detente.commitments.vocabulary import is_relabelling, matches
from detente.protocol.agreement import Agreement
from detente.records.notices import HumanControlMode
from detente.records.record import Record

__all__ = ["Adopted", "Ledger", "Version", "render"]


@dataclass
class Version:
    document: CommitmentDocument
    digest: str
    origin: str
    index: int
    leaf_hash: str
    signed: dict[str, datetime] = field(default_factory=dict)
    withdrawn: tuple[str, datetime] | None = None

    @property
    def adopted_at(self) -> datetime | None:
        """When its adoption rule was met: every party signed, or the ``quorum``-th signature."""
        times = sorted(self.signed[p] for p in self.document.parties if p in self.signed)
        needed = self.document.quorum or len(self.document.parties)
        return times[needed - 1] if len(times) >= needed else None

    def bound(self, at: datetime) -> set[str]:
        """The parties it binds at ``at``: all of them once adopted by all; under a quorum, those that
        had signed by then."""
        if self.document.quorum is None:
            return set(self.document.parties)
        return {p for p, t in self.signed.items() if t <= at}

    @property
    def start(self) -> datetime | None:
        adopted = self.adopted_at
        if adopted is None:
            return None
        return max(adopted, self.document.effective_from) if self.document.effective_from else adopted

    def in_force(self, at: datetime) -> bool:
        start = self.start
        if start is None or at < start:
            return False
        return self.withdrawn is None or at < self.withdrawn[1]


@dataclass(frozen=True)
class Adopted:
    version: Version
    agreement: Agreement | None


class Ledger:
    def __init__(self) -> None:
        self.versions: dict[str, Version] = {}  # by digest
        self._pending: list[tuple[str, datetime, CommitmentSignature]] = []
        self._withdrawals: list[tuple[str, datetime, Withdrawal]] = []
        self.definitions: dict[tuple[str, str], tuple[datetime, GlossaryDefinition]] = {}
        """Each party's own latest definition of each term, by (party, term id)."""

    @classmethod
    def from_records(cls, items: Iterable[tuple[str, int, str, Record]]) -> Ledger:
        ledger = cls()
        for origin, index, leaf, rec in items:
            ledger.add(origin, index, leaf, rec)
        ledger.settle()
        return ledger

    def add(self, origin: str, index: int, leaf: str, rec: Record) -> None:
        try:
            if rec.type == DOCUMENT:
                doc = CommitmentDocument.model_validate(rec.body)
                if origin not in doc.parties:
                    return  # only a party drafts: a document naming others but not its signer is ignored
                digest = document_digest(doc)
                self.versions.setdefault(digest, Version(doc, digest, origin, index, leaf))
            elif rec.type == SIGNATURE:
                self._pending.append((origin, rec.issued, CommitmentSignature.model_validate(rec.body)))
            elif rec.type == WITHDRAWAL:
                self._withdrawals.append((origin, rec.issued, Withdrawal.model_validate(rec.body)))
            elif rec.type == GLOSSARY:
                definition = GlossaryDefinition.model_validate(rec.body)
                known = self.definitions.get((origin, definition.term_id))
                if known is None or known[0] <= rec.issued:
                    self.definitions[(origin, definition.term_id)] = (rec.issued, definition)
        except ValidationError:
            return  # validated before it was signed; a record that still fails is not counted

    def settle(self) -> None:
        for origin, at, sig in self._pending:
            version = self.versions.get(sig.digest)
            if version is not None and origin in version.document.parties and origin not in version.signed:
                version.signed[origin] = at
        for origin, issued, w in self._withdrawals:
            effective = max(w.effective, issued)  # a withdrawal takes effect no earlier than it is issued
            for version in self.versions.values():
                doc = version.document
                same = doc.document_id == w.document_id and doc.version == w.version and origin in doc.parties
                if same and (version.withdrawn is None or effective < version.withdrawn[1]):
                    version.withdrawn = (origin, effective)
        self._pending, self._withdrawals = [], []

    # --- queries ----------------------------------------------------------------------------

    def history(self, document_id: str) -> list[Version]:
        return sorted(
            (v for v in self.versions.values() if v.document.document_id == document_id),
            key=lambda v: (v.document.version, v.index),
        )

    def in_force(self, at: datetime) -> list[Version]:
        """The latest version of each document that is in force at ``at``."""
        best: dict[str, Version] = {}
        for v in self.versions.values():
            if v.in_force(at):
                current = best.get(v.document.document_id)
                if current is None or v.document.version > current.document.version:
                    best[v.document.document_id] = v
        return sorted(best.values(), key=lambda v: v.document.document_id)

    def agreement_for(self, parties: set[str], at: datetime) -> tuple[Agreement, Version] | None:
        """The adopted agreement in force at ``at`` binding all ``parties`` (the latest to start)."""
        found: list[Version] = [
            v
            for v in self.in_force(at)
            if v.document.kind == DocumentKind.AGREEMENT and parties <= v.bound(at)
        ]
        if not found:
            return None
        version = max(found, key=lambda v: v.start or at)
        data = dict(version.document.agreement or {})
        data.setdefault("agreement_id", version.document.document_id)
        data["version"] = version.document.version
        return Agreement.model_validate(data), version

    def labels(self, term_id: str, at: datetime) -> set[str]:
        """What the term is called, in every language: in the adopted glossary documents in force
        (a clause whose id is the term id) and in each party's own definition."""
        out: set[str] = set()
        for v in self.in_force(at):
            if v.document.kind == DocumentKind.GLOSSARY:
                out |= {t for c in v.document.clauses if c.id == term_id for t in c.term.values()}
        for (_, term), (_, definition) in self.definitions.items():
            if term == term_id:
                out |= set(definition.term.values())
        return out

    def control_mode(self, party: str, mode: HumanControlMode) -> GlossaryDefinition | None:
        """What ``party`` itself says ``mode`` means: its own glossary entry for the mode's term id
        (:data:`~detente.commitments.model.CONTROL_MODE_TERMS`), or ``None`` if it has none."""
        term = CONTROL_MODE_TERMS.get(mode)
        found = self.definitions.get((party, term)) if term else None
        return found[1] if found else None

    def flags(self, sender: str, recipients: set[str], body: dict[str, object], at: datetime) -> list[str]:
        """Findings for a notice: ``moratorium:<document>#<clause>`` when its category is halted by a
        moratorium binding the sender or a recipient (by term id or a label of the term);
        ``moratorium-review:<document>#<clause>`` when its category comes close to a halted term
        without being it; ``human-control:<document>#<clause>`` when the notice is in the scope of
        a principle the sender signed and declares a weaker mode."""
        out: list[str] = []
        category = body.get("category")
        mode = body.get("human_control_mode")
        for v in self.in_force(at):
            doc = v.document
            if doc.kind == DocumentKind.MORATORIUM and isinstance(category, str):
                if ({sender} | recipients) & v.bound(at):
                    out += self._moratorium(doc, category, at)
            elif doc.kind == DocumentKind.PRINCIPLES and isinstance(mode, str) and sender in v.bound(at):
                try:
                    declared = control_rank(HumanControlMode(mode))
                except ValueError:
                    continue
                for c in doc.clauses:
                    if not isinstance(category, str) or category not in c.scope:
                        continue  # out of the principle's scope: not checked against it
                    floor = control_rank(c.min_human_control) if c.min_human_control else None
                    if floor is not None and declared is not None and declared < floor:
                        out.append(f"human-control:{doc.document_id}#{c.id}")
        return out

    def _moratorium(self, doc: CommitmentDocument, category: str, at: datetime) -> list[str]:
        out: list[str] = []
        for c in doc.clauses:
            named = {term: self.labels(term, at) for term in c.categories}
            if any(matches(category, term, labels) for term, labels in named.items()):
                out.append(f"moratorium:{doc.document_id}#{c.id}")
            elif any(is_relabelling(category, term, labels) for term, labels in named.items()):
                out.append(f"moratorium-review:{doc.document_id}#{c.id}")
        return out


def render(document: CommitmentDocument) -> list[str]:
    """The document as lines of text (original and translations), for reading and diffs."""
    lines = [f"# {document.title.original.text}", *[f"# [{k}] {t}" for k, t in document.title.translations.items()]]
    lines.append(f"parties: {', '.join(document.parties)}")
    if document.quorum is not None:
        lines.append(f"adopted when {document.quorum} of {len(document.parties)} have signed")
    if document.effective_from:
        lines.append(f"effective from: {document.effective_from.isoformat()}")
    for c in document.clauses:
        lines.append(f"{c.id}. {c.text.original.text}")
        lines += [f"{c.id}. [{k}] {t}" for k, t in c.text.translations.items()]
        if c.categories:
            lines.append(f"{c.id}. categories: {', '.join(c.categories)}")
        if c.min_human_control:
            lines.append(f"{c.id}. minimum human control: {c.min_human_control.value}")
        if c.scope:
            lines.append(f"{c.id}. scope: {', '.join(c.scope)}")
    return lines


def diff(old: CommitmentDocument, new: CommitmentDocument) -> str:
    """A readable unified diff between two versions of a document."""
    return "\n".join(
        difflib.unified_diff(
            render(old), render(new), f"{old.document_id} v{old.version}", f"{new.document_id} v{new.version}",
            lineterm="",
        )
    )  # fmt: skip
