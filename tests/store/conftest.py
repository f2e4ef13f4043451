"""Store fixtures: every driver, against real databases (a SQLite file, a PostgreSQL server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

from detente.errors import StoreUnavailable
from detente.store.postgres import PostgresStore
from detente.store.protocol import LogStore
from detente.store.sqlite import SQLiteStore

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DETENTE_REQUIRE_PG") == "1"

StoreFactory = Callable[[], LogStore]


def _pg_factory(request: pytest.FixtureRequest) -> StoreFactory:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    opened: list[PostgresStore] = []

    def make() -> LogStore:
        try:
            store = PostgresStore(PG_URL, schema=schema, create=True)
        except StoreUnavailable as exc:
            if REQUIRE_PG:
                raise
            pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.message}")
        opened.append(store)
        return store

    def cleanup() -> None:
        if opened:
            opened[0].drop_schema()
        for s in opened:
            s.close()

    request.addfinalizer(cleanup)
    return make


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path) -> Iterator[StoreFactory]:
    """Opens connections to ONE fresh database per test; call it again for a second writer."""
    if request.param == "sqlite":
        path = tmp_path / "log.db"
        opened: list[SQLiteStore] = []

        def make() -> LogStore:
            store = SQLiteStore(path, create=True)
            opened.append(store)
            return store

        yield make
        for s in opened:
            s.close()
    else:
        yield _pg_factory(request)


@pytest.fixture
def store(store_factory: StoreFactory) -> LogStore:
    return store_factory()


@pytest.fixture
def pg_store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    """PostgreSQL only: opens connections to one fresh schema (dropped at the end)."""
    return _pg_factory(request)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node_store(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh NodeStore on each driver."""
    from detente.store.postgres_node import PostgresNodeStore
    from detente.store.sqlite_node import SQLiteNodeStore

    if request.param == "sqlite":
        store = SQLiteNodeStore(tmp_path / "node.db", create=True)
        yield store
        store.close()
        return
    schema = f"n_{uuid.uuid4().hex[:16]}"
    try:
        store = PostgresNodeStore(PG_URL, schema=schema, create=True)
    except StoreUnavailable as exc:
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.message}")
    yield store
    store._run(f"DROP SCHEMA {schema} CASCADE")
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def incident_index(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh incident index on each driver."""
    from detente.store.postgres_incidents import PostgresIncidentIndex
    from detente.store.sqlite_incidents import SQLiteIncidentIndex

    if request.param == "sqlite":
        index = SQLiteIncidentIndex(tmp_path / "node.db")
        yield index
        index.close()
        return
    schema = f"i_{uuid.uuid4().hex[:16]}"
    try:
        index = PostgresIncidentIndex(PG_URL, schema=schema)
    except StoreUnavailable as exc:
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc.message}")
    yield index
    index._exec(f"DROP SCHEMA {schema} CASCADE")
    index.close()
