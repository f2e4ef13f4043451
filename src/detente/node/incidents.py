"""The incident desk of a node: files, classifies, links and comments on incidents as records in
the party's own log, keeps the search index in step with every log the node holds (its own and
its mirrors), suggests duplicates, and gives the working group its monitoring view.

Rules checked before anything is signed (so nothing half-valid enters a log):

- a report's first stage is ``initial``; later stages are ``update`` or ``final`` of an incident
  this party already reported (only the originator reports its incident: its key is its origin);
- a classification names an incident the node knows and passes its taxonomy's field rules;
- a link joins two known incidents; a confirmation answers a link asserted by another party,
  by a party whose incident the link names;
- a report flagged as critical infrastructure raises an early-warning hotline message to the
  configured parties at once (a thread with its own deadlines).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from detente.errors import LogNotFound, MalformedRecord
from detente.incidents.clocks import ClockState, Filed, regulatory_clocks
from detente.incidents.index import SearchQuery, batch_for, query_terms
from detente.incidents.model import (
    CLASSIFICATION,
    COMMENT,
    INCIDENT,
    LINK,
    LINK_CONFIRMATION,
    Classification,
    Comment,
    IncidentLink,
    IncidentReport,
    LinkConfirmation,
    Severity,
    Stage,
)
from detente.incidents.taxonomy import taxonomy_for
from detente.records.record import TLP, Record
from detente.records.ref import RecordRef
from detente.records.text import BilingualText, LangText
from detente.store.incident_protocol import Hit, IncidentIndex

if TYPE_CHECKING:
    from detente.node.node import Node
    from detente.node.sequencer import Sequenced

__all__ = ["IncidentDesk", "Suggestion"]

log = logging.getLogger(__name__)

_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
        "after",
        "over",
        "into",
        "their",
        "they",
        "been",
        "being",
        "which",
        "who",
        "when",
        "where",
        "while",
        "about",
        "against",
        "than",
        "then",
        "there",
        "these",
        "those",
    ]
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    origin: str
    incident_id: str
    title: str
    score: float
    lexical: float
    semantic: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "incident_id": self.incident_id,
            "title": self.title,
            "score": round(self.score, 4),
            "lexical": round(self.lexical, 4),
            "semantic": None if self.semantic is None else round(self.semantic, 4),
        }


class IncidentDesk:
    def __init__(self, node: Node, index: IncidentIndex, *, early_warning_to: tuple[str, ...] = ()) -> None:
        self.node = node
        self.index = index
        self.early_warning_to = early_warning_to
        self._lock = threading.Lock()
        self._embedder: Any = None
        self._embedder_checked = False
        self._vectors: dict[tuple[str, str], Any] = {}

    # --- keeping the index in step ----------------------------------------------------------

    def catch_up(self) -> int:
        """Index every new record of every log this node holds; returns how many records were read.
        A cursor per log moves only after its rows are committed (a replay changes nothing)."""
        read = 0
        with self._lock:
            logs = [self.node.log] + [self.node.mirror(row) for row in self.node.state.peers()]
            for tlog in logs:
                name = f"incidents:{tlog.origin}"
                start = self.node.state.get_cursor(name)
                size = tlog.size if tlog is self.node.log else tlog.refresh().size
                for begin in range(start, size, 1000):
                    end = min(begin + 1000, size)
                    items = [(x.origin, x.index, x.leaf_hash, x.record) for x in self.node.logged(tlog, begin, end)]
                    self.index.apply(batch_for(items))
                    self.node.state.set_cursor(name, end)
                    read += end - begin
        return read

    # --- writing ----------------------------------------------------------------------------

    def _append(
        self, record_type: str, body: dict[str, Any], *, tlp: TLP, refs: tuple[RecordRef, ...] = ()
    ) -> Sequenced:
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        record = Record(type=record_type, party=self.node.identity.name, issued=now, body=body, refs=refs, tlp=tlp)
        return self.node.append(record)

    def check_report(self, report: IncidentReport) -> None:
        me = self.node.identity.name
        known = self.index.get(me, report.incident_id)
        if report.stage == Stage.INITIAL and known is not None:
            raise MalformedRecord(
                f"incident {report.incident_id} is already reported by {me}",
                hint="file the new information as stage 'update' (or 'final')",
            )
        if report.stage != Stage.INITIAL and known is None:
            raise MalformedRecord(
                f"no incident {report.incident_id} reported by {me} to {report.stage.value}",
                hint="file its first report with stage 'initial'",
            )

    def file(self, report: IncidentReport, *, tlp: TLP = TLP.CLEAR) -> tuple[Sequenced, RecordRef | None]:
        """File one stage; returns its position and, for a critical-infrastructure report, the
        early-warning hotline message it raised."""
        self.catch_up()
        self.check_report(report)
        seq = self._append(INCIDENT, report.model_dump(mode="json", exclude_defaults=True), tlp=tlp)
        self.catch_up()
        warning = None
        if report.critical_infrastructure and report.stage == Stage.INITIAL:
            warning = self._early_warning(report, seq)
        return seq, warning

    def _early_warning(self, report: IncidentReport, seq: Sequenced) -> RecordRef | None:
        to = self.early_warning_to or tuple(sorted(s.origin for s in self.node.peers.values()))
        if not to:
            return None
        subject = RecordRef(
            origin=self.node.identity.name, index=seq.index, leaf_hash=seq.leaf_hash.hex(), rel="early-warning-for"
        )
        title = report.title

        def prefix(lang: str) -> str:
            return "预警：" if lang.startswith("zh") else "Early warning: "

        text = BilingualText(
            original=LangText(lang=title.original.lang, text=prefix(title.original.lang) + title.original.text),
            translations={lang: prefix(lang) + t for lang, t in title.translations.items()},
        )
        body = {
            "priority": "flash" if report.severity == Severity.CRITICAL else "immediate",
            "topic": "critical-infrastructure-early-warning",
            "sector": (report.sectors[0] if report.sectors else "")[:128],
        }
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        record = Record(
            type="detente.dev/hotline-message/v1",
            party=self.node.identity.name,
            issued=now,
            to=to,
            body=body,
            text=text,
            refs=(subject,),
        )
        warned = self.node.append(record)
        return RecordRef(origin=self.node.identity.name, index=warned.index, leaf_hash=warned.leaf_hash.hex())

    def _known(self, origin: str, incident_id: str) -> Hit:
        self.catch_up()
        hit = self.index.get(origin, incident_id)
        if hit is None:
            raise LogNotFound(
                f"no incident {origin}#{incident_id} in this node's logs",
                hint="check the key, or wait for the reporting party's log to sync",
            )
        return hit

    def classify(self, classification: Classification, *, tlp: TLP = TLP.CLEAR) -> Sequenced:
        self._known(classification.incident.origin, classification.incident.id)
        taxonomy_for(classification.namespace, classification.taxonomy_version).check(classification.attributes)
        seq = self._append(CLASSIFICATION, classification.model_dump(mode="json"), tlp=tlp)
        self.catch_up()
        return seq

    def link(self, link: IncidentLink, *, tlp: TLP = TLP.CLEAR) -> Sequenced:
        self._known(link.source.origin, link.source.id)
        self._known(link.target.origin, link.target.id)
        seq = self._append(LINK, link.model_dump(mode="json"), tlp=tlp)
        self.catch_up()
        return seq

    def confirm(self, link_origin: str, link_index: int, confirmation: LinkConfirmation) -> Sequenced:
        self.catch_up()
        me = self.node.identity.name
        found = None
        for item in self.node.logged_at(link_origin, link_index):
            if item.record.type == LINK:
                found = item
        if found is None:
            raise LogNotFound(f"no incident link {link_origin}#{link_index}")
        if link_origin == me:
            raise MalformedRecord("a party does not confirm its own link", hint="the other party confirms it")
        link = IncidentLink.model_validate(found.record.body)
        if me not in (link.source.origin, link.target.origin):
            raise MalformedRecord(
                f"the link joins incidents of {link.source.origin} and {link.target.origin}; {me} reported neither",
                hint="a link is confirmed by a party whose incident it names",
            )
        ref = RecordRef(origin=link_origin, index=link_index, leaf_hash=found.leaf_hash, rel="confirms")
        seq = self._append(LINK_CONFIRMATION, confirmation.model_dump(mode="json"), tlp=TLP.CLEAR, refs=(ref,))
        self.catch_up()
        return seq

    def comment(self, comment: Comment, *, tlp: TLP = TLP.CLEAR) -> Sequenced:
        self._known(comment.incident.origin, comment.incident.id)
        seq = self._append(COMMENT, comment.model_dump(mode="json"), tlp=tlp)
        self.catch_up()
        return seq

    def import_records(
        self,
        reports: list[IncidentReport],
        classifications: list[Classification],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> dict[str, Any]:
        """Append what is not there yet (idempotent by incident id, and by classifier, incident,
        namespace and version); every record is validated before any is signed."""
        self.catch_up()
        me = self.node.identity.name
        skipped: list[dict[str, str]] = []
        new_reports = []
        for r in reports:
            if self.index.get(me, r.incident_id) is not None:
                skipped.append({"id": r.incident_id, "reason": "already imported"})
            else:
                new_reports.append(r)
        ids = {r.incident_id for r in new_reports}
        new_classes = []
        for c in classifications:
            if c.incident.origin == me and c.incident.id not in ids and self.index.get(me, c.incident.id) is None:
                skipped.append({"id": f"{c.namespace}:{c.incident.id}", "reason": "its incident is not known"})
                continue
            mine = [x for x in self.index.classifications(c.incident.origin, c.incident.id) if x["by"] == me]
            if any(x["namespace"] == c.namespace and x["taxonomy_version"] == c.taxonomy_version for x in mine):
                skipped.append({"id": f"{c.namespace}:{c.incident.id}", "reason": "already imported"})
                continue
            taxonomy_for(c.namespace, c.taxonomy_version).check(c.attributes)
            new_classes.append(c)
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        records = [
            Record(type=INCIDENT, party=me, issued=now, body=r.model_dump(mode="json", exclude_defaults=True))
            for r in new_reports
        ] + [Record(type=CLASSIFICATION, party=me, issued=now, body=c.model_dump(mode="json")) for c in new_classes]
        self.node.append_many(records, progress=progress)
        self.catch_up()
        return {"reports": len(new_reports), "classifications": len(new_classes), "skipped": skipped}

    # --- reading ----------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> dict[str, Any]:
        self.catch_up()
        page = self.index.search(query)
        return {"total": page.total, "hits": [h.as_dict() for h in page.hits]}

    def show(self, origin: str, incident_id: str) -> dict[str, Any]:
        hit = self._known(origin, incident_id)
        stages = self.index.stages(origin, incident_id)
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        filed = [Filed(datetime.fromisoformat(s["issued"]), IncidentReport.model_validate(s["report"])) for s in stages]
        return {
            **hit.as_dict(with_body=True),
            "stages": stages,
            "clocks": [c.as_dict() for c in regulatory_clocks(filed, now)],
            "classifications": self.index.classifications(origin, incident_id),
            "links": self.index.links(origin, incident_id),
            "comments": self.index.comments(origin, incident_id),
        }

    def _embed(self, texts: list[str]) -> Any:
        if not self._embedder_checked:
            try:
                from detente.incidents.embed import load_embedder
            except ImportError:  # the optional module itself failed: lexical suggestions only
                self._embedder = None
            else:
                self._embedder = load_embedder()
            self._embedder_checked = True
        return None if self._embedder is None else self._embedder.encode(texts)

    def _vectors_for(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        missing = [k for k in keys if k not in self._vectors]
        if missing:
            texts = self.index.texts(missing)
            order = [k for k in missing if k in texts]
            vectors = self._embed([texts[k] for k in order])
            if vectors is None:
                return {}
            self._vectors.update(zip(order, vectors, strict=True))
        return {k: self._vectors[k] for k in keys if k in self._vectors}

    def suggest(
        self, report: IncidentReport, *, exclude: tuple[str, str] | None = None, limit: int = 5
    ) -> list[Suggestion]:
        """Possible duplicates of ``report`` among the indexed incidents: lexical candidates (any of
        the report's salient words, BM25) and, where the embedding model is installed, semantic
        candidates (cosine over all-MiniLM-L6-v2 vectors), ranked by the mean of word-set overlap
        and cosine. Never links anything: an operator confirms."""
        self.catch_up()
        text = f"{report.title.original.text}. {report.description.original.text}"
        words = _salient(text)
        candidates: dict[tuple[str, str], Hit] = {}
        if words:
            page = self.index.search(SearchQuery(q=" ".join(words[:40]), match="any", limit=30))
            candidates.update({(h.origin, h.incident_id): h for h in page.hits})
        semantic: dict[tuple[str, str], float] = {}
        query_vec = self._embed([text])
        if query_vec is not None:
            import numpy as np

            keys = self.index.keys()
            vectors = self._vectors_for(keys)
            if vectors:
                order = list(vectors)
                sims = np.stack([vectors[k] for k in order]) @ query_vec[0]
                for i in np.argsort(-sims)[:30]:
                    semantic[order[int(i)]] = float(sims[int(i)])
                for k in semantic:
                    if k not in candidates:
                        hit = self.index.get(*k)
                        if hit is not None:
                            candidates[k] = hit
                for k in candidates:
                    if k not in semantic and k in vectors:
                        semantic[k] = float(vectors[k] @ query_vec[0])
        mine = set(words)
        out = []
        texts = self.index.texts(list(candidates))
        for key, hit in candidates.items():
            if key == exclude:
                continue
            theirs = set(_salient(texts.get(key, hit.title)))
            lexical = len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0
            sem = semantic.get(key)
            score = lexical if sem is None else (lexical + max(sem, 0.0)) / 2
            out.append(Suggestion(key[0], key[1], hit.title, score, lexical, sem))
        out.sort(key=lambda s: (-s.score, s.origin, s.incident_id))
        return out[:limit]

    def similar(self, origin: str, incident_id: str, *, limit: int = 5) -> list[Suggestion]:
        hit = self._known(origin, incident_id)
        return self.suggest(IncidentReport.model_validate(hit.body), exclude=(origin, incident_id), limit=limit)

    def working_group(self) -> dict[str, Any]:
        """Counts and trends by harm type, sector, severity, category, party and year; the
        regulatory clocks still open or missed; the latest critical-infrastructure incidents."""
        self.catch_up()
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        clocks = []
        for regime in ("EU", "CN", "US-CA", "US-NY"):
            for hit in self.index.search(SearchQuery(jurisdiction=regime, limit=500)).hits:
                stages = self.index.stages(hit.origin, hit.incident_id)
                filed = [
                    Filed(datetime.fromisoformat(s["issued"]), IncidentReport.model_validate(s["report"]))
                    for s in stages
                ]
                for c in regulatory_clocks(filed, now):
                    if c.regime == regime and c.state in (ClockState.OPEN, ClockState.MISSED, ClockState.WAITING):
                        clocks.append({"origin": hit.origin, "incident_id": hit.incident_id, **c.as_dict()})
        critical = self.index.search(SearchQuery(critical_infrastructure=True, limit=20))
        return {
            "as_of": now.isoformat(),
            "by": {f: self.index.counts(f) for f in ("harm_type", "sector", "severity", "category", "party", "year")},
            "open_clocks": clocks,
            "critical_infrastructure": {"total": critical.total, "latest": [h.as_dict() for h in critical.hits]},
        }


def _salient(text: str) -> list[str]:
    seen: dict[str, None] = {}
    for t in query_terms(text):
        if t not in _STOP and (len(t) > 2 or not t.isascii()):
            seen.setdefault(t, None)
    return list(seen)
