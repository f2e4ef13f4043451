"""A PostgreSQL server that drops a node's connection (a restart, a failover,
``pg_terminate_backend``) costs the node the one call that met the drop, a typed error, not
every call until someone restarts the node (``store/pg_connection.py``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from detente.errors import DetenteError, StoreUnavailable
from detente.store.postgres import PostgresStore
from detente.store.postgres_incidents import PostgresIncidentIndex
from detente.store.postgres_journal import PostgresJournal
from detente.store.postgres_node import PostgresNodeStore

pytestmark = pytest.mark.postgres

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DETENTE_REQUIRE_PG") == "1"


def _drop_connection(store: Any) -> None:
    """What a server restart does to the store's session: the server ends it."""
    pid = store._conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0] is True


def _open(kind: str, schema: str) -> Any:
    if kind == "log":
        store: Any = PostgresStore(PG_URL, schema=schema, create=True)
        store.ensure_log("example.org/log")
    elif kind == "node":
        store = PostgresNodeStore(PG_URL, schema=schema, create=True)
    elif kind == "incidents":
        store = PostgresIncidentIndex(PG_URL, schema=schema)
    else:
        store = PostgresJournal(PG_URL, schema=schema)
    return store


READS: dict[str, Callable[[Any], object]] = {
    "log": lambda s: s.latest_checkpoint("example.org/log"),
    "node": lambda s: s.list_tokens(),
    "incidents": lambda s: s._exec("SELECT count(*) FROM @inc_docs").fetchone(),
    "journal": lambda s: s.rows(),
}


@pytest.fixture(params=sorted(READS))
def opened(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    schema = f"r_{uuid.uuid4().hex[:16]}"
    try:
        store = _open(request.param, schema)
    except StoreUnavailable as exc:
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.message}")
    yield request.param, store
    store.close()
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_the_call_after_a_dropped_connection_works(opened: tuple[str, Any]) -> None:
    kind, store = opened
    read = READS[kind]
    before = read(store)
    _drop_connection(store)
    with pytest.raises((DetenteError, psycopg.OperationalError)):
        read(store)  # the call that meets the drop fails: what it did is lost with the session
    assert read(store) == before  # and the next one is answered on a new connection
    assert not store._conn.broken


def test_a_connection_closed_here_is_not_reopened(opened: tuple[str, Any]) -> None:
    kind, store = opened
    link = store._conn
    store.close()
    with pytest.raises((DetenteError, psycopg.Error)):
        READS[kind](store)
    assert store._conn is link and link.closed


def test_a_dropped_log_store_read_is_a_typed_error() -> None:
    schema = f"r_{uuid.uuid4().hex[:16]}"
    try:
        store = _open("log", schema)
    except StoreUnavailable as exc:
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.message}")
    try:
        _drop_connection(store)
        with pytest.raises(DetenteError) as caught:
            store.read_tiles("example.org/log", [(0, 0)])
        assert "PostgreSQL read failed" in caught.value.message
        assert store.read_tiles("example.org/log", [(0, 0)]) == {}
    finally:
        store.drop_schema()
        store.close()
