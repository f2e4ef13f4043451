"""Build the FastAPI application for one :class:`~detente.node.node.Node`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from detente import __version__
from detente._internal.validation import describe_validation_error
from detente.api.apidocs import add_docs_routes
from detente.api.auth import RoleCheck
from detente.api.body import MAX_NESTING, BodyLimit, RequestIn, limited_body, nesting
from detente.api.commitments import add_commitment_routes
from detente.api.console import add_console_routes
from detente.api.contract import install_contract
from detente.api.evals import add_eval_routes
from detente.api.exportctl import add_exportctl_routes
from detente.api.heavy import install_heavy
from detente.api.incidents import add_incident_routes
from detente.api.journal import JournalDoor, add_journal_routes
from detente.api.limits import RateLimit, is_expensive
from detente.api.media import add_media_routes
from detente.api.problems import install_problem_handlers, problem_response, rejections
from detente.api.recipients import resolve_recipients
from detente.api.reports import add_report_routes
from detente.api.routes import MAX_INDEX, PAGED
from detente.api.sealed import add_sealed_routes
from detente.crypto.note import parse_note
from detente.errors import LogNotFound, MalformedRecord
from detente.node.node import Node
from detente.node.sequencer import Sequenced
from detente.node.tokens import Principal, authenticate, issue_token
from detente.protocol.threads import WITHHELD, quota_findings
from detente.records.catalogue import ACK, ANSWER, DEADLINE_MISSED, ESCALATION, LOG_ALARM, RECEIPT, json_schemas
from detente.records.entry import open_entry
from detente.records.keys import KEY_REVOCATION, KEY_ROTATION
from detente.records.record import TLP, Record
from detente.records.ref import RecordRef
from detente.records.script import check_scripts
from detente.records.sealing import ENCRYPTION_KEY
from detente.records.text import BilingualText
from detente.store.node_protocol import PeerRow
from detente.tlog.tiles import parse_tile_path

__all__ = ["create_app"]

MAX_WITNESS_BODY = 64 * 1024
NODE_WRITTEN: dict[str, str] = {
    RECEIPT: "the node sends a receipt itself for each record addressed to this party",
    DEADLINE_MISSED: "the node records a missed deadline itself when one passes unmet",
    ESCALATION: "the node takes each escalation step itself, as the agreement sets them",
    LOG_ALARM: "the node logs a fork alarm itself, with the signed checkpoints as evidence",
    KEY_ROTATION: "rotate this party's log key with POST /api/v1/keys/rotate",
    KEY_REVOCATION: "revoke an earlier log key with POST /api/v1/keys/revoke",
    ENCRYPTION_KEY: "publish an encryption key with POST /api/v1/keys/encryption (revoke: .../{key_id}/revoke)",
}
"""Record types the node writes itself, on its own evidence (a receipt, a missed deadline, an
escalation step, a fork alarm) or through the route that does what the record says (a key
rotation changes the key): ``POST /api/v1/records`` refuses them, with where they come from (an
operator's say-so is no evidence, and a signed record cannot be taken back). The catalogue marks
no type as the node's own, so they are named here."""
IMMUTABLE = "public, max-age=31536000, immutable"


class RecordIn(RequestIn):
    """What an operator asks the node to sign. The party, the time and the signature are the
    node's own: a body that names a ``party`` (or any other unknown field) is refused."""

    type: str = Field(description="versioned record type, e.g. detente.dev/hotline-message/v1")
    to: list[str] = Field(
        default_factory=list, description="the recipients: pinned peers' log origins or short names (e.g. cn)"
    )
    text: BilingualText | None = None
    body: dict[str, Any] = Field(default_factory=dict)
    refs: list[RecordRef] = Field(default_factory=list)
    tlp: TLP = TLP.CLEAR
    force_lang: bool = Field(
        default=False, description="sign a text whose script contradicts its language tag (refused otherwise)"
    )


class Appended(BaseModel):
    origin: str
    index: int
    leaf_hash: str
    tree_size: int
    by_token: str

    @classmethod
    def of(cls, node: Node, seq: Sequenced, who: Principal) -> Appended:
        return cls(
            origin=node.signer.identity.name,
            index=seq.index,
            leaf_hash=seq.leaf_hash.hex(),
            tree_size=seq.checkpoint.size,
            by_token=who.token_id,
        )


class ReplyIn(RequestIn):
    note: str = Field(default="", max_length=2048)
    answer: str | None = Field(default=None, max_length=8192, description="an answer, for clarification requests")
    text: BilingualText | None = None
    force_lang: bool = Field(default=False, description="sign a text whose script contradicts its language tag")


class PeerIn(RequestIn):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    url: str = Field(pattern=r"^https?://")
    vkey: str = Field(description="the peer's log key (type 0x01), pinned")
    cosigner_vkey: str | None = Field(default=None, description="the peer's witness key (type 0x04)")
    read_url: str | None = Field(
        default=None, pattern=r"^https?://", description="where to read its log if not from its node (detente publish)"
    )


class KeyRotateIn(RequestIn):
    reason: str = Field(default="", max_length=1024)


class KeyRevokeIn(RequestIn):
    vkey: str = Field(description="a log key this party used before (not the one in force)")
    effective: datetime = Field(description="UTC time from which the key must not be trusted")
    reason: str = Field(min_length=1, max_length=2048)
    last_index: int | None = Field(
        default=None,
        ge=-1,
        le=MAX_INDEX,
        description="last index vouched for; default: the last the key signed before effective",
    )


class TokenIn(RequestIn):
    role: str = Field(pattern="^(viewer|officer|admin)$")
    label: str = Field(default="", max_length=256, pattern=r"^[^\x00-\x1f\x7f]*$", description="who holds it")
    ttl_seconds: int | None = Field(default=None, gt=0, le=10 * 366 * 86400, description="at most ten years")


MAX_COSIGNATURE_ROWS = 100_000
"""At most this many cosignatures in one answer (page on with ``since``)."""


def create_app(node: Node) -> FastAPI:
    app = FastAPI(
        title=f"detente node {node.config.name}",
        version=__version__,
        description=f"Party node for log {node.signer.identity.name}. Public: /log (C2SP tlog-tiles), "
        "/witness (C2SP tlog-witness). Operators: /api/v1 with a Bearer token.",
        docs_url=None,  # served offline by detente.api.apidocs, never from a CDN
        redoc_url=None,
    )
    add_docs_routes(app)
    install_problem_handlers(app)
    heavy = install_heavy(app, node.config.heavy_slots, node.config.heavy_budget_seconds)
    install_contract(app, rate_limited=is_expensive)
    app.add_middleware(JournalDoor, node=node)  # inside the body limit: it reads only capped bodies
    config = node.config
    upload = (config.max_upload_bytes, "max_upload_bytes in detente.toml")
    app.add_middleware(
        BodyLimit,
        default=(config.max_body_bytes, "max_body_bytes in detente.toml"),
        larger={  # the uploads by name: the JSON routes beside them (guidelines, anchors) keep the default
            "/api/v1/labels/check": upload,
            "/api/v1/labels/apply": upload,
            "/api/v1/labels/propagate": upload,
            "/api/v1/incidents/import": (config.max_import_bytes, "max_import_bytes in detente.toml"),
            "/api/v1/incidents/stix": (config.max_import_bytes, "max_import_bytes in detente.toml"),
            "/witness/": (MAX_WITNESS_BODY, "C2SP tlog-witness's 64 KiB"),
        },
    )
    app.add_middleware(  # outermost: a limited client is refused before its body is read
        RateLimit, config=config, identify=lambda header: authenticate(node.state, header, int(node.clock()))
    )

    viewer = Depends(RoleCheck(node, "viewer"))
    officer = Depends(RoleCheck(node, "officer"))
    admin = Depends(RoleCheck(node, "admin"))

    @app.get("/healthz", tags=["public"])
    def healthz() -> dict[str, object]:
        return {"ok": True, "origin": node.signer.identity.name, "size": node.log.size}

    @app.get("/log/checkpoint", tags=["public"], response_class=Response)
    def checkpoint() -> Response:
        """The latest signed checkpoint with the cosignatures collected for it."""
        note = node.publisher.cosigned_checkpoint()
        return Response(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"})

    @app.get("/log/cosignatures", tags=["public"])
    def cosignatures(since: int = Query(0, ge=0, le=2**63 - 1)) -> JSONResponse:
        """The witnesses' cosignatures collected on this log's checkpoints (C2SP tlog-cosignature
        lines with their checkpoint sizes), from size ``since`` on: the evidence of when each entry
        existed. Anyone can check a line against the checkpoint text ``origin, size, root at size``
        and the witness's key (``detente audit`` does)."""
        rows = [r for r in node.publisher.timebook.rows(node.log.origin) if r.size >= since][:MAX_COSIGNATURE_ROWS]
        body = [{"size": r.size, "witness": r.source, "timestamp": r.at, "line": r.line} for r in rows]
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.get("/log/tile/{path:path}", tags=["public"], response_class=Response)
    def tile(path: str) -> Response:
        """Hash tiles and entry bundles (C2SP tlog-tiles)."""
        tid = parse_tile_path("tile/" + path)
        data = node.log.tile(tid.level, tid.index, tid.width)
        cache = IMMUTABLE if tid.is_full else "public, max-age=60"
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})

    @app.post("/witness/add-checkpoint", tags=["public"], response_class=Response)
    async def witness(request: Request) -> Response:
        """C2SP tlog-witness: cosign a peer's checkpoint that is consistent with the last one."""
        body = await limited_body(request, MAX_WITNESS_BODY, "C2SP tlog-witness's 64 KiB")
        answer = await run_in_threadpool(node.witness.add_checkpoint, body)  # store work and alarms: off the event loop
        if answer.status in (200, 409):
            return Response(answer.body, status_code=answer.status, media_type=answer.media_type)
        codes = {400: "malformed", 403: "no-trusted-signature", 404: "log-not-found", 422: "inconsistent-checkpoint"}
        return problem_response(answer.status, codes.get(answer.status, "witness-error"), answer.body.decode())

    @app.get("/api/v1/metrics", tags=["operators"])
    def metrics(who: Principal = viewer) -> dict[str, object]:
        """Requests refused since the node started, by status and problem code, and the log's size."""
        return {"rejections": rejections(), "size": node.log.size, "peers": len(node.peering.status)}

    @app.get("/api/v1/status", tags=["operators"])
    def status(who: Principal = viewer) -> dict[str, object]:
        cosigners = [s.name for s in parse_note(node.publisher.cosigned_checkpoint()).signatures[1:]]
        quarantine_count, quarantined = node.records.quarantine(limit=200)
        return {
            "name": node.config.name,
            "origin": node.signer.identity.name,
            "vkey": str(node.signer.identity.vkey()),
            "cosigner_vkey": str(node.signer.identity.cosigner_vkey()),
            "public_read_url": node.config.public_read_url or None,
            "size": node.log.size,
            "root": node.log.checkpoint.root.hex(),
            "cosigned_by": cosigners,
            "peers": [
                {
                    "name": p.name,
                    "origin": p.origin,
                    "url": p.url,
                    "mirrored_size": p.mirrored_size,
                    "last_sync": p.last_sync,
                    "last_error": p.last_error,
                    "failures": p.failures,
                    "witness_size": p.witness_size,
                    "quarantined": node.records.quarantine(p.origin, limit=0)[0],
                    **node.protocol.liveness.describe(p),
                }
                for p in node.peering.status.values()
            ],
            "alarms": len(node.state.alarms()),
            "alarms_not_logged": [
                {"fork": f.fork, "origin": f.origin, "error": f.error, "at": f.at} for f in node.alarms.failures
            ],
            "loops": node.loops.as_dict(),
            "protocol": {"records_examined": node.protocol.examined},
            "heavy": heavy.stats().as_json(),
            "embedder_error": node._incidents.suggester.worker_error if node._incidents is not None else None,
            "alerts": {"sent": node.alerts.sent, "failed": node.alerts.failed, "last_error": node.alerts.last_error},
            "quarantine": [
                {"origin": r.origin, "index": r.index, "type": r.type, "reason": r.problem} for r in quarantined
            ],
            "quarantined": quarantine_count,
            "sealed_findings": node.sealing.findings(),
            "peers_not_followed": [{"name": n, "error": e} for n, e in sorted(node.peering.bad.items())],
            "quota_findings": [
                {"party": p, "year": y, "withheld": n, "limit": lim}
                for p, y, n, lim in quota_findings(node.records.of_type([WITHHELD]), node.agreement)
            ],
        }

    @app.post("/api/v1/records", tags=["operators"], status_code=201)
    def append_record(item: RecordIn, who: Principal = officer) -> Appended:
        """Sign a record as this party and append it; returns once it is durable. A text whose
        script contradicts its language tag is refused unless ``force_lang``."""
        if item.type in NODE_WRITTEN:
            raise MalformedRecord(
                f"{item.type} is written by the node itself, never on request", hint=NODE_WRITTEN[item.type]
            )
        if (depth := nesting(item.body)) > MAX_NESTING:
            raise MalformedRecord(
                f"body nests objects and arrays {depth} levels deep",
                hint=f"flatten the body to at most {MAX_NESTING} levels of nested objects and arrays",
            )
        if not item.force_lang:
            check_scripts(item.text, lang_option="text.original.lang", force_option='"force_lang": true')
        try:
            record = Record(
                type=item.type,
                party=node.signer.identity.name,
                issued=datetime.fromtimestamp(node.clock(), UTC),
                to=resolve_recipients(node, item.to),
                body=item.body,
                text=item.text,
                refs=tuple(item.refs),
                tlp=item.tlp,
            )
        except ValidationError as exc:
            raise MalformedRecord(describe_validation_error(exc, "record")) from None
        seq = node.writer.append(record)
        return Appended.of(node, seq, who)

    @app.get("/api/v1/records", tags=["operators"])
    def list_records(
        origin: str | None = None,
        start: int = Query(0, ge=0, le=MAX_INDEX, description="the first index"),
        limit: int = Query(100, ge=1, le=1000, description="at most this many records"),
        who: Principal = viewer,
    ) -> list[dict[str, object]]:
        """Records of this node's log or of a mirrored peer log, each verified as it is read; from
        ``start`` at or past the log's end, none (an empty page)."""
        log_ = node.log
        if origin and origin != node.signer.identity.name:
            row = node.peering.by_origin(origin)
            if row is None:
                raise LogNotFound(f"no mirrored log {origin!r}")
            log_ = node.peering.mirror(row)
        if start >= log_.size:
            return []
        problems = node.records.quarantined_in(log_.origin, start, start + limit)
        out = []
        for i, entry in enumerate(log_.entries(start, min(start + limit, log_.size)), start):
            opened = open_entry(entry, list(log_.keys))
            item: dict[str, object] = {
                "index": i,
                "leaf_hash": opened.leaf_hash.hex(),
                "record": opened.record.model_dump(mode="json", by_alias=True, exclude_none=True),
            }
            if i in problems:
                item["quarantined"] = problems[i]
            out.append(item)
        return out

    @app.get("/api/v1/inbox", tags=["operators"], responses=PAGED)
    def inbox(
        response: Response,
        open_only: bool = Query(False, alias="open", description="only threads with an obligation not yet met"),
        limit: int | None = Query(None, ge=1, le=10_000, description="at most this many threads, newest first"),
        offset: int = Query(0, ge=0, le=MAX_INDEX, description="skip this many threads first"),
        who: Principal = viewer,
    ) -> list[dict[str, object]]:
        """Threads this party sent or received, newest first: received vs answered, live deadlines,
        misses. ``X-Total-Count`` gives the number of threads before ``offset`` and ``limit``."""
        total, page = node.protocol.inbox_page(open_only=open_only, limit=limit, offset=offset)
        response.headers["X-Total-Count"] = str(total)
        return node.sealing.annotate(page)  # a sealed record this node cannot open says so

    @app.get("/api/v1/catalogue", tags=["operators"])
    def catalogue(who: Principal = viewer) -> dict[str, object]:
        """The JSON Schema of every record type's body."""
        return dict(json_schemas())

    @app.post("/api/v1/threads/{origin:path}/{index}/ack", tags=["operators"], status_code=201)
    def acknowledge(
        origin: str, index: Annotated[int, Path(ge=0, le=MAX_INDEX)], item: ReplyIn, who: Principal = officer
    ) -> Appended:
        """A human acknowledgement of a record addressed to this party (or an answer, for types
        that need one): it references the exact leaf."""
        if not item.force_lang:
            check_scripts(item.text, lang_option="text.original.lang", force_option='"force_lang": true')
        record_type = ANSWER if item.answer else ACK
        body: dict[str, object] = {"answer": item.answer} if item.answer else {"note": item.note}
        seq = node.protocol.reply(origin, index, record_type, body, item.text)
        return Appended.of(node, seq, who)

    @app.get("/api/v1/alarms", tags=["operators"])
    def alarms(who: Principal = viewer) -> list[dict[str, object]]:
        return [a.__dict__ for a in node.state.alarms()]

    @app.get("/api/v1/peers", tags=["operators"])
    def peers(who: Principal = viewer) -> list[dict[str, object]]:
        return [p.__dict__ for p in node.state.peers()]

    @app.post("/api/v1/peers", tags=["operators"], status_code=201)
    def add_peer(item: PeerIn, who: Principal = admin) -> dict[str, object]:
        """Pin a peer's keys. An existing peer is never replaced silently (409)."""
        row = PeerRow(item.name, item.url, item.vkey, item.cosigner_vkey, int(node.clock()), item.read_url)
        node.syncer.follow(row)
        return row.__dict__

    @app.post("/api/v1/peers/{name}/sync", tags=["operators"])
    def sync_now(name: str, who: Principal = officer) -> dict[str, object]:
        result = node.syncer.sync(name)
        return {
            "origin": result.origin,
            "old_size": result.old_size,
            "size": result.size,
            "records": result.records,
            "fork": result.fork.detail if result.fork else None,
        }

    @app.post("/api/v1/keys/rotate", tags=["operators"], status_code=201)
    def rotate_key(item: KeyRotateIn, who: Principal = admin) -> dict[str, object]:
        """Rotate this party's log key: a rotation record signed by the current key names the new one."""
        return node.keys.rotate(item.reason)

    @app.post("/api/v1/keys/revoke", tags=["operators"], status_code=201)
    def revoke_key(item: KeyRevokeIn, who: Principal = admin) -> dict[str, object]:
        """Revoke a compromised earlier key from an effective time (signed by the current key)."""
        if item.effective.tzinfo is None:
            raise MalformedRecord("effective must carry a time zone (UTC)")
        return node.keys.revoke(item.vkey, item.effective.astimezone(UTC), item.reason, item.last_index)

    @app.post("/api/v1/tokens", tags=["operators"], status_code=201)
    def create_token(item: TokenIn, who: Principal = admin) -> dict[str, str]:
        token = issue_token(
            node.state, item.role, item.label or f"by {who.token_id}", int(node.clock()), item.ttl_seconds
        )
        return {"token": token, "role": item.role}

    @app.delete("/api/v1/tokens/{token_id}", tags=["operators"])
    def revoke_token(token_id: str, who: Principal = admin) -> dict[str, object]:
        if not node.state.revoke_token(token_id, int(node.clock())):
            raise LogNotFound(f"no token {token_id!r}")
        return {"revoked": token_id}

    add_incident_routes(app, node, viewer, officer)
    add_eval_routes(app, node, viewer, officer)
    add_commitment_routes(app, node, viewer, officer)
    add_console_routes(app, node, viewer, officer)
    add_media_routes(app, node, viewer, officer)
    add_exportctl_routes(app, node, viewer, officer)
    add_report_routes(app, node, viewer, officer)
    add_journal_routes(app, node, admin)
    add_sealed_routes(app, node, viewer, officer, admin)
    return app
