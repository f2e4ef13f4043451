"""Fixtures for the export-control tests: the built-in rule packs."""

from __future__ import annotations

import pytest

from detente.exportctl import RulePack, builtin_pack


@pytest.fixture(scope="session")
def us() -> RulePack:
    return builtin_pack("us-ear")


@pytest.fixture(scope="session")
def cn() -> RulePack:
    return builtin_pack("cn-ecl")
