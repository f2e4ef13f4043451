"""The SQLite log store's tiles table: a rowid table for a new file (schema 2), a version-1 file
(``WITHOUT ROWID``) still read and written, any other version refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.errors import StoreUnavailable
from detente.node.tilelog import TileLog
from detente.store.sqlite import SCHEMA_VERSION, SQLiteStore
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_inclusion

IDENT = Ed25519Identity.from_seed("schema.example/log", b"\x05" * 32)

_V1 = """
PRAGMA page_size=32768; PRAGMA journal_mode=WAL;
CREATE TABLE logs (origin TEXT PRIMARY KEY, checkpoint BLOB) STRICT;
CREATE TABLE tiles (
    origin TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL,
    width INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (origin, level, idx)
) STRICT, WITHOUT ROWID;
PRAGMA user_version=1;
"""


def _tiles_sql(path: Path) -> tuple[str, int]:
    conn = sqlite3.connect(path)
    try:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'tiles'").fetchone()[0]
        return sql, int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _exercise(path: Path) -> None:
    store = SQLiteStore(path, create=True)
    log = TileLog.create(store, IDENT)
    entries = [b"entry %d" % i for i in range(700)]
    log.append(entries[:300])
    log.append(entries[300:])
    for i in (0, 255, 256, 699):
        verify_inclusion(leaf_hash(entries[i]), i, 700, log.inclusion_proof(i), log.checkpoint.root)
    assert log.entries(250, 260) == entries[250:260]
    store.close()


def test_a_new_store_keeps_tiles_in_a_rowid_table(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    _exercise(path)
    sql, version = _tiles_sql(path)
    assert SCHEMA_VERSION == 2
    assert version == 2
    assert "WITHOUT ROWID" not in sql.upper()


def test_a_version_1_store_is_still_read_and_written(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    conn.executescript(_V1)
    conn.close()
    _exercise(path)
    sql, version = _tiles_sql(path)
    assert version == 1
    assert "WITHOUT ROWID" in sql.upper()


def test_an_unknown_version_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "v9.db"
    conn = sqlite3.connect(path)
    conn.executescript(_V1.replace("user_version=1", "user_version=9"))
    conn.close()
    with pytest.raises(StoreUnavailable, match="schema version 9") as err:
        SQLiteStore(path)
    assert err.value.hint
