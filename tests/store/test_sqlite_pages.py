"""The SQLite log store's page size: 32 KiB for a new database, an existing file's own kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from detente.crypto.keys import Ed25519Identity
from detente.node.tilelog import TileLog
from detente.store.sqlite import PAGE_SIZE, SQLiteStore


def _page_size(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])
    finally:
        conn.close()


def test_a_new_store_has_32_kib_pages(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    store = SQLiteStore(path, create=True)
    log = TileLog.create(store, Ed25519Identity.generate("pages.example/log"))
    log.append([b"x" * 500] * 300)
    store.close()
    assert PAGE_SIZE == 32768
    assert _page_size(path) == PAGE_SIZE


def test_an_existing_database_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE other(x);")
    conn.close()
    store = SQLiteStore(path, create=True)
    log = TileLog.create(store, Ed25519Identity.generate("pages.example/log"))
    log.append([b"y" * 500] * 300)
    assert log.entries(0, 300) == [b"y" * 500] * 300
    store.close()
    assert _page_size(path) == 4096
