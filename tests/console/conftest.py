"""Real node processes on loopback (as in tests/federation), and a headless Chromium driven by
Playwright for the console's browser tests. The browser is Debian's /usr/bin/chromium: nothing is
downloaded; without it (or without the playwright package) the browser tests are skipped, unless
DETENTE_REQUIRE_BROWSER=1 (set by scripts/test in CI and where it can install Chromium), where
they fail instead, as the PostgreSQL tests do under DETENTE_REQUIRE_PG=1."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from detente.node.localnet import LocalNode

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
REQUIRE_BROWSER = os.environ.get("DETENTE_REQUIRE_BROWSER") == "1"
# How long an action or an expectation may wait: generous, because the suite runs with a worker per
# core beside real node processes, and a loaded 2-core machine can take many seconds to paint.
# A passing wait ends as soon as its condition holds, so this costs nothing when all is well.
WAIT_MS = 90_000


def _missing(reason: str) -> NoReturn:
    """Skip the browser tests, or fail them where a browser is required."""
    if REQUIRE_BROWSER:
        pytest.fail(f"DETENTE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def make_node(tmp_path: Path) -> Iterator[Callable[[str], LocalNode]]:
    """Create (not start) nodes on SQLite; every node made is stopped at the end."""
    made: list[LocalNode] = []

    def make(name: str) -> LocalNode:
        node = LocalNode(name, f"{name}.detente.example/log", tmp_path / name).init()
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop(kill=True)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Chromium (the system's), or a skip (a failure under DETENTE_REQUIRE_BROWSER=1)
    saying what is missing. Module-scoped: Playwright's sync API keeps an event loop marked as
    running in the main thread until it stops, which would break later tests that start a loop
    of their own (the Inspect runs)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright; no browser download needed)")
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        from playwright.sync_api import expect

        expect.set_options(timeout=WAIT_MS)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, timeout=WAIT_MS)
        try:
            yield browser
        finally:
            browser.close()


def new_context(chromium: Any) -> Any:
    """A fresh browser context at a laptop's screen size (1366×768), waiting up to ``WAIT_MS``."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    return context


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A page in a fresh context (``new_context``). ``page.js_errors`` collects uncaught script
    errors and ``page.console_errors`` the console's error lines (CSP violations among them)."""
    context = new_context(chromium)
    page = context.new_page()
    page.js_errors = []
    page.console_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        yield page
    finally:
        context.close()
