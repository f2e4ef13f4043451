"""Fixtures of the report tests: the busy quarter of ``report_data``."""

from __future__ import annotations

import pytest
from report_data import build_busy

from detente.protocol.threads import Logged


@pytest.fixture(scope="session")
def busy() -> list[Logged]:
    return build_busy().records
