"""The export-control desk of a node: this party's trusted suppliers, mutual-recognition
arrangements co-signed by the parties, and inadvertent-violation disclosures (the hotline notice,
then the full narrative the protocol engine holds the discloser to).

"Recognized by whom, since when, under which arrangement": a supplier listed by party P is
recognized by party Q from the later of the arrangement's effective date and its last signature,
under every arrangement in force in which Q recognizes P's list (and whose items, when given,
overlap the supplier's), until the arrangement expires or P delists the supplier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from detente.errors import DetenteError, LogNotFound, MalformedRecord
from detente.exportctl.classify import classify
from detente.exportctl.item import Item
from detente.exportctl.records import (
    RECOGNITION,
    RECOGNITION_SIGNATURE,
    RULE_PACK,
    TRUSTED_SUPPLIER,
    VIOLATION_NARRATIVE,
    RecognitionArrangement,
    RecognitionSignature,
    TrustedSupplier,
    ViolationNarrative,
    arrangement_digest,
)
from detente.exportctl.rules import RulePack, builtin_packs, load_pack
from detente.node.desk import Desk, well_formed
from detente.node.records import parsed
from detente.protocol.threads import COMMITMENT_TYPES, PROTOCOL_TYPES, Logged, Thread, evaluate
from detente.records.hotline import HotlineMessage, HotlineTopic, Priority
from detente.records.ref import RecordRef
from detente.records.text import BilingualText

__all__ = ["ExportDesk"]

HOTLINE = "detente.dev/hotline-message/v1"
_VIOLATION = HotlineTopic.INADVERTENT_EXPORT_CONTROL_VIOLATION.value


@dataclass
class _Arrangement:
    item: Logged
    body: RecognitionArrangement
    digest: str
    signed: dict[str, datetime]

    @property
    def needed(self) -> int:
        """Signatures that put it in force: its quorum (k of N), or every party."""
        return self.body.quorum or len(self.body.parties)

    @property
    def complete(self) -> bool:
        return len(set(self.signed) & set(self.body.parties)) >= self.needed

    @property
    def since(self) -> date | None:
        """The day it came into force: its effective date, or the day of the signature that met its rule."""
        if not self.complete:
            return None
        times = sorted(t for p, t in self.signed.items() if p in self.body.parties)
        return max(self.body.effective, times[self.needed - 1].date())

    def recognitions(self) -> list[tuple[str, tuple[str, ...]]]:
        """Who recognizes whose lists under it: only the parties that signed are bound."""
        return [(party, lists) for party, lists in self.body.recognizes.items() if party in self.signed]

    def in_force(self, on: date) -> bool:
        since = self.since
        return since is not None and since <= on and (self.body.expires is None or on < self.body.expires)


class ExportDesk(Desk):
    # --- rule packs and classification -----------------------------------------------------

    def _published_packs(self) -> list[tuple[Logged, RulePack]]:
        """Every rule pack published in the logs this node holds, in log order (malformed ones
        skipped)."""
        out = []
        for x in self.well_formed(RULE_PACK):
            try:
                out.append((x, load_pack(x.record.body)))
            except DetenteError:
                continue
        return out

    def packs(self, as_party: str | None = None) -> list[tuple[RulePack, str]]:
        """The pack in use per regime, with where it came from, for this party's own decisions:
        the built-in pack, replaced by the newest one this party published in its own log.

        A peer's published pack never governs this party's classification, whatever regime it
        names: a rival publishing a ``us-ear`` pack must not make ``us`` call an H100 uncontrolled.
        It is listed (:meth:`all_packs`) and used only when asked to classify as that peer would
        (``as_party``: the peer's short name or log origin)."""
        whose = self.node.identity.name if as_party is None else self._party_origin(as_party)
        chosen: dict[str, tuple[RulePack, str]] = {p.regime: (p, "built-in") for p in builtin_packs()}
        for x, pack in self._published_packs():
            if x.origin == whose:
                chosen[pack.regime] = (pack, f"{x.origin}#{x.index}")
        return [chosen[r] for r in sorted(chosen)]

    def all_packs(self) -> list[dict[str, Any]]:
        """Every pack this node knows: the built-in ones and each published one, with who published
        it and whether it is in use for this party's own classifications."""
        used = {(p.regime, by) for p, by in self.packs()}
        out: list[dict[str, Any]] = [
            {"from": "built-in", "party": "built-in", "in_use": (p.regime, "built-in") in used, "digest": p.digest,
             **p.as_json()}
            for p in builtin_packs()
        ]  # fmt: skip
        for x, pack in self._published_packs():
            at = f"{x.origin}#{x.index}"
            out.append(
                {"from": at, "party": x.origin, "in_use": (pack.regime, at) in used, "digest": pack.digest,
                 **pack.as_json()}
            )  # fmt: skip
        return out

    def _party_origin(self, party: str) -> str:
        origin = self.origin_of(party)
        if origin is None:
            raise LogNotFound(f"no party {party!r} known to this node", hint="name a pinned peer (detente peer list)")
        return origin

    def publish_pack(self, pack: RulePack) -> dict[str, Any]:
        return self._placed(self._append(RULE_PACK, pack.as_json()), digest=pack.digest)

    def classify(
        self,
        item: Item,
        as_of: date | None = None,
        regimes: list[str] | None = None,
        near: float = 0.10,
        *,
        as_party: str | None = None,
        destination: str | None = None,
    ) -> dict[str, Any]:
        """Classify ``item`` with the packs in use (:meth:`packs`); ``as_party``: with the packs
        a peer published instead of this party's own (what that peer would say)."""
        in_use = self.packs(as_party)
        packs = [(p, by) for p, by in in_use if not regimes or p.regime in regimes]
        if regimes and len(packs) != len(set(regimes)):
            known = ", ".join(p.regime for p, _ in in_use)
            raise MalformedRecord(f"unknown regime among {', '.join(regimes)}", hint=f"known: {known}")
        result = classify(item, [p for p, _ in packs], as_of or self._now().date(), near=near, destination=destination)
        return {
            **result.as_dict(),
            "text": result.as_text(),
            "as_party": None if as_party is None else self._party_origin(as_party),
            "packs": [{"regime": p.regime, "version": p.version, "digest": p.digest, "from": by} for p, by in packs],
        }

    # --- trusted suppliers ------------------------------------------------------------------

    def list_supplier(self, supplier: TrustedSupplier) -> dict[str, Any]:
        return self._placed(self._append(TRUSTED_SUPPLIER, supplier.model_dump(mode="json")))

    def suppliers(self) -> list[dict[str, Any]]:
        """Every party's suppliers, newest status per (party, supplier id). The listing party is
        the log the record sits in (its signer), never a field of the body; malformed records are
        skipped."""
        latest: dict[tuple[str, str], tuple[Logged, TrustedSupplier]] = {}
        for x in self.well_formed(TRUSTED_SUPPLIER):
            body = TrustedSupplier.model_validate(x.record.body)
            latest[(x.origin, body.supplier_id)] = (x, body)
        return [
            {**body.model_dump(mode="json"), "party": party, "index": x.index, "issued": x.record.issued.isoformat()}
            for (party, _), (x, body) in sorted(latest.items())
        ]

    # --- mutual recognition -----------------------------------------------------------------

    def _arrangements(self) -> dict[tuple[str, int], _Arrangement]:
        out: dict[tuple[str, int], _Arrangement] = {}
        signatures: list[Logged] = []
        for x in well_formed(self.node.records_of([RECOGNITION, RECOGNITION_SIGNATURE])):
            if x.record.type == RECOGNITION:
                body = RecognitionArrangement.model_validate(x.record.body)
                if x.origin not in body.parties:
                    continue  # only a party proposes
                key = (body.arrangement_id, body.version)
                if key not in out:  # the first proposal of a version stands
                    out[key] = _Arrangement(x, body, arrangement_digest(body), {x.origin: x.record.issued})
            elif x.record.type == RECOGNITION_SIGNATURE:
                signatures.append(x)
        for s in signatures:
            sig = RecognitionSignature.model_validate(s.record.body)
            found = out.get((sig.arrangement_id, sig.version))
            if found and sig.digest == found.digest and s.origin in found.body.parties:
                found.signed.setdefault(s.origin, s.record.issued)
        return out

    def propose(self, arrangement: RecognitionArrangement) -> dict[str, Any]:
        me = self.node.identity.name
        if me not in arrangement.parties:
            raise MalformedRecord(f"{me} proposes an arrangement it is not a party to", hint="add it to 'parties'")
        have = self._arrangements()
        if (arrangement.arrangement_id, arrangement.version) in have:
            newest = max(v for a, v in have if a == arrangement.arrangement_id)
            raise MalformedRecord(
                f"{arrangement.arrangement_id} version {arrangement.version} exists",
                hint=f"propose version {newest + 1}",
            )
        seq = self._append(RECOGNITION, arrangement.model_dump(mode="json"))
        return self._placed(seq, digest=arrangement_digest(arrangement))

    def sign(self, arrangement_id: str, version: int, digest: str) -> dict[str, Any]:
        me = self.node.identity.name
        found = self._arrangements().get((arrangement_id, version))
        if found is None:
            raise LogNotFound(f"no arrangement {arrangement_id} v{version} in this node's logs", hint="wait for sync")
        if digest != found.digest:
            raise MalformedRecord(
                f"{arrangement_id} v{version} has digest {found.digest}, not {digest}",
                hint="read the arrangement (detente exportctl recognition list) and sign its digest",
            )
        if me not in found.body.parties:
            raise MalformedRecord(f"{me} is not a party to {arrangement_id}")
        if me in found.signed:
            raise MalformedRecord(f"{me} has already signed {arrangement_id} v{version}")
        body = RecognitionSignature(arrangement_id=arrangement_id, version=version, digest=digest)
        ref = RecordRef(origin=found.item.origin, index=found.item.index, leaf_hash=found.item.leaf_hash, rel="signs")
        return self._placed(self._append(RECOGNITION_SIGNATURE, body.model_dump(), refs=(ref,)), digest=digest)

    def arrangements(self) -> list[dict[str, Any]]:
        today = self._now().date()
        return [
            {
                "arrangement_id": a.body.arrangement_id,
                "version": a.body.version,
                "proposed_by": a.item.origin,
                "digest": a.digest,
                "parties": list(a.body.parties),
                "signed": {p: t.isoformat() for p, t in a.signed.items()},
                "rule": f"{a.body.quorum} of {len(a.body.parties)}" if a.body.quorum else "all",
                "rule_met": a.complete,
                "in_force_since": a.since.isoformat() if a.since else None,
                "in_force": a.in_force(today),
                **a.body.model_dump(mode="json", exclude={"arrangement_id", "version", "parties"}),
            }
            for a in self._arrangements().values()
        ]

    def recognized(self, supplier_id: str = "", on: date | None = None) -> list[dict[str, Any]]:
        """For each listed supplier (or one): who recognizes it, since when, under which arrangement."""
        on = on or self._now().date()
        arrangements = [a for a in self._arrangements().values() if a.in_force(on)]
        out = []
        for s in self.suppliers():
            if (supplier_id and s["supplier_id"] != supplier_id) or s["status"] != "listed":
                continue
            if date.fromisoformat(s["effective"]) > on:
                continue
            by = []
            for a in arrangements:
                covered = not a.body.items or not s["items"] or set(a.body.items) & set(s["items"])
                for party, lists in a.recognitions():
                    if s["party"] in lists and covered:
                        since = max(a.since or on, date.fromisoformat(s["effective"]))
                        by.append(
                            {
                                "party": party,
                                "since": since.isoformat(),
                                "arrangement": f"{a.body.arrangement_id} v{a.body.version}",
                                "digest": a.digest,
                            }
                        )
            out.append(
                {"supplier_id": s["supplier_id"], "name": s["name"], "listed_by": s["party"], "recognized_by": by}
            )
        return out

    # --- inadvertent-violation disclosures --------------------------------------------------

    def disclose(
        self, to: tuple[str, ...], text: BilingualText, priority: Priority = Priority.IMMEDIATE
    ) -> dict[str, Any]:
        """The initial notice, through the hotline, as soon as possible."""
        if not to:
            raise MalformedRecord("a disclosure names the parties it goes to", hint="give the peers' log origins")
        body = HotlineMessage(priority=priority, topic=HotlineTopic.INADVERTENT_EXPORT_CONTROL_VIOLATION)
        seq = self._append(HOTLINE, body.model_dump(mode="json", exclude_none=True), to=to, text=text)
        return self._placed(seq)

    def narrate(self, index: int, narrative: ViolationNarrative) -> dict[str, Any]:
        """The full narrative account of the violation disclosed by this party's notice ``index``."""
        me = self.node.identity.name
        items = self.node.logged_at(me, index)
        if not items or items[0].record.body.get("topic") != HotlineTopic.INADVERTENT_EXPORT_CONTROL_VIOLATION.value:
            raise LogNotFound(
                f"{me}#{index} is not this party's violation disclosure", hint="see: detente exportctl disclose list"
            )
        notice = items[0]
        ref = RecordRef(origin=me, index=index, leaf_hash=notice.leaf_hash, rel="narrative-of")
        seq = self._append(
            VIOLATION_NARRATIVE, narrative.model_dump(mode="json", exclude_none=True), to=notice.record.to, refs=(ref,)
        )
        return self._placed(seq)

    def disclosures(self, *, limit: int | None = None, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """How many disclosures this party sent or received, and the page ``offset`` … ``offset +
        limit`` of them, newest first, with the narrative clock and its state. Counted and paged in
        the store (:meth:`NodeStore.threads_about`: the threads of hotline messages of the violation
        topic), then only the page's threads are read, with the records that refer to them and the
        commitment records that decide their agreement; never every disclosure."""
        me = self.node.identity.name
        now = self._now()
        self.node.records_of(())  # catches the index up with every log held (reads no record)
        origins = [me, *(self.node.peers[row.name].origin for row in self.node.followed())]
        total, rows = self.node.state.threads_about(origins, HOTLINE, _VIOLATION, limit=limit, offset=offset)
        page = well_formed(parsed(rows))
        replies = parsed(self.node.state.referrers([(x.origin, x.index) for x in page]))
        records = [*page, *(x for x in replies if x.record.type in PROTOCOL_TYPES)]
        records += self.node.records_of(COMMITMENT_TYPES)  # the agreement each thread runs under
        by_key = {t.subject.key: t for t in evaluate(well_formed(records), self.node.agreement, now, me).threads}
        return total, [self._disclosure(by_key[x.key], now) for x in page]

    @staticmethod
    def _disclosure(t: Thread, now: datetime) -> dict[str, Any]:
        rec = t.subject.record
        follow = next((o for o in t.obligations if o.kind == "follow-up"), None)
        return {
            "origin": t.subject.origin,
            "index": t.subject.index,
            "to": list(rec.to),
            "issued": rec.issued.isoformat(),
            "text": rec.text.model_dump(mode="json") if rec.text else None,
            "states": {p: t.state(p).value for p in rec.to},
            "narrative_due": follow.due.isoformat() if follow else None,
            "narrative": None
            if follow is None or follow.met_by is None
            else {"index": follow.met_by.index, "issued": follow.met_by.record.issued.isoformat()},
            "narrative_missed": bool(follow and follow.missed(now)),
        }
