"""The OpenAPI document's browsers, offline: ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc).

FastAPI's own pages load Swagger UI and ReDoc from a CDN, which an air-gapped node cannot reach
and which would let a third party run script in an operator's browser. Here the node serves both
from the files of a pinned PyPI package, ``fastapi-offline`` (its ``static/`` folder: the
upstream bundles, unchanged), under a Content-Security-Policy that lets the pages load nothing
from anywhere but the node. Swagger UI is started by a script the node serves (no inline
script), with its online validator switched off."""

from __future__ import annotations

import html
import json
from importlib import resources

from fastapi import FastAPI, Response
from starlette.exceptions import HTTPException

__all__ = ["ASSETS", "DOCS_CSP", "add_docs_routes"]

ASSET_PACKAGE = "fastapi_offline"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
"""The files served under ``/docs/assets/``, by name (nothing else of the package is)."""

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
"""Swagger UI and ReDoc set inline styles (ReDoc's are generated), and ReDoc's search runs in a
worker it makes from a blob; everything else comes from the node itself."""

HEADERS = {
    "Content-Security-Policy": DOCS_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _page(title: str, head: str, body: str) -> Response:
    text = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="icon" type="image/png" href="/docs/assets/favicon.png">\n'
        f"{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )
    return Response(text, media_type="text/html; charset=utf-8", headers={**HEADERS, "Cache-Control": "no-cache"})


def add_docs_routes(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """``/docs``, ``/docs/init.js``, ``/docs/assets/{name}`` and ``/redoc`` (none in the document)."""
    static = resources.files(ASSET_PACKAGE) / "static"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response:
        return _page(
            f"{app.title} - Swagger UI",
            '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">\n',
            '<div id="swagger-ui"></div>\n<script src="/docs/assets/swagger-ui-bundle.js"></script>\n'
            '<script src="/docs/init.js"></script>\n',
        )

    @app.get("/docs/init.js", include_in_schema=False)
    def swagger_init() -> Response:
        options = {
            "url": openapi_url,
            "dom_id": "#swagger-ui",
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,  # never ask validator.swagger.io about this node's document
        }
        script = (
            f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, "
            "{presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]}));\n"
        )
        return Response(script, media_type="text/javascript; charset=utf-8", headers=HEADERS)

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> Response:
        return _page(
            f"{app.title} - ReDoc",
            "",
            f'<redoc spec-url="{html.escape(openapi_url)}"></redoc>\n'
            '<script src="/docs/assets/redoc.standalone.js"></script>\n',
        )

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            raise HTTPException(404, f"no documentation asset {name!r}")
        data = (static / name).read_bytes()
        cache = {"Cache-Control": "public, max-age=86400"}
        return Response(data, media_type=ASSETS[name], headers={**HEADERS, **cache})
