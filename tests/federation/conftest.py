"""Real node processes on loopback, on each storage driver."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from detente.node.localnet import LocalNode

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DETENTE_REQUIRE_PG") == "1"


def wait_for(what: str, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def wait() -> Callable[..., None]:
    return wait_for


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_node(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., LocalNode]]:
    """Create (not start) nodes; every node started is stopped at the end, schemas dropped."""
    made: list[LocalNode] = []
    schemas: list[str] = []
    if request.param == "postgres":
        try:
            psycopg.connect(PG_URL, connect_timeout=3).close()
        except psycopg.Error as exc:
            if REQUIRE_PG:
                raise
            pytest.skip(f"PostgreSQL not reachable: {exc}")

    def make(name: str) -> LocalNode:
        store = "detente.db"
        if request.param == "postgres":
            schema = f"f_{name}_{uuid.uuid4().hex[:10]}"
            schemas.append(schema)
            store = f"{PG_URL}#{schema}"
        node = LocalNode(name, f"{name}.detente.example/log", tmp_path / name, store=store).init()
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop(kill=True)
    if schemas:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
                conn.execute(f"DROP SCHEMA IF EXISTS {schema}_fork CASCADE")
