"""SQLite driver for the incident index (:mod:`detente.store.incident_protocol`): FTS5 with the
``porter unicode61`` tokenizer, ranked by BM25, in the node's database file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from detente.errors import StorageError, StoreUnavailable
from detente.store.incident_sql import TABLES, SQLIncidentIndex
from detente.store.sqlite_rows import Rows, run

__all__ = ["SQLiteIncidentIndex"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inc_docs (
    doc_id INTEGER PRIMARY KEY, origin TEXT NOT NULL, incident_id TEXT NOT NULL, latest_index INTEGER NOT NULL,
    stage TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL,
    critical INTEGER NOT NULL, occurred TEXT, first_reported TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    search TEXT NOT NULL, UNIQUE (origin, incident_id));
CREATE INDEX IF NOT EXISTS inc_docs_occurred ON inc_docs (occurred);
CREATE VIRTUAL TABLE IF NOT EXISTS inc_fts USING fts5(search, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS inc_vectors (
    model TEXT NOT NULL, origin TEXT NOT NULL, incident_id TEXT NOT NULL, latest_index INTEGER NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (model, origin, incident_id));
"""


class SQLiteIncidentIndex(SQLIncidentIndex):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;")
            self._conn.executescript(_SCHEMA + TABLES.replace("@", ""))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the incident index in {self.path}: {exc}") from None
        self._check_format()

    def _clear_fts(self) -> None:
        self._exec("DELETE FROM inc_fts")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._exec("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._exec("COMMIT")

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Rows:
        with self._lock:
            try:
                return run(self._conn, sql.replace("@", ""), args)
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite error in the incident index: {exc}") from None

    def _fts_write(self, doc_id: int, text: str) -> None:
        self._exec("DELETE FROM inc_fts WHERE rowid = ?", (doc_id,))
        self._exec("INSERT INTO inc_fts (rowid, search) VALUES (?, ?)", (doc_id, text))

    @staticmethod
    def _match(terms: list[str], any_term: bool) -> str:
        return (" OR " if any_term else " ").join('"' + t.replace('"', '""') + '"' for t in terms)

    def _fts_count(self, terms: list[str], *, any_term: bool, cap: int | None = None) -> int:
        match = self._match(terms, any_term)
        if cap is None:
            return int(self._exec("SELECT COUNT(*) FROM inc_fts WHERE inc_fts MATCH ?", (match,)).fetchone()[0])
        sql = "SELECT COUNT(*) FROM (SELECT 1 FROM inc_fts WHERE inc_fts MATCH ? LIMIT ?)"
        return int(self._exec(sql, (match, cap)).fetchone()[0])

    def _fts_common(self, terms: list[str], *, any_term: bool) -> tuple[str, str, list[Any], str]:
        # Walk the incidents newest first and probe the full-text index for each: with thousands of
        # matches the first page is found after a few probes.
        probe = "EXISTS (SELECT 1 FROM inc_fts f WHERE inc_fts MATCH ? AND f.rowid = d.doc_id)"
        return "INDEXED BY inc_docs_occurred", probe, [self._match(terms, any_term)], "d.occurred DESC"

    def _fts_clause(self, terms: list[str], *, any_term: bool) -> tuple[str, str, list[Any], str]:
        # FTS5's own rank column (BM25) inside the subquery: measured 2-4x faster than bm25() in a join.
        join = "JOIN (SELECT rowid, rank FROM inc_fts WHERE inc_fts MATCH ?) f ON f.rowid = d.doc_id"
        return join, "1 = 1", [self._match(terms, any_term)], "-f.rank"

    def close(self) -> None:
        self._conn.close()
