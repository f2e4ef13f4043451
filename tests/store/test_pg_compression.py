"""A new PostgreSQL log store compresses its tiles with lz4 where the server has it (issue #26:
with the default pglz the server spent 3.4× the CPU per appended batch; docs/performance.md)."""

from __future__ import annotations

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.node.tilelog import TileLog
from detente.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres


def _compression(store: PostgresStore) -> str:
    row = store._conn.execute(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'data'",
        (f"{store.schema}.tiles",),
    ).fetchone()
    return str(row[0])


def _server_has_lz4(store: PostgresStore) -> bool:
    # pg_config's configure line says whether the server was built --with-lz4
    row = store._conn.execute("SELECT setting FROM pg_config WHERE name = 'CONFIGURE'").fetchone()
    return row is not None and "--with-lz4" in row[0]


def test_a_new_store_compresses_tiles_with_lz4_and_reads_them_back(pg_store_factory) -> None:
    store = pg_store_factory()
    assert isinstance(store, PostgresStore)
    if not _server_has_lz4(store):
        pytest.skip("this PostgreSQL server was built without lz4: tiles keep pglz")
    assert _compression(store) == "l"
    identity = Ed25519Identity.generate("lz4.example/log")
    log = TileLog.create(store, identity)
    entries = [b'{"n": %d, "text": "%s"}' % (i, b"routine contact check " * 20) for i in range(600)]
    log.append(entries)
    stored = store._conn.execute(
        f"SELECT pg_column_compression(data) FROM {store.schema}.tiles WHERE level = -1 LIMIT 1"
    ).fetchone()
    assert stored is not None and stored[0] == "lz4"  # a bundle of JSON: large enough to be compressed
    assert pg_store_factory().latest_checkpoint("lz4.example/log") == log.signed_checkpoint()
    reopened = TileLog(pg_store_factory(), "lz4.example/log", [identity.vkey()])
    assert reopened.entries(0, 600) == entries
