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
