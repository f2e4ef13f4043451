"""The quarterly exchange report API: the figures as JSON, the HTML and PDF documents, and
publishing the signed report record."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request, Response

from detente.api.heavy import heavy_of, install_heavy
from detente.api.routes import Routes
from detente.node.node import Node
from detente.node.tokens import Principal
from detente.report.period import period_name

__all__ = ["add_report_routes"]

LANG = Query("en", pattern="^(en|zh)$", description="the primary language: en or zh")
HTML_HEADERS = {
    # the document is self-contained: inline CSS and SVG, no script, nothing to fetch
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _disposition(period: str, suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'inline; filename="detente-{period}.{suffix}"'}


def add_report_routes(app: FastAPI, node: Node, viewer: Any, officer: Any) -> None:
    routes = Routes(app, "reports")
    install_heavy(app, node.config.heavy_slots, node.config.heavy_budget_seconds)
    desk = node.reports

    # the .html and .pdf routes come first: "{period}" alone would also match "2026Q4.pdf"
    @routes.get("/api/v1/reports/quarterly/{period}.html", response_class=Response)
    async def quarterly_html(request: Request, period: str, lang: str = LANG, who: Principal = viewer) -> Response:
        """The quarter's report as one self-contained HTML document (no script, no network)."""
        name = period_name(period)
        html = await heavy_of(request).read(desk.html, name, lang)
        return Response(
            html, media_type="text/html; charset=utf-8", headers={**HTML_HEADERS, **_disposition(name, "html")}
        )

    @routes.get("/api/v1/reports/quarterly/{period}.pdf", response_class=Response)
    async def quarterly_pdf(request: Request, period: str, lang: str = LANG, who: Principal = viewer) -> Response:
        """The quarter's report as PDF."""
        name = period_name(period)
        heavy = heavy_of(request)  # reportlab's rendering in a worker process: never on the node's GIL
        pdf = await heavy.read(desk.pdf, name, lang, compute=heavy.compute)
        return Response(
            pdf, media_type="application/pdf", headers={"Cache-Control": "no-store", **_disposition(name, "pdf")}
        )

    @routes.get("/api/v1/reports/quarterly/{period}")
    async def quarterly_figures(request: Request, period: str, who: Principal = viewer) -> dict[str, Any]:
        """The quarter's figures (JSON; what each means: docs/report.md)."""
        return await heavy_of(request).read(desk.figures, period_name(period))

    @routes.create("/api/v1/reports/quarterly/{period}/publish")
    async def publish_quarterly(
        request: Request, period: str, lang: str = LANG, who: Principal = officer
    ) -> dict[str, Any]:
        """Sign and log a quarterly-report record: the figures and the SHA-256 of both documents."""
        return await heavy_of(request).write(desk.publish, period_name(period), lang)
