"""The export-control API: classification of an item under both regimes' rule packs as of a date,
the accelerator catalogue, trusted suppliers and their mutual recognition, and inadvertent-violation
disclosures."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import FastAPI, Query, Response
from pydantic import Field

from detente.api.body import RequestIn
from detente.api.recipients import resolve_recipients
from detente.api.routes import MAX_INDEX, PAGED, Routes
from detente.errors import MalformedRecord
from detente.exportctl.catalogue import catalogue, lookup
from detente.exportctl.item import Item
from detente.exportctl.records import RecognitionArrangement, TrustedSupplier, ViolationNarrative
from detente.exportctl.rules import load_pack
from detente.node.node import Node
from detente.node.tokens import Principal
from detente.records.hotline import Priority
from detente.records.script import check_scripts
from detente.records.text import BilingualText

__all__ = ["add_exportctl_routes"]


class ClassifyIn(RequestIn):
    name: str | None = Field(default=None, description="a catalogue name, or a label for the figures")
    item: dict[str, Any] = Field(
        default_factory=dict,
        description="figures: dense [[TOPS, bits], …] or ['VALUE@BITS'], die_area_mm2, hbm_bandwidth_gbps, "
        "hbm_area_mm2, dram_bandwidth_gbps, io_bandwidth_gbps, datacenter, training_ops, weights_published, "
        "technology, kind; they override a catalogue entry's",
    )
    as_of: date | None = None
    destination: str | None = Field(
        default=None, description="ISO 3166-1 alpha-2 country of destination (for is-informed letters)"
    )
    regimes: list[str] | None = None
    near: float = Field(default=0.10, ge=0, lt=1)
    as_party: str | None = Field(
        default=None,
        description="classify with the packs this peer published (short name or log origin), as it would; "
        "default: this party's own packs",
    )


class SignIn(RequestIn):
    arrangement_id: str
    version: int = Field(ge=1, le=MAX_INDEX)
    digest: str = Field(description="SHA-256 of the exact arrangement (from GET /api/v1/exportctl/recognitions)")


class DiscloseIn(RequestIn):
    to: list[str] = Field(min_length=1, description="log origins (or short names) of the peers notified")
    text: BilingualText = Field(description="what was exported, to whom, when it was found; bilingual")
    priority: Priority = Priority.IMMEDIATE
    force_lang: bool = Field(False, description="sign even though a text's script contradicts its language tag")


class NarrativeIn(RequestIn):
    index: int = Field(
        ge=0, le=MAX_INDEX, description="this party's disclosure notice (a hotline message) in its own log"
    )
    narrative: ViolationNarrative


def _item(body: ClassifyIn) -> Item:
    if not body.item:
        if not body.name:
            raise MalformedRecord("nothing to classify", hint="give a catalogue name or the item's figures")
        return lookup(body.name).item()
    given = Item.from_dict({"name": body.name or "unnamed item", **body.item})
    if body.name:
        try:
            base = lookup(body.name).item()
        except MalformedRecord:
            return given  # not a catalogue name: a label for the figures
        return base.with_figures(**{field: getattr(given, field) for field in body.item if field != "name"})
    return given


def add_exportctl_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "export controls")

    @routes.post("/api/v1/exportctl/classify")
    def classify(item: ClassifyIn, who: Principal = viewer) -> dict[str, Any]:
        """Classify an item under each regime's pack as of a date: every clause matched or nearly
        matched with the numbers compared, licence exceptions, policies, the is-informed letters that
        name the item, the packs used, and the reminder that other rules may apply."""
        return node.exportctl.classify(
            _item(item), item.as_of, item.regimes, item.near, as_party=item.as_party, destination=item.destination
        )

    @routes.get("/api/v1/exportctl/catalogue")
    def accelerators(who: Principal = viewer) -> list[dict[str, Any]]:
        """Real accelerators with their public figures and a source per figure."""
        return [entry.model_dump(mode="json") for entry in catalogue()]

    @routes.get("/api/v1/exportctl/packs")
    def packs(who: Principal = viewer) -> list[dict[str, Any]]:
        """Every rule pack this node knows (built in, or published by a party as a record), with who
        published it and whether it is in use for this party's own classifications (``in_use``):
        a peer's pack is shown as that peer's, never used in place of this party's own."""
        return node.exportctl.all_packs()

    @routes.create("/api/v1/exportctl/packs")
    def publish_pack(item: dict[str, Any], who: Principal = officer) -> dict[str, Any]:
        """Publish this party's rule pack as a record; it replaces the built-in pack of its regime
        for this party's own classifications."""
        return node.exportctl.publish_pack(load_pack(item))

    @routes.get("/api/v1/exportctl/suppliers")
    def suppliers(who: Principal = viewer) -> list[dict[str, Any]]:
        """Every party's trusted suppliers (newest status of each)."""
        return node.exportctl.suppliers()

    @routes.create("/api/v1/exportctl/suppliers")
    def list_supplier(item: TrustedSupplier, who: Principal = officer) -> dict[str, Any]:
        """List (or delist, with status 'delisted') a supplier this party trusts."""
        return node.exportctl.list_supplier(item)

    @routes.get("/api/v1/exportctl/recognitions")
    def recognitions(who: Principal = viewer) -> list[dict[str, Any]]:
        """Mutual-recognition arrangements: digest, who signed, in force since."""
        return node.exportctl.arrangements()

    @routes.create("/api/v1/exportctl/recognitions")
    def propose(item: RecognitionArrangement, who: Principal = officer) -> dict[str, Any]:
        """Propose an arrangement (this party signs it by logging it); the others co-sign its digest."""
        return node.exportctl.propose(item)

    @routes.create("/api/v1/exportctl/recognitions/sign")
    def sign(item: SignIn, who: Principal = officer) -> dict[str, Any]:
        return node.exportctl.sign(item.arrangement_id, item.version, item.digest)

    @routes.get("/api/v1/exportctl/recognized")
    def recognized(supplier_id: str = "", on: date | None = None, who: Principal = viewer) -> list[dict[str, Any]]:
        """Recognized by whom, since when, under which arrangement (as of ``on``, default today)."""
        return node.exportctl.recognized(supplier_id, on)

    @routes.get("/api/v1/exportctl/disclosures", responses=PAGED)
    def disclosures(
        response: Response,
        limit: int | None = Query(None, ge=1, le=10_000, description="at most this many disclosures, newest first"),
        offset: int = Query(0, ge=0, le=MAX_INDEX, description="skip this many disclosures first"),
        who: Principal = viewer,
    ) -> list[dict[str, Any]]:
        """Inadvertent-violation disclosures sent and received, newest first, with the narrative
        clock. ``X-Total-Count`` gives the number of disclosures before ``offset`` and ``limit``."""
        total, page = node.exportctl.disclosures(limit=limit, offset=offset)
        response.headers["X-Total-Count"] = str(total)
        return page

    @routes.create("/api/v1/exportctl/disclosures")
    def disclose(item: DiscloseIn, who: Principal = officer) -> dict[str, Any]:
        """The initial notice of an inadvertent violation, through the hotline."""
        if not item.force_lang:  # the notice's own text, as on /api/v1/records (the writer checks bodies)
            check_scripts(item.text, lang_option="text.original.lang", force_option='"force_lang": true')
        return node.exportctl.disclose(resolve_recipients(node, item.to), item.text, item.priority)

    @routes.create("/api/v1/exportctl/disclosures/narrative")
    def narrate(item: NarrativeIn, who: Principal = officer) -> dict[str, Any]:
        """The full narrative account, due within 180 days of the notice."""
        return node.exportctl.narrate(item.index, item.narrative)
