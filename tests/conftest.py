"""Shared test helpers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

# --- test vectors ------------------------------------------------------------------------------
# Published vectors copied into the repository (see tests/vectors/SOURCES.md); tests never read
# outside the clone.

VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The ``tests/vectors`` directory."""
    return VECTORS


# --- end test vectors --------------------------------------------------------------------------


# --- waiting on real node processes --------------------------------------------------------------


def wait_for(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def wait() -> Callable[..., None]:
    """``wait(what, check, timeout=20.0)``: poll ``check`` until it holds, or fail naming ``what``."""
    return wait_for


# --- the slowest tests start first ---------------------------------------------------------------
# scripts/test runs the suite on every core (pytest-xdist), handing tests out in collection order;
# a two-minute test collected last kept one worker busy while the others had finished. These
# files (the slowest in `--durations`, each 15-170 s) are moved to the front; the order is
# otherwise unchanged, and the same in every worker (xdist compares the collections).

SLOWEST_FIRST = (
    "tests/federation/test_sealed_incidents.py",
    "tests/federation/test_federation.py",
    "tests/cli/test_cli.py",
    "tests/federation/test_authorization.py",
    "tests/federation/test_crash_safety.py",
    "tests/cli/test_demo_parties.py",
    "tests/cli/test_demo_cli.py",
    "tests/federation/test_protocol.py",
    "tests/federation/test_peer_faults.py",
    "tests/fuzz/test_openapi_fuzz.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOWEST_FIRST)))
