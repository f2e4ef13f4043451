"""The synthetic-media API: two-regime label checks and labeling, guidelines, C2PA trust
anchors, watermark keys and detection, takedown requests and answers.

Files travel as the raw request body (``Content-Type`` names the media type, or ``?mime=``);
labeled files come back the same way.
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from pydantic import Field, ValidationError

from detente._internal.validation import describe_validation_error
from detente.api.body import RequestIn, limited_body
from detente.api.heavy import heavy_of, install_heavy
from detente.api.recipients import resolve_recipients
from detente.api.routes import MAX_INDEX, Routes
from detente.errors import MalformedRecord
from detente.media.guidelines import Guideline
from detente.media.records import TakedownRequest, TakedownResponse, WatermarkKey
from detente.node.node import Node
from detente.node.tokens import Principal
from detente.records.record import TLP
from detente.records.text import BilingualText

__all__ = ["add_media_routes"]

UPLOAD_SETTING = "max_upload_bytes in detente.toml"


class TakedownIn(RequestIn):
    to: str = Field(min_length=1, description="log origin (or short name) of the peer whose platforms host the content")
    request: TakedownRequest
    text: BilingualText = Field(description="what the content is and why it should come down, bilingual")
    tlp: TLP = Field(
        default=TLP.CLEAR,
        description="TLP:AMBER, AMBER+STRICT or RED: the request is sealed to its recipient, refused before "
        "signing when the recipient published no encryption key (docs/sealed.md)",
    )


class TakedownAnswerIn(RequestIn):
    origin: str
    index: int = Field(ge=0, le=MAX_INDEX)
    response: TakedownResponse
    text: BilingualText | None = None


class DetectIn(RequestIn):
    party: str = Field(description="the party that shared the key: its short name or its log origin")
    key_id: str
    token_ids: list[int] | None = Field(default=None, max_length=100_000)
    text: str | None = Field(default=None, max_length=1_000_000, description="tokenized with the scheme's tokenizer")


def _mime(request: Request, mime: str | None) -> str | None:
    if mime:
        return mime
    given = request.headers.get("content-type", "").split(";")[0].strip()
    return None if given in ("", "application/octet-stream") else given


def add_media_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "media")
    install_heavy(app, node.config.heavy_slots, node.config.heavy_budget_seconds)

    @routes.post("/api/v1/labels/check")
    async def check(
        request: Request,
        mime: str | None = None,
        record: bool = False,
        as_party: str | None = None,
        situation: str = "unknown",
        who: Principal = viewer,
    ) -> dict[str, Any]:
        """Both regimes' labels on the uploaded file: C2PA state and status codes verbatim, China's
        AIGC implicit label (or a text's explicit label), and a verdict per regime naming the
        rules it fails, judged by this party's guidelines (``as_party``: a peer's, as it would
        judge). Anchors: this party's own roots, and each peer's root for that peer's own
        credentials only. ``situation``: the service that made the content (dialogue, voice,
        face, immersive-scene, other-generation, outside-17-1, unknown), which decides whether
        China's explicit label is owed; ``unknown`` leaves that rule not judged (any other value: 422). ``record=true``
        also logs the summary (hash, verdicts, rules failed) as a label-check record (officer)."""
        if record:
            who.require("officer")
        heavy = heavy_of(request)
        # the slot is taken before the body is read: with every slot busy the upload is refused (503)
        # without the event loop reading it
        async with heavy.reserve() as slot:
            data = await limited_body(request, node.config.max_upload_bytes, UPLOAD_SETTING)
            # the pure part (parsers, C2PA, the text scan) in a worker process, never holding the node's
            # GIL, stopped at the budget; logging the summary (record=true) signs a record in the node,
            # so that one is waited for to its end
            compute = functools.partial(heavy.compute, budget=not record)
            return await slot.write(
                node.media.check,
                data,
                _mime(request, mime),
                record=record,
                as_party=as_party,
                situation=situation,
                compute=compute,
            )

    @routes.post("/api/v1/labels/apply", response_class=Response)
    async def apply(
        request: Request,
        producer: str,
        produce_id: str,
        label: Literal["1", "2", "3"] = "1",
        source_type: str | None = None,
        mime: str | None = None,
        who: Principal = officer,
    ) -> Response:
        """Write China's implicit label, then sign Content Credentials as this party; returns the file."""
        from detente.media.aigc import AigcLabel

        media_type = _mime(request, mime)
        try:
            tag = AigcLabel(label=label, content_producer=producer, produce_id=produce_id)
        except ValidationError as exc:
            raise MalformedRecord(describe_validation_error(exc, "AIGC label")) from None
        async with heavy_of(request).reserve() as slot:  # taken before the body is read, as for a check
            data = await limited_body(request, node.config.max_upload_bytes, UPLOAD_SETTING)
            out = await slot.read(node.media.apply, data, tag, media_type, source_type)
        return Response(out, media_type=media_type or "application/octet-stream")

    @routes.post("/api/v1/labels/propagate", response_class=Response)
    async def propagate(
        request: Request,
        propagator: str,
        propagate_id: str,
        label: Literal["1", "2", "3"] | None = None,
        mime: str | None = None,
        who: Principal = officer,
    ) -> Response:
        """A platform's fields: ContentPropagator and PropagateID added to the file's AIGC label
        (``label``: its Label when the file has none) and, for a file with Content Credentials, a
        new manifest signed as this party that cites the existing one as its parent ingredient;
        returns the file."""
        media_type = _mime(request, mime)
        async with heavy_of(request).reserve() as slot:  # taken before the body is read, as for a check
            data = await limited_body(request, node.config.max_upload_bytes, UPLOAD_SETTING)
            out = await slot.read(node.media.propagate, data, propagator, propagate_id, label, media_type)
        return Response(out, media_type=media_type or "application/octet-stream")

    @routes.get("/api/v1/labels/guidelines")
    def guidelines(who: Principal = viewer) -> list[dict[str, Any]]:
        """Every guideline this node knows (packaged and published), with its digest, who published
        it and whether it judges this party's checks (``in_use``; ``note`` says why not)."""
        return node.media.all_guidelines()

    @routes.create("/api/v1/labels/guidelines")
    def publish_guideline(item: Guideline, who: Principal = officer) -> dict[str, Any]:
        """Publish this party's guideline (or a new version) as a record."""
        return node.media.publish_guideline(item)

    @routes.get("/api/v1/labels/anchors")
    def anchors(who: Principal = viewer) -> list[dict[str, Any]]:
        """C2PA trust anchors published in the logs this node holds, and whom each vouches for."""
        return node.media.anchors()

    @routes.create("/api/v1/labels/anchors")
    def publish_anchor(who: Principal = officer) -> dict[str, Any]:
        """Publish this party's C2PA root certificate (generated on first use) as a record."""
        return node.media.publish_anchor()

    @routes.get("/api/v1/watermark/keys")
    def keys(who: Principal = viewer) -> list[dict[str, Any]]:
        return node.media.keys()

    @routes.create("/api/v1/watermark/keys")
    def share_key(item: WatermarkKey, who: Principal = officer) -> dict[str, Any]:
        """Share a watermark detection scheme and key as a record."""
        return node.media.share_key(item)

    @routes.post("/api/v1/watermark/detect")
    def detect(item: DetectIn, who: Principal = viewer) -> dict[str, Any]:
        """Green-list watermark detection with a shared key: z-score, p-value, verdict."""
        return node.media.detect(item.party, item.key_id, token_ids=item.token_ids, text=item.text)

    @routes.get("/api/v1/takedowns")
    def takedowns(who: Principal = viewer) -> list[dict[str, Any]]:
        """Takedown requests sent and received, with answers, states and deadlines."""
        return node.media.takedowns()

    @routes.create("/api/v1/takedowns")
    def request_takedown(item: TakedownIn, who: Principal = officer) -> dict[str, Any]:
        """Ask a peer to act on content its platforms host (``tlp``: sealed to it, docs/sealed.md)."""

        def sendable(tlp: TLP, to: tuple[str, ...]) -> None:
            node.sealing.check_sendable(tlp, to, "takedown request", "the request was not sent")

        to = resolve_recipients(node, [item.to])[0]
        return node.media.request_takedown(to, item.request, item.text, tlp=item.tlp, sendable=sendable)

    @routes.create("/api/v1/takedowns/response")
    def respond(item: TakedownAnswerIn, who: Principal = officer) -> dict[str, Any]:
        """Answer a takedown request addressed to this party: acted (measures) or declined (reason)."""
        return node.media.respond(item.origin, item.index, item.response, item.text)
