"""Sealed incidents at a recipient's node (``docs/sealed.md``): an incident report, classification,
link or comment marked TLP:AMBER, TLP:AMBER+STRICT or TLP:RED is sealed to its recipients, so the
shared incident index (built from the open bodies of every log) never holds it. At a node it is
sealed to, it is opened with the node's encryption keys and indexed in a **separate index per
marking** (``amber`` for TLP:AMBER and AMBER+STRICT, ``red`` for TLP:RED), each read only for the
operator roles :data:`~detente.node.sealing.READERS` allows: search, show, the working group's
view and a STIX export to such a reader include it, marked; nobody else's answer does.

Where the sealed indexes live: beside the incident index, in their own database (SQLite: the
store's file name with ``-sealed-amber`` / ``-sealed-red`` appended, created mode 0600; PostgreSQL:
the schemas ``<schema>_sealed_amber`` / ``<schema>_sealed_red``). They hold plaintext: they are
as sensitive as the node folder's ``encryption-keys/``.

A sealed record addressed to this node that does not open (altered ciphertext, a key the node does
not hold, a content that does not match its commitment) is not indexed; it is noted with the
SealDesk (:meth:`~detente.node.sealing.SealDesk.note_failure`), which lists it as a finding.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from detente.errors import DetenteError, LogNotFound, MalformedRecord
from detente.incidents.index import INCIDENT_TYPES, IndexBatch, SearchQuery, batch_for
from detente.incidents.model import INCIDENT, IncidentReport
from detente.incidents.similarity import Suggester
from detente.node.sealing import READERS, SealDesk
from detente.records.record import TLP, Record
from detente.records.sealing import RESTRICTED
from detente.store.incident_protocol import Hit, IncidentIndex, SearchPage

if TYPE_CHECKING:
    from detente.node.sequencer import Sequenced

__all__ = ["TIERS", "SealedIncidents", "sealed_index_url", "tier_of"]

TIERS: dict[str, TLP] = {"red": TLP.RED, "amber": TLP.AMBER}
"""The sealed indexes, strictest first, and the marking whose readers may read each."""

_STRICTNESS = {TLP.AMBER: 1, TLP.AMBER_STRICT: 2, TLP.RED: 3}


def tier_of(tlp: TLP) -> str | None:
    """The sealed index a record of this marking goes to (``None``: the open index)."""
    if tlp == TLP.RED:
        return "red"
    if tlp in (TLP.AMBER, TLP.AMBER_STRICT):
        return "amber"
    return None


def sealed_index_url(store_url: str, tier: str) -> str:
    """Where the sealed index ``tier`` lives, beside the store at ``store_url`` (a SQLite file is
    created mode 0600 first, so that its plaintext is never readable by other users)."""
    if store_url.startswith(("postgresql://", "postgres://")):
        conninfo, _, schema = store_url.partition("#")
        return f"{conninfo}#{schema or 'detente'}_sealed_{tier}"
    path = store_url[len("sqlite:///") :] if store_url.startswith("sqlite:///") else store_url
    target = Path(f"{path}-sealed-{tier}")
    if not target.exists():
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
    return str(target)


class SealedIncidents:
    """The sealed incident indexes of one node (opened on first use) and what a role may read."""

    def __init__(self, sealing: SealDesk, open_index: Callable[[str], IncidentIndex]) -> None:
        self.sealing = sealing
        self._open_index = open_index
        self._indexes: dict[str, IncidentIndex] = {}
        self._suggesters: dict[str, Suggester] = {}

    @classmethod
    def beside(cls, sealing: SealDesk, store_url: str, open_index: Callable[[str], IncidentIndex]) -> SealedIncidents:
        """The sealed indexes of the node whose store is at ``store_url`` (:func:`sealed_index_url`)."""
        return cls(sealing, lambda tier: open_index(sealed_index_url(store_url, tier)))

    def check_sendable(self, tlp: TLP, to: tuple[str, ...]) -> None:
        """A restricted incident record names recipients that each published an encryption key
        (refused before anything is signed); this party's own key is published first, so that its
        node reads back what it reported. An open one names none."""
        if tlp not in RESTRICTED:
            if to:
                raise MalformedRecord(
                    f"a {tlp.value} incident is read by every peer: recipients are for TLP:AMBER or TLP:RED",
                    hint="drop --to, or mark it TLP:AMBER, TLP:AMBER+STRICT or TLP:RED",
                )
            return
        self.sealing.check_sendable(tlp, to, "incident", "the report was not filed")

    def index(self, tier: str) -> IncidentIndex:
        if tier not in self._indexes:
            self._indexes[tier] = self._open_index(tier)
        return self._indexes[tier]

    @property
    def rebuilt(self) -> bool:
        """Whether a sealed index was emptied on open (an older format): replay every log."""
        return any(self.index(t).rebuilt for t in TIERS)

    def close(self) -> None:
        for index in self._indexes.values():
            index.close()
        self._indexes.clear()
        self._suggesters.clear()

    # --- indexing ---------------------------------------------------------------------------

    def apply(self, items: list[tuple[str, int, str, Record]]) -> None:
        """Open the sealed incident records among ``items`` that are addressed to this node and
        index each in its marking's index; those that do not open are noted as findings."""
        me = self.sealing.me
        wanted = [
            x
            for x in items
            if x[3].sealed is not None and x[3].type in INCIDENT_TYPES and any(t.party == me for t in x[3].sealed.to)
        ]
        if not wanted:
            return
        keys = self.sealing.private_keys()
        by_tier: dict[str, list[tuple[str, int, str, Record]]] = {}
        for origin, index, leaf, record in wanted:
            tier = tier_of(record.tlp)
            if tier is None:  # a sealed record is always restricted (check_sealed_frame)
                continue
            try:
                opened = self.sealing.read(origin, index, record, keys)
            except DetenteError:
                continue  # noted as a finding by read()
            by_tier.setdefault(tier, []).append((origin, index, leaf, record.model_copy(update={"body": opened.body})))
        for tier, rows in by_tier.items():
            batch = batch_for(rows)
            if len(batch) < len(rows):
                for origin, index, _, _ in rows:
                    if not _indexed(batch, origin, index):
                        self.sealing.note_failure(origin, index, "its opened body does not match its schema")
            self.index(tier).apply(batch)

    # --- classifications, links, comments and suggestions at a recipient ----------------------

    def frame(self, tier: str, hit: Hit) -> tuple[TLP, frozenset[str]]:
        """A sealed incident's marking and its readers (its sender and recipients), from the
        public frame of its latest stage."""
        items = [x for x in self.sealing.records.at(hit.origin, hit.latest_index) if x.record.type == INCIDENT]
        if not items:
            return TIERS[tier], frozenset({hit.origin})
        record = items[0].record
        return record.tlp, frozenset({record.party, *record.to})

    def recipients(self, origin: str, index: int) -> list[str]:
        """Whom the sealed incident record ``origin#index`` is addressed to (its public frame)."""
        return sorted({p for x in self.sealing.records.at(origin, index) for p in x.record.to})

    def marking_for(self, role: str, keys: list[tuple[str, str]], what: str) -> tuple[TLP, tuple[str, ...]] | None:
        """How a classification, link or comment (``what``) about the incidents ``keys`` (full
        origin, incident ID) is marked and to whom it is sealed: ``None`` when none of them is a
        sealed incident ``role`` reads here (an open record, as before); else the strictest marking
        among the sealed ones, sealed to the readers they all share other than this party, so that
        it tells nobody what they were not told. Refused before anything is signed when they share
        no other reader, or one of those published no encryption key."""
        marks = [self.frame(*found) for o, i in keys if (found := self.find(role, o, i)) is not None]
        if not marks:
            return None
        tlp = max((m[0] for m in marks), key=_STRICTNESS.__getitem__)
        shared = frozenset.intersection(*(m[1] for m in marks)) - {self.sealing.me}
        if not shared:
            raise MalformedRecord(
                f"the sealed incidents of this {what} share no reader but this party: sealed to nobody, it would "
                "tell a recipient of one what it was not told of the other",
                hint="classify, link or comment on each incident apart, or link incidents sealed to the same parties",
            )
        to = tuple(sorted(shared))
        self.sealing.check_sendable(tlp, to, what, "nothing was signed")
        return tlp, to

    def send_about(self, record_type: str, body: dict[str, Any], marking: tuple[TLP, tuple[str, ...]]) -> Sequenced:
        """Sign a classification, link or comment about a sealed incident, sealed as ``marking``
        (:meth:`marking_for`); it is indexed, opened, in this node's sealed index of its marking."""
        tlp, to = marking
        return self.sealing.send(record_type, body, tlp, to)

    def suggester(self, tier: str) -> Suggester:
        """Duplicate suggestions over one sealed index: lexical only (no second copy of the
        embedding model; the open index's suggestions keep their semantic signal)."""
        if tier not in self._suggesters:
            self._suggesters[tier] = Suggester(self.index(tier), semantic=False)
        return self._suggesters[tier]

    def similar(
        self, role: str, origin: str, incident_id: str, limit: int, open_suggester: Suggester
    ) -> list[dict[str, Any]] | None:
        """Possible duplicates of the sealed incident ``origin#incident_id`` for an operator of
        ``role`` (``None``: it is not a sealed incident ``role`` reads here): the nearest among the
        sealed indexes ``role`` reads (each with its ``tlp``) and the open index, best first. Its
        content is read here only: no public index is asked to hold it."""
        found = self.find(role, origin, incident_id)
        if found is None:
            return None
        report = IncidentReport.model_validate(found[1].body)
        key = (origin, incident_id)
        scored: list[tuple[float, dict[str, Any]]] = []
        for tier, _ in self.sources(role):
            tlp = TIERS[tier].value
            for s in self.suggester(tier).suggest(report, exclude=key, limit=limit):
                scored.append((s.score, s.as_dict() | {"tlp": tlp}))
        for s in open_suggester.suggest(report, exclude=key, limit=limit):
            scored.append((s.score, s.as_dict()))
        scored.sort(key=lambda x: -x[0])
        return [d for _, d in scored[:limit]]

    def not_here(self, origin: str, incident_id: str) -> LogNotFound:
        """Why ``origin#incident_id`` cannot be classified, linked or compared at this node when it
        holds no such incident: said plainly when ``origin``'s log holds sealed incident records not
        addressed to this node (it is not among their recipients; only their frames are public)."""
        me = self.sealing.me
        count = 0
        for row in self.sealing.records.state.records(origin, sealed=True):  # through the index of sealed records
            if row.type != INCIDENT:
                continue
            try:
                record = Record.from_json(row.record)
            except (DetenteError, ValueError):
                continue
            if record.sealed is not None and all(t.party != me for t in record.sealed.to):
                count += 1
        if not count:
            return LogNotFound(
                f"no incident {origin}#{incident_id} in this node's logs",
                hint="check the key, or wait for the reporting party's log to sync",
            )
        return LogNotFound(
            f"no incident {origin}#{incident_id} that this node can read: {origin} sealed {count} incident "
            "record(s) to other parties, and a sealed incident is classified, linked and compared only at "
            "its recipients' nodes",
            hint="if it is one of those, ask its reporting party to send it to this party (TLP:AMBER or RED "
            "with --to), or act on it from a recipient's node; otherwise check the key",
        )

    # --- reading ----------------------------------------------------------------------------

    def readable(self, role: str) -> list[str]:
        """The sealed indexes an operator of ``role`` may read, strictest first."""
        return [tier for tier, tlp in TIERS.items() if role in READERS[tlp]]

    def sources(self, role: str) -> Iterator[tuple[str, IncidentIndex]]:
        for tier in self.readable(role):
            yield tier, self.index(tier)

    def find(self, role: str, origin: str, incident_id: str) -> tuple[str, Hit] | None:
        """The sealed incident ``origin#incident_id`` and its index, if ``role`` may read it."""
        for tier, index in self.sources(role):
            hit = index.get(origin, incident_id)
            if hit is not None:
                return tier, hit
        return None

    def search(self, role: str, query: SearchQuery, open_index: IncidentIndex) -> tuple[SearchPage, list[str | None]]:
        """A search over the sealed indexes ``role`` may read, then the open one, as one list
        (sealed hits first): the page ``query.offset`` … ``+ query.limit`` of it, with each hit's
        marking tier (``None``: open)."""
        sources: list[tuple[str | None, IncidentIndex]] = [*self.sources(role), (None, open_index)]
        offset, need, total, exact = query.offset, query.limit, 0, True
        hits: list[Hit] = []
        tiers: list[str | None] = []
        for tier, index in sources:
            page = index.search(query.model_copy(update={"offset": offset, "limit": max(need, 1)}))
            total += page.total
            exact = exact and page.exact
            taken = page.hits[:need]
            hits += taken
            tiers += [tier] * len(taken)
            need -= len(taken)
            offset = max(0, offset - page.total)
        return SearchPage(total=total, hits=hits, exact=exact), tiers


def _indexed(batch: IndexBatch, origin: str, index: int) -> bool:
    rows: list[tuple[str, int]] = [(r.origin, r.index) for r in batch.stages]
    rows += [(r.origin, r.index) for r in batch.classifications]
    rows += [(r.origin, r.index) for r in batch.links]
    rows += [(r.origin, r.index) for r in batch.confirmations]
    rows += [(r.origin, r.index) for r in batch.comments]
    return (origin, index) in rows
