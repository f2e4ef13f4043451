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
  configured parties at once (a thread with its own deadlines);
- a report marked TLP:AMBER, AMBER+STRICT or RED names its recipients, each with a published
  encryption key: it is sealed to them (``docs/sealed.md``), indexed only in the sealed indexes of
  the nodes it is sealed to (:mod:`detente.node.sealed_incidents`), read there by the roles
  :data:`~detente.node.sealing.READERS` allows, and its early warning is sealed the same way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from detente._internal.origins import resolve_origin
from detente.errors import LogNotFound, MalformedRecord, StorageError, UnknownRecipient
from detente.incidents.clocks import ClockState, Consideration, Filed, considered, regulatory_clocks, summarise
from detente.incidents.index import SearchQuery, batch_for
from detente.incidents.model import (
    CLASSIFICATION,
    COMMENT,
    INCIDENT,
    LINK,
    LINK_CONFIRMATION,
    Classification,
    Comment,
    IncidentKey,
    IncidentLink,
    IncidentReport,
    LinkConfirmation,
    Severity,
    Stage,
)
from detente.incidents.regimes import regime_ids
from detente.incidents.similarity import Suggester, Suggestion
from detente.incidents.stix import export_bundle, import_bundle, within_tlp
from detente.incidents.taxonomy import taxonomy_for
from detente.node.desk import is_well_formed
from detente.node.party import Party
from detente.node.sealed_incidents import TIERS, SealedIncidents, tier_of
from detente.node.sealing import READERS
from detente.records.record import TLP, Record
from detente.records.ref import RecordRef
from detente.records.sealing import RESTRICTED
from detente.records.text import BilingualText, LangText
from detente.store.incident_protocol import Hit, IncidentIndex

if TYPE_CHECKING:
    from detente.node.sequencer import Sequenced

__all__ = ["REVERSE_POOL", "IncidentDesk", "Suggestion"]

REVERSE_POOL = 4
"""``similar`` asks this many times ``limit`` candidates whether their own suggestions list the
incident (the reverse direction, for symmetric suggestions)."""

log = logging.getLogger(__name__)

_ANY_ROLE = frozenset({"viewer", "officer", "admin"})
"""Who may read an open (TLP:CLEAR, TLP:GREEN) incident at this node."""


class IncidentDesk:
    def __init__(
        self,
        node: Party,
        index: IncidentIndex,
        *,
        early_warning_to: tuple[str, ...] = (),
        sealed: SealedIncidents | None = None,
    ) -> None:
        self.node = node
        self.index = index
        self.early_warning_to = early_warning_to
        self.sealed = sealed
        self._lock = threading.Lock()
        self.suggester = Suggester(index)
        if index.rebuilt or (
            sealed is not None and sealed.rebuilt
        ):  # an index in an older format was emptied: replay every log into it
            for origin in [node.identity.name, *(s.origin for s in node.peers.values())]:
                node.state.set_cursor(f"incidents:{origin}", 0)
            log.info("incident index rebuilt from the logs (format %s)", getattr(index, "FORMAT", "?"))

    # --- keeping the index in step ----------------------------------------------------------

    def catch_up(self) -> int:
        """Index every new record of every log this node holds; returns how many records were read.
        A cursor per log moves only after its rows are committed (a replay changes nothing)."""
        read = 0
        with self._lock:
            logs = [self.node.log] + [self.node.mirror(row) for row in self.node.followed()]
            for tlog in logs:
                name = f"incidents:{tlog.origin}"
                start = self.node.state.get_cursor(name)
                size = tlog.size if tlog is self.node.log else tlog.refresh().size
                for begin in range(start, size, 1000):
                    end = min(begin + 1000, size)
                    items = [(x.origin, x.index, x.leaf_hash, x.record) for x in self.node.logged(tlog, begin, end)]
                    self.index.apply(batch_for(items))
                    if self.sealed is not None:  # sealed incidents addressed to this node
                        self.sealed.apply(items)
                    self.node.state.set_cursor(name, end)
                    read += end - begin
        return read

    def _index_appended(self) -> None:
        """Index what was just appended. The record is durable already, so a busy index (a typed
        storage error) does not turn the append into an error: the next read catches up."""
        try:
            self.catch_up()
        except StorageError as exc:
            log.warning("incident index behind after an append: %s", exc.message)

    # --- writing ----------------------------------------------------------------------------

    def _append(
        self,
        record_type: str,
        body: dict[str, Any],
        *,
        tlp: TLP,
        refs: tuple[RecordRef, ...] = (),
        to: tuple[str, ...] = (),
    ) -> Sequenced:
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        record = Record(
            type=record_type, party=self.node.identity.name, issued=now, body=body, refs=refs, tlp=tlp, to=to
        )
        return self.node.append(record)

    def _own(self, incident_id: str) -> Hit | None:
        """This party's incident, open or sealed."""
        me = self.node.identity.name
        found = self.sealed.find("admin", me, incident_id) if self.sealed is not None else None
        return found[1] if found is not None else self.index.get(me, incident_id)

    def check_report(self, report: IncidentReport) -> None:
        me = self.node.identity.name
        known = self._own(report.incident_id)
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

    def file(
        self, report: IncidentReport, *, tlp: TLP = TLP.CLEAR, to: tuple[str, ...] = ()
    ) -> tuple[Sequenced, RecordRef | None]:
        """File one stage; returns its position and, for a critical-infrastructure report, the
        early-warning hotline message it raised. A TLP:AMBER or RED report is sealed to ``to``
        (log origins), and so is its early warning."""
        self.catch_up()
        to = tuple(dict.fromkeys(self.origin_of(p) for p in to))
        self.check_report(report)
        warns = report.critical_infrastructure and report.stage == Stage.INITIAL
        if warns and tlp not in RESTRICTED:  # refused before the report is signed, not after: nothing half-written
            self._check_warned(self._warned())
        if self.sealed is not None:
            self.sealed.check_sendable(tlp, to)
        elif tlp in RESTRICTED:
            raise MalformedRecord(f"this node cannot seal a {tlp.value} incident", hint="mark it TLP:CLEAR or GREEN")
        seq = self._append(INCIDENT, report.model_dump(mode="json", exclude_defaults=True), tlp=tlp, to=to)
        self._index_appended()
        warning = None
        if warns:
            warning = self._early_warning(report, seq, (to, tlp) if tlp in RESTRICTED else None)
        return seq, warning

    def _warned(self) -> tuple[str, ...]:
        """Who a critical-infrastructure report warns: ``early_warning_to``, or every followed peer."""
        return self.early_warning_to or tuple(sorted(s.origin for s in self.node.peers.values()))

    def _check_warned(self, to: tuple[str, ...]) -> None:
        unknown = [origin for origin in to if self.node.peer_by_origin(origin) is None]
        if unknown:
            raise UnknownRecipient(
                f"early_warning_to names {', '.join(unknown)}, not the log origin of a peer this node follows; "
                "the report was not filed",
                hint="fix early_warning_to in detente.toml (pinned peers' log origins; empty: every peer), "
                "or pin the peer with: detente peer add NAME URL --vkey VKEY",
            )

    def _early_warning(
        self, report: IncidentReport, seq: Sequenced, sealed: tuple[tuple[str, ...], TLP] | None = None
    ) -> RecordRef | None:
        """The early warning of a critical-infrastructure report: to the warned parties, or, for a
        sealed report, sealed like it to its recipients (its title is its content)."""
        to, tlp = sealed if sealed is not None else (self._warned(), TLP.CLEAR)
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
            tlp=tlp,
        )
        warned = self.node.append(record)
        return RecordRef(origin=self.node.identity.name, index=warned.index, leaf_hash=warned.leaf_hash.hex())

    def origin_of(self, written: str) -> str:
        """The full log origin a key's origin part names: as given, its host part (the form
        ``incident search`` prints, ``us.aisi.example``) or a followed peer's short name (``cn``)."""
        names = {name: status.origin for name, status in self.node.peers.items()}
        names[self.node.config.name] = self.node.identity.name
        return resolve_origin(written, self.node.identity.name, names)

    def _key(self, key: IncidentKey) -> IncidentKey:
        """``key`` with its origin in full (a record names incidents by their full key)."""
        origin = self.origin_of(key.origin)
        return key if origin == key.origin else key.model_copy(update={"origin": origin})

    def _known(self, origin: str, incident_id: str, role: str = "officer") -> Hit:
        self.catch_up()
        origin = self.origin_of(origin)
        hit = self.index.get(origin, incident_id)
        if hit is None and self.sealed is not None and self.sealed.find(role, origin, incident_id) is not None:
            raise MalformedRecord(
                f"incident {origin}#{incident_id} is sealed: classifications, links, comments and similarity "
                "are kept for open incidents",
                hint="read it with: detente incident show (officers see TLP:RED, every role TLP:AMBER)",
            )
        if hit is None:
            raise LogNotFound(
                f"no incident {origin}#{incident_id} in this node's logs",
                hint="check the key, or wait for the reporting party's log to sync",
            )
        return hit

    def classify(self, classification: Classification, *, tlp: TLP = TLP.CLEAR) -> Sequenced:
        classification = classification.model_copy(update={"incident": self._key(classification.incident)})
        self._known(classification.incident.origin, classification.incident.id)
        taxonomy_for(classification.namespace, classification.taxonomy_version).check(classification.attributes)
        seq = self._append(CLASSIFICATION, classification.model_dump(mode="json"), tlp=tlp)
        self._index_appended()
        return seq

    def link(self, link: IncidentLink, *, tlp: TLP = TLP.CLEAR) -> Sequenced:
        link = link.model_copy(update={"source": self._key(link.source), "target": self._key(link.target)})
        self._known(link.source.origin, link.source.id)
        self._known(link.target.origin, link.target.id)
        seq = self._append(LINK, link.model_dump(mode="json"), tlp=tlp)
        self._index_appended()
        return seq

    def confirm(self, link_origin: str, link_index: int, confirmation: LinkConfirmation) -> Sequenced:
        self.catch_up()
        link_origin = self.origin_of(link_origin)
        me = self.node.identity.name
        found = None
        for item in self.node.logged_at(link_origin, link_index):
            if item.record.type == LINK and is_well_formed(item):
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
        self._index_appended()
        return seq

    def comment(self, comment: Comment, *, tlp: TLP = TLP.CLEAR) -> Sequenced:
        comment = comment.model_copy(update={"incident": self._key(comment.incident)})
        self._known(comment.incident.origin, comment.incident.id)
        seq = self._append(COMMENT, comment.model_dump(mode="json"), tlp=tlp)
        self._index_appended()
        return seq

    def import_records(
        self,
        reports: list[IncidentReport],
        classifications: list[Classification],
        *,
        progress: Callable[[int], None] | None = None,
        markings: dict[str, TLP] | None = None,
    ) -> dict[str, Any]:
        """Append what is not there yet (idempotent by incident id, and by classifier, incident,
        namespace and version); every record is validated before any is signed. A report passes
        the checks of filing (:meth:`check_report`), the reports before it in the batch counted:
        an incident's first report is its only ``initial`` one, and an ``update`` or ``final``
        follows one; a report that does not is skipped with its reason."""
        self.catch_up()
        me = self.node.identity.name
        skipped: list[dict[str, str]] = []
        new_reports = []
        ids: set[str] = set()  # the incidents this batch reports
        for r in reports:
            if self._own(r.incident_id) is not None:
                skipped.append({"id": r.incident_id, "reason": "already imported"})
            elif r.stage == Stage.INITIAL and r.incident_id in ids:
                skipped.append({"id": r.incident_id, "reason": "its initial report is earlier in this batch"})
            elif r.stage != Stage.INITIAL and r.incident_id not in ids:
                reason = f"no report of incident {r.incident_id} to {r.stage.value}: its first report is 'initial'"
                skipped.append({"id": r.incident_id, "reason": reason})
            else:
                new_reports.append(r)
                ids.add(r.incident_id)
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
            Record(
                type=INCIDENT,
                party=me,
                issued=now,
                body=r.model_dump(mode="json", exclude_defaults=True),
                tlp=(markings or {}).get(r.incident_id, TLP.CLEAR),
            )
            for r in new_reports
        ] + [Record(type=CLASSIFICATION, party=me, issued=now, body=c.model_dump(mode="json")) for c in new_classes]
        self.node.append_many(records, progress=progress)
        self.catch_up()
        return {"reports": len(new_reports), "classifications": len(new_classes), "skipped": skipped}

    def close(self) -> None:
        self.index.close()
        if self.sealed is not None:
            self.sealed.close()

    # --- reading ----------------------------------------------------------------------------

    def _search(self, query: SearchQuery, role: str) -> tuple[list[Hit], list[TLP | None], int, bool]:
        """One page over the open index and the sealed ones ``role`` may read (sealed first), with
        each hit's marking (``None``: open)."""
        if self.sealed is None:
            page = self.index.search(query)
            return page.hits, [None] * len(page.hits), page.total, page.exact
        page, tiers = self.sealed.search(role, query, self.index)
        return page.hits, [self._tlp(h, tier) for h, tier in zip(page.hits, tiers, strict=True)], page.total, page.exact

    def _tlp(self, hit: Hit, tier: str | None) -> TLP | None:
        """The marking of a sealed hit's latest stage (``None`` for an open one)."""
        if tier is None:
            return None
        found = [x.record.tlp for x in self.node.logged_at(hit.origin, hit.latest_index) if x.record.type == INCIDENT]
        return found[0] if found else TIERS[tier]

    def search(self, query: SearchQuery, role: str = "viewer") -> dict[str, Any]:
        """A search over the open incidents and the sealed ones an operator of ``role`` may read
        (those first, each with its ``tlp``)."""
        self.catch_up()
        hits, tlps, total, exact = self._search(query, role)
        return {
            "total": total,
            "total_exact": exact,
            "hits": [h.as_dict() | ({"tlp": t.value} if t else {}) for h, t in zip(hits, tlps, strict=True)],
        }

    def show(self, origin: str, incident_id: str, role: str = "viewer") -> dict[str, Any]:
        """One incident, open or sealed (the sealed ones only for the roles that may read them)."""
        self.catch_up()
        found = self.sealed.find(role, self.origin_of(origin), incident_id) if self.sealed is not None else None
        if found is None:
            return self._show(self._known(origin, incident_id, role), self.index)
        tier, hit = found
        tlp = self._tlp(hit, tier)
        return self._show(hit, self.sealed.index(tier)) | {"tlp": tlp.value if tlp else None}  # type: ignore[union-attr]

    def _show(self, hit: Hit, index: IncidentIndex) -> dict[str, Any]:
        origin, incident_id = hit.origin, hit.incident_id
        stages = index.stages(origin, incident_id)
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        filed = [Filed(datetime.fromisoformat(s["issued"]), IncidentReport.model_validate(s["report"])) for s in stages]
        return {
            **hit.as_dict(with_body=True),
            "stages": stages,
            "clocks": [c.as_dict() for c in regulatory_clocks(filed, now)],
            "regimes": [c.as_dict() for c in considered(filed, now)],
            "classifications": index.classifications(origin, incident_id),
            "links": index.links(origin, incident_id),
            "comments": index.comments(origin, incident_id),
        }

    def suggest(
        self, report: IncidentReport, *, exclude: tuple[str, str] | None = None, limit: int = 5
    ) -> list[Suggestion]:
        self.catch_up()
        return self.suggester.suggest(report, exclude=exclude, limit=limit)

    def similar(self, origin: str, incident_id: str, *, limit: int = 5, role: str = "viewer") -> list[Suggestion]:
        """Possible duplicates of an incident: its own ``limit`` nearest, then, so that suggestions
        are symmetric, every further candidate (among its nearest ``REVERSE_POOL`` × ``limit``)
        whose own suggestions list this incident (filing B suggested A: A's list shows B)."""
        hit = self._known(origin, incident_id, role)
        key = (hit.origin, hit.incident_id)
        wide = self.suggest(IncidentReport.model_validate(hit.body), exclude=key, limit=REVERSE_POOL * limit)
        found = wide[:limit]
        for candidate in wide[limit:]:
            other = self.index.get(candidate.origin, candidate.incident_id)
            if other is None:
                continue
            theirs = self.suggester.suggest(
                IncidentReport.model_validate(other.body), exclude=(other.origin, other.incident_id), limit=limit
            )
            if any((s.origin, s.incident_id) == key for s in theirs):
                found.append(candidate)
        return found

    def _index_for(self, tlp: TLP | None) -> IncidentIndex:
        tier = tier_of(tlp) if tlp is not None else None
        return self.sealed.index(tier) if tier is not None and self.sealed is not None else self.index

    def export_stix(self, query: SearchQuery, role: str = "viewer") -> dict[str, Any]:
        """The incidents a search finds (every page of it, up to 5,000), with the links among
        them, as a STIX 2.1 bundle: the open ones and the sealed ones ``role`` may read, each
        marked with its TLP; nothing beyond what ``role`` may read leaves (:func:`within_tlp`)."""
        self.catch_up()
        keys: list[tuple[str, str, TLP | None]] = []
        offset = 0
        while len(keys) < 5000:
            hits, tlps, total, _ = self._search(query.model_copy(update={"limit": 500, "offset": offset}), role)
            keys += [(h.origin, h.incident_id, t) for h, t in zip(hits, tlps, strict=True)]
            offset += 500
            if offset >= total:
                break
        incidents = []
        links: dict[tuple[str, int], tuple[str, IncidentLink, datetime]] = {}
        wanted = {(origin, ident) for origin, ident, _ in keys}
        for origin, ident, marking in keys:
            index = self._index_for(marking)
            stages = index.stages(origin, ident)
            latest = stages[-1]
            tlp = next(
                (x.record.tlp for x in self.node.logged_at(origin, latest["index"]) if x.record.type == INCIDENT),
                TLP.CLEAR,
            )
            report = IncidentReport.model_validate(latest["report"])
            incidents.append((origin, report, tlp, datetime.fromisoformat(latest["issued"])))
            for link in index.links(origin, ident):
                ends = {
                    (link["source"]["origin"], link["source"]["id"]),
                    (link["target"]["origin"], link["target"]["id"]),
                }
                if ends <= wanted:
                    body = IncidentLink.model_validate({k: link[k] for k in ("source", "target", "relation", "note")})
                    links[(link["asserted_by"], link["index"])] = (
                        link["asserted_by"],
                        body,
                        datetime.fromisoformat(link["issued"]),
                    )
        readable, joined = within_tlp(incidents, list(links.values()), lambda t: role in READERS.get(t, _ANY_ROLE))
        return export_bundle(readable, joined)

    def import_stix(self, data: bytes) -> dict[str, Any]:
        """File the incidents of a STIX 2.1 bundle as this party's reports (those another detente
        party reported are skipped: its own log carries them), and its links among known incidents."""
        me = self.node.identity.name
        parsed = import_bundle(data, default_origin=me)
        skipped = [{"id": i, "reason": r} for i, r in parsed.skipped]
        mine = []
        markings: dict[str, TLP] = {}
        for origin, report, tlp in parsed.incidents:
            if origin != me:
                skipped.append({"id": report.incident_id, "reason": f"reported by {origin}; its own log carries it"})
            elif tlp not in (TLP.CLEAR, TLP.GREEN):
                skipped.append(
                    {"id": report.incident_id, "reason": f"marked {tlp.value}: a party log is read by every peer"}
                )
            else:
                mine.append(report)
                markings[report.incident_id] = tlp
        result = self.import_records(mine, [], markings=markings)
        links = 0
        for asserted_by, link in parsed.links:
            try:
                if asserted_by != me:
                    raise MalformedRecord(f"asserted by {asserted_by}; its own log carries it")
                existing = self.index.links(link.source.origin, link.source.id)
                if any(
                    x["asserted_by"] == me and x["relation"] == link.relation.value
                    and (x["target"]["origin"], x["target"]["id"]) == (link.target.origin, link.target.id)
                    for x in existing
                ):  # fmt: skip
                    raise MalformedRecord("already linked")
                self.link(link)
                links += 1
            except (LogNotFound, MalformedRecord) as exc:
                skipped.append({"id": f"{link.source} {link.relation.value} {link.target}", "reason": exc.message})
        return {"reports": result["reports"], "links": links, "skipped": result["skipped"] + skipped}

    def working_group(self, role: str = "viewer") -> dict[str, Any]:
        """Counts and trends by harm type, sector, severity, category, party and year; what
        officials must still do (the regulatory clocks still open or missed, soonest due first, each
        with its obligation); which reporting regimes were considered and why each did or did not
        apply (:func:`detente.incidents.clocks.summarise`); the latest critical-infrastructure
        incidents. The sealed incidents ``role`` may read are counted apart (``sealed``, by marking)
        and their clocks listed with their ``tlp``."""
        self.catch_up()
        now = datetime.fromtimestamp(self.node.clock(), UTC)
        clocks: list[dict[str, Any]] = []
        considerations: list[Consideration] = []
        seen: set[tuple[str, str]] = set()
        sources: list[tuple[str | None, IncidentIndex]] = [(None, self.index)]
        sources += list(self.sealed.sources(role)) if self.sealed is not None else []
        for (tier, index), regime in ((src, r) for src in sources for r in sorted(regime_ids())):
            for hit in index.search(SearchQuery(jurisdiction=regime, limit=500)).hits:
                if (hit.origin, hit.incident_id) in seen:
                    continue
                seen.add((hit.origin, hit.incident_id))
                marking = {"tlp": TIERS[tier].value} if tier else {}
                stages = index.stages(hit.origin, hit.incident_id)
                filed = [
                    Filed(datetime.fromisoformat(s["issued"]), IncidentReport.model_validate(s["report"]))
                    for s in stages
                ]
                for consideration in considered(filed, now):
                    considerations.append(consideration)
                    for c in consideration.clocks:
                        if c.state in (ClockState.OPEN, ClockState.MISSED):
                            clocks.append(
                                {"origin": hit.origin, "incident_id": hit.incident_id, **c.as_dict(), **marking}
                            )
        clocks.sort(key=lambda c: (str(c["due"]), c["origin"], c["incident_id"], c["regime"], c["name"]))
        critical = self.index.search(SearchQuery(critical_infrastructure=True, limit=20))
        return {
            "as_of": now.isoformat(),
            "by": {f: self.index.counts(f) for f in ("harm_type", "sector", "severity", "category", "party", "year")},
            "open_clocks": clocks,
            "regimes": summarise(considerations),
            "critical_infrastructure": {"total": critical.total, "latest": [h.as_dict() for h in critical.hits]},
            "sealed": {
                TIERS[tier].value: {
                    "total": index.search(SearchQuery(limit=1)).total,
                    "by": {f: index.counts(f) for f in ("harm_type", "sector", "severity", "category", "party")},
                    "critical_infrastructure": [
                        h.as_dict() for h in index.search(SearchQuery(critical_infrastructure=True, limit=20)).hits
                    ],
                }
                for tier, index in sources
                if tier is not None
            },
        }
