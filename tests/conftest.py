"""Shared test helpers."""

from __future__ import annotations

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
