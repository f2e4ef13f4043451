"""The ``quarterly-report`` record: a party's signed statement of a quarter's figures and of the
SHA-256 of the HTML and PDF documents rendered from them (in ``lang``, by ``generator``). Anyone
holding the record can re-render the documents from its figures with the same detente version
and compare the hashes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from detente.records.body import UtcTime

__all__ = ["QUARTERLY_REPORT", "QuarterlyReport"]

QUARTERLY_REPORT = "detente.dev/quarterly-report/v1"


class QuarterlyReport(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period: str = Field(pattern=r"^[0-9]{4}Q[1-4]$", description="e.g. 2026Q4")
    figures: dict[str, Any] = Field(description="the QuarterlyFigures, as JSON (see detente.report.figures)")
    html_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    generated_at: UtcTime
    lang: str = Field(default="en", pattern="^(en|zh)$", description="the primary language of the documents")
    generator: str = Field(default="", max_length=64, description="the detente version that rendered them")
