"""The commitments API: documents drafted, co-signed, withdrawn and reported on; the glossary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import PlainTextResponse
from pydantic import Field

from detente.api.body import RequestIn
from detente.api.routes import MAX_INDEX, Routes
from detente.commitments.model import CommitmentDocument, GlossaryDefinition
from detente.node.node import Node
from detente.node.tokens import Principal
from detente.records.text import BilingualText

__all__ = ["add_commitment_routes"]


class SignIn(RequestIn):
    document_id: str
    version: int = Field(ge=1, le=MAX_INDEX)
    digest: str = Field(description="SHA-256 of the exact version (from GET /api/v1/commitments/document)")


class WithdrawIn(RequestIn):
    document_id: str
    version: int = Field(ge=1, le=MAX_INDEX)
    reason: BilingualText
    effective: datetime | None = None


class ReportIn(RequestIn):
    document_id: str
    year: int = Field(ge=2000, le=2200)
    report: BilingualText


def add_commitment_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "commitments")

    @routes.get("/api/v1/commitments")
    def documents(who: Principal = viewer) -> list[dict[str, Any]]:
        """Every document version in this node's logs: digest, who signed, adopted, in force, withdrawn."""
        return node.commitments.documents()

    @routes.get("/api/v1/commitments/document")
    def show(document_id: str, who: Principal = viewer) -> dict[str, Any]:
        """A document: every version with its state, the latest text, implementation reports due."""
        return node.commitments.show(document_id)

    @routes.get("/api/v1/commitments/diff", response_class=PlainTextResponse)
    def diff(
        document_id: str,
        old: int = Query(ge=1, le=MAX_INDEX),
        new: int = Query(ge=1, le=MAX_INDEX),
        who: Principal = viewer,
    ) -> str:
        """A unified diff between two versions, original and translations."""
        return node.commitments.diff(document_id, old, new)

    @routes.create("/api/v1/commitments/draft")
    def draft(item: CommitmentDocument, who: Principal = officer) -> dict[str, Any]:
        """Draft a document or a new version of one (this party must be among its parties)."""
        return node.commitments.draft(item)

    @routes.create("/api/v1/commitments/sign")
    def sign(item: SignIn, who: Principal = officer) -> dict[str, Any]:
        """Co-sign the exact version named by its digest; adopted once every party has."""
        return node.commitments.sign(item.document_id, item.version, item.digest)

    @routes.create("/api/v1/commitments/withdraw")
    def withdraw(item: WithdrawIn, who: Principal = officer) -> dict[str, Any]:
        return node.commitments.withdraw(item.document_id, item.version, item.reason, item.effective)

    @routes.create("/api/v1/commitments/report")
    def report(item: ReportIn, who: Principal = officer) -> dict[str, Any]:
        """File this party's annual implementation report for an adopted commitment."""
        return node.commitments.report(item.document_id, item.year, item.report)

    @routes.create("/api/v1/glossary")
    def define(item: GlossaryDefinition, who: Principal = officer) -> dict[str, Any]:
        """Publish this party's own definition of a term."""
        return node.commitments.define(item)

    @routes.get("/api/v1/glossary")
    def lookup(term: str = "", who: Principal = viewer) -> list[dict[str, Any]]:
        """Each party's definition side by side, with jointly interpreted (co-signed) entries."""
        return node.commitments.glossary(term)
