"""SQLite driver for the operator journal (:mod:`detente.store.journal_protocol`), in the node's
database file. An append is one ``BEGIN IMMEDIATE`` transaction (the file's write lock), so the
node and a local ``detente`` command chaining at once never fork the chain; ``synchronous=FULL``."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from detente.errors import StorageError, StoreUnavailable
from detente.store.journal_protocol import GENESIS, IdempotencyRow, JournalEntry, JournalRow, link
from detente.store.sqlite_rows import Rows, run

__all__ = ["SQLiteJournal"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS journal_by_time ON journal (at);
CREATE TABLE IF NOT EXISTS idempotency (
    token_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, at INTEGER NOT NULL, status INTEGER,
    media_type TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (token_id, key)
) STRICT;
"""
_COLUMNS = "at, actor, role, action, target, outcome, detail, seq, prev, hash"


def _values(row: JournalRow) -> tuple[object, ...]:
    return (row.at, row.actor, row.role, row.action, row.target, row.outcome, row.detail, row.seq, row.prev, row.hash)


def _row(r: Any) -> JournalRow:
    return JournalRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8]), bytes(r[9]))


class SQLiteJournal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise StoreUnavailable(f"no database at {self.path}", hint="run: detente init")
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;")
            self._conn.executescript(_SCHEMA)  # created on open: older stores get it too
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open the journal in {self.path}: {exc}") from None
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> Rows:
        try:
            return run(self._conn, sql, args)
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite error in the journal of {self.path}: {exc}") from None

    def append(self, entry: JournalEntry) -> JournalRow:
        with self._lock:
            self._run("BEGIN IMMEDIATE")
            try:
                last = self._run("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, bytes(last[1])) if last else (1, GENESIS)
                row = JournalRow(**{**entry.__dict__, "seq": seq, "prev": prev, "hash": link(prev, seq, entry)})
                self._run(
                    f"INSERT INTO journal ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _values(row),
                )
                self._run("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return row

    def rows(self, *, since: int | None = None, after: int = 0, limit: int | None = None) -> list[JournalRow]:
        sql = f"SELECT {_COLUMNS} FROM journal WHERE seq > ?" + (" AND at >= ?" if since is not None else "")
        args: tuple[object, ...] = (after,) if since is None else (after, since)
        with self._lock:
            found = self._run(sql + " ORDER BY seq LIMIT ?", (*args, -1 if limit is None else limit)).fetchall()
        return [_row(r) for r in found]

    def claim(self, row: IdempotencyRow) -> IdempotencyRow | None:
        with self._lock:
            taken = self._run(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?, NULL, '', X'') ON CONFLICT DO NOTHING",
                (row.token_id, row.key, row.fingerprint, row.at),
            )
            if taken.rowcount == 1:
                return None
            r = self._run(
                "SELECT * FROM idempotency WHERE token_id = ? AND key = ?", (row.token_id, row.key)
            ).fetchone()
        return None if r is None else IdempotencyRow(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]))

    def settle(self, token_id: str, key: str, status: int, media_type: str, body: bytes) -> None:
        with self._lock:
            self._run(
                "UPDATE idempotency SET status = ?, media_type = ?, body = ? WHERE token_id = ? AND key = ?",
                (status, media_type, body, token_id, key),
            )

    def release(self, token_id: str, key: str) -> None:
        with self._lock:
            self._run("DELETE FROM idempotency WHERE token_id = ? AND key = ?", (token_id, key))

    def close(self) -> None:
        self._conn.close()
