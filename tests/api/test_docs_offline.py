"""/docs and /redoc work offline (issue #21): the pages name no URL outside the node, every asset
they load is served by the node from the pinned fastapi-offline package (200, the package's own
bytes), and every one of them carries the Content-Security-Policy that forbids anything else."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources

from starlette.testclient import TestClient

from detente.api.apidocs import ASSETS, DOCS_CSP

EXTERNAL = re.compile(r"(?i)\b(?:https?:)?//[a-z0-9.-]+")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href", "spec-url") and v]


def _links(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    return parser.urls


def test_docs_and_redoc_load_nothing_from_elsewhere(client: TestClient) -> None:
    loaded: set[str] = set()
    for page in ("/docs", "/redoc"):
        resp = client.get(page)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
        assert resp.headers["content-security-policy"] == DOCS_CSP
        assert not EXTERNAL.findall(resp.text), EXTERNAL.findall(resp.text)
        assert "<script>" not in resp.text  # no inline script: the CSP would refuse it
        urls = _links(resp.text)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        loaded |= set(urls)
    init = client.get("/docs/init.js")
    assert not EXTERNAL.findall(init.text) and '"validatorUrl": null' in init.text
    assert '"url": "/openapi.json"' in init.text
    assert {"/docs/init.js", "/openapi.json", *(f"/docs/assets/{n}" for n in ASSETS)} <= loaded
    static = resources.files("fastapi_offline") / "static"
    for url in sorted(loaded):
        resp = client.get(url)
        assert resp.status_code == 200, url
        if url.startswith("/docs/"):
            assert resp.headers["content-security-policy"] == DOCS_CSP, url
        if url.startswith("/docs/assets/"):
            assert resp.content == (static / url.rsplit("/", 1)[1]).read_bytes(), url


def test_only_the_named_assets_are_served(client: TestClient) -> None:
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/docs/assets/core.py").status_code == 404
    resp = client.get("/docs/assets/nope.js")
    assert resp.status_code == 404 and resp.headers["content-type"] == "application/problem+json"
