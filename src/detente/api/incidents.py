"""The incident database's operator API: file, search, show, classify, link, confirm, comment,
import, duplicate suggestions and the working group's view. Incidents are named by their key,
passed as the ``origin`` and ``id`` query parameters (an origin contains slashes)."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from pydantic import Field, ValidationError

from detente._internal.validation import describe_validation_error
from detente.api.body import RequestIn, limited_body
from detente.api.heavy import heavy_of, install_heavy
from detente.api.recipients import resolve_recipients
from detente.api.routes import MAX_INDEX, Routes
from detente.errors import LogNotFound, MalformedRecord, StorageError
from detente.incidents.index import SearchQuery
from detente.incidents.model import (
    CLASSIFICATION,
    COMMENT,
    LINK,
    Classification,
    Comment,
    IncidentKey,
    IncidentLink,
    IncidentReport,
    LinkConfirmation,
)
from detente.incidents.stix.export import interop_profile
from detente.incidents.taxonomy import builtin_taxonomies, taxonomy_for
from detente.node.node import Node
from detente.node.sequencer import Sequenced
from detente.node.tokens import Principal
from detente.records.record import TLP

__all__ = ["add_incident_routes"]


class IncidentIn(RequestIn):
    report: IncidentReport
    tlp: TLP = TLP.CLEAR
    to: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="recipients of a TLP:AMBER or TLP:RED report (peers' short names or log origins): "
        "it is sealed to them (docs/sealed.md)",
    )


class ConfirmIn(RequestIn):
    origin: str = Field(description="log origin of the party that asserted the link")
    index: int = Field(ge=0, le=MAX_INDEX, description="index of the link record in that log")
    verdict: str = Field(pattern="^(confirm|dispute)$")
    note: str = Field(default="", max_length=4096)


class ImportIn(RequestIn):
    reports: list[IncidentReport] = Field(default_factory=list, max_length=5000)
    classifications: list[Classification] = Field(default_factory=list, max_length=20000)


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ImportIn"}}},
    }
}
"""The import's body, read by the route itself (so that parsing it runs off the event loop);
detente.api.contract puts the ImportIn schema in the document."""


class StixQuery(SearchQuery):
    """A search, and the validator profile the bundle is shaped for."""

    profile: Literal["strict", "interop"] = Field(
        default="strict",
        description="strict: every object, TLP 2.0 marking definitions included (passes stix2-validator --strict); "
        "interop: as the validator's --interop profile wants it, without the marking-definition objects (their "
        "fixed ids still name the markings)",
    )


def _placed(node: Node, seq: Sequenced, who: Principal) -> dict[str, Any]:
    return {
        "origin": node.signer.identity.name,
        "index": seq.index,
        "leaf_hash": seq.leaf_hash.hex(),
        "tree_size": seq.checkpoint.size,
        "by_token": who.token_id,
    }


def add_incident_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "incidents")
    install_heavy(app, node.config.heavy_slots, node.config.heavy_budget_seconds)
    desk = node.incidents

    @routes.create("/api/v1/incidents")
    def file_incident(item: IncidentIn, who: Principal = officer) -> dict[str, Any]:
        """File one stage of an incident report (initial, update, final). The answer carries the
        possible duplicates found at filing time (never linked automatically) and, for a
        critical-infrastructure report, the early-warning hotline message it raised."""
        seq, warning = desk.file(item.report, tlp=item.tlp, to=resolve_recipients(node, item.to))
        key = (node.signer.identity.name, item.report.incident_id)
        answer = {
            **_placed(node, seq, who),
            "incident_id": item.report.incident_id,
            "early_warning": warning.model_dump() if warning else None,
        }
        try:
            answer["possible_duplicates"] = [s.as_dict() for s in desk.suggest(item.report, exclude=key)]
        except StorageError as exc:  # the report is logged already: say so, without suggestions
            answer["possible_duplicates"] = None
            answer["possible_duplicates_error"] = (
                f"{exc.message}; the report is filed: ask GET /api/v1/incident/similar for its suggestions"
            )
        return answer

    def sealed_to(answer: dict[str, Any]) -> dict[str, Any]:
        """A sealed incident's answer with whom it is sealed to (its public frame: ``sealed_to``)."""
        if answer.get("tlp") and desk.sealed is not None:
            answer["sealed_to"] = desk.sealed.recipients(answer["origin"], answer["latest_index"])
        return answer

    @routes.get("/api/v1/incidents")
    def search_incidents(query: Annotated[SearchQuery, Query()], who: Principal = viewer) -> dict[str, Any]:
        """Full-text search (English and Chinese) with filters, over every log this node holds: the
        open incidents, and the sealed ones addressed to this node that the token's role may read
        (TLP:AMBER every role, TLP:RED officers and administrators), first, each with its ``tlp``
        and ``sealed_to``."""
        found = desk.search(query, who.role)
        found["hits"] = [sealed_to(h) for h in found["hits"]]
        return found

    @routes.get("/api/v1/incident")
    def show_incident(origin: str, id: str, who: Principal = viewer) -> dict[str, Any]:
        """One incident: latest report, every stage, its regulatory clocks, classifications by
        every party, links with their confirmations, comments. A sealed incident only for the roles
        that may read its marking (404 otherwise), with its ``tlp`` and ``sealed_to``."""
        return sealed_to(desk.show(origin, id, who.role))

    def full(key: IncidentKey) -> IncidentKey:
        return key.model_copy(update={"origin": desk.origin_of(key.origin)})

    def marking(role: str, keys: list[IncidentKey], what: str) -> tuple[TLP, tuple[str, ...]] | None:
        """How a record about ``keys`` is sealed: ``None`` when none is a sealed incident read here."""
        if desk.sealed is None:
            return None
        desk.catch_up()
        return desk.sealed.marking_for(role, [(k.origin, k.id) for k in keys], what)

    def missing(keys: list[IncidentKey], role: str) -> None:
        """Refuse, saying why, the first of ``keys`` this node holds no readable incident for."""
        for k in keys:
            sealed = desk.sealed.find(role, k.origin, k.id) if desk.sealed is not None else None
            if sealed is None and desk.index.get(k.origin, k.id) is None:
                if desk.sealed is not None:
                    raise desk.sealed.not_here(k.origin, k.id)
                raise LogNotFound(f"no incident {k} in this node's logs", hint="check the key")

    def sealed_placed(seq: Sequenced, mark: tuple[TLP, tuple[str, ...]], who: Principal) -> dict[str, Any]:
        with contextlib.suppress(StorageError):  # the record is logged already: the next read catches up
            desk.catch_up()  # indexed, opened, in this node's sealed index of its marking
        return _placed(node, seq, who) | {"tlp": mark[0].value, "sealed_to": list(mark[1])}

    @routes.get("/api/v1/incident/similar")
    def similar_incidents(
        origin: str, id: str, limit: Annotated[int, Query(ge=1, le=50)] = 5, who: Principal = viewer
    ) -> list[dict[str, Any]]:
        """Possible duplicates of an incident (lexical and, if installed, semantic similarity). For a
        sealed incident, at a node it is sealed to and for a role that reads its marking: among the
        sealed incidents that role reads (each with its ``tlp``; lexical) and the open ones."""
        try:
            key = full(IncidentKey(origin=origin, id=id))
        except ValidationError as exc:  # an empty origin or an id no report can have: 422, never 500
            raise MalformedRecord(
                describe_validation_error(exc, "incident key"),
                hint="origin: the reporting party's log origin or short name; id: its report id, e.g. us-2026-0001",
            ) from None
        if desk.sealed is not None:
            desk.catch_up()
            found = desk.sealed.similar(who.role, key.origin, key.id, limit, desk.suggester)
            if found is not None:
                return found
        missing([key], who.role)
        return [s.as_dict() for s in desk.similar(origin, id, limit=limit, role=who.role)]

    @routes.create("/api/v1/incident/classifications")
    def classify(item: Classification, who: Principal = officer) -> dict[str, Any]:
        """Classify an incident (any party's) under a built-in taxonomy, as this party. A sealed
        incident's classification is sealed like it, to its readers (``tlp``, ``sealed_to``)."""
        item = item.model_copy(update={"incident": full(item.incident)})
        mark = marking(who.role, [item.incident], "classification")
        if mark is None:
            missing([item.incident], who.role)
            return _placed(node, desk.classify(item), who)
        taxonomy_for(item.namespace, item.taxonomy_version).check(item.attributes)
        assert desk.sealed is not None  # a marking comes from the sealed indexes
        return sealed_placed(desk.sealed.send_about(CLASSIFICATION, item.model_dump(mode="json"), mark), mark, who)

    @routes.create("/api/v1/incident/links")
    def link(item: IncidentLink, who: Principal = officer) -> dict[str, Any]:
        """Assert that two incidents are the same, duplicates, or related (owned by this party). A
        link naming a sealed incident is sealed, to the readers the sealed ones share."""
        item = item.model_copy(update={"source": full(item.source), "target": full(item.target)})
        missing([item.source, item.target], who.role)
        mark = marking(who.role, [item.source, item.target], "link")
        if mark is None:
            return _placed(node, desk.link(item), who)
        assert desk.sealed is not None
        return sealed_placed(desk.sealed.send_about(LINK, item.model_dump(mode="json"), mark), mark, who)

    @routes.create("/api/v1/incident/links/confirm")
    def confirm(item: ConfirmIn, who: Principal = officer) -> dict[str, Any]:
        """Confirm or dispute another party's link naming one of this party's incidents."""
        seq = desk.confirm(item.origin, item.index, LinkConfirmation(verdict=item.verdict, note=item.note))
        return _placed(node, seq, who)

    @routes.create("/api/v1/incident/comments")
    def comment(item: Comment, who: Principal = officer) -> dict[str, Any]:
        """Comment on an incident; on a sealed one, sealed like it, to its readers."""
        item = item.model_copy(update={"incident": full(item.incident)})
        mark = marking(who.role, [item.incident], "comment")
        if mark is None:
            missing([item.incident], who.role)
            return _placed(node, desk.comment(item), who)
        assert desk.sealed is not None
        return sealed_placed(desk.sealed.send_about(COMMENT, item.model_dump(mode="json"), mark), mark, who)

    @routes.post("/api/v1/incidents/import", openapi_extra=IMPORT_BODY)
    async def import_incidents(request: Request, who: Principal = officer) -> dict[str, Any]:
        """Append reports and classifications not yet in this party's log (idempotent)."""
        body = await limited_body(request, node.config.max_import_bytes, "max_import_bytes in detente.toml")

        def parse_and_import() -> dict[str, Any]:  # tens of MiB of JSON: parsed off the event loop too
            try:
                item = ImportIn.model_validate_json(body)
            except ValidationError as exc:
                raise MalformedRecord(describe_validation_error(exc, "import")) from None
            return desk.import_records(item.reports, item.classifications)

        return await heavy_of(request).write(parse_and_import)

    @routes.get("/api/v1/incidents/stix")
    async def export_stix(
        request: Request,
        query: Annotated[StixQuery, Query()],
        who: Principal = viewer,
    ) -> dict[str, Any]:
        """The incidents a search finds, with the links among them, as a STIX 2.1 bundle (Incident
        Core extension, TLP 2.0 markings, duplicate-of / related-to / same-as relationships)."""
        search = SearchQuery.model_validate(query.model_dump(exclude={"profile"}))
        bundle = await heavy_of(request).read(desk.export_stix, search, who.role)
        return interop_profile(bundle) if query.profile == "interop" else bundle

    @routes.post("/api/v1/incidents/stix")
    async def import_stix(request: Request, who: Principal = officer) -> dict[str, Any]:
        """File the incidents of a STIX 2.1 bundle as this party's reports, and its links; what is
        skipped is listed with the reason."""
        body = await limited_body(request, node.config.max_import_bytes, "max_import_bytes in detente.toml")
        return await heavy_of(request).write(desk.import_stix, body)

    @routes.get("/api/v1/working-group")
    def working_group(who: Principal = viewer) -> dict[str, Any]:
        """Counts and trends by harm type, sector, severity, category, party and year; open and
        missed regulatory clocks; the latest critical-infrastructure incidents."""
        return desk.working_group(who.role)

    @routes.get("/api/v1/taxonomies")
    def taxonomies(who: Principal = viewer) -> list[dict[str, Any]]:
        """The built-in taxonomies (namespaced, versioned), with their fields and permitted values."""
        return [t.model_dump(mode="json") for t in builtin_taxonomies()]
