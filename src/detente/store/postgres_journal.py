"""PostgreSQL driver for the operator journal (:mod:`detente.store.journal_protocol`), in the
node's schema. An append holds a transaction-scoped advisory lock on the journal while it reads
the last row and writes the next, so concurrent appends (from any connection) never fork the chain."""

from __future__ import annotations

import re
import threading
from typing import Any

import psycopg

from detente.errors import StorageError, StoreUnavailable
from detente.store.journal_protocol import GENESIS, IdempotencyRow, JournalEntry, JournalRow, link
from detente.store.pg_connection import Reconnecting

__all__ = ["PostgresJournal"]


def _schema_sql(s: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.journal (
    seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, prev BYTEA NOT NULL, hash BYTEA NOT NULL);
CREATE INDEX IF NOT EXISTS journal_by_time ON {s}.journal (at);
CREATE TABLE IF NOT EXISTS {s}.idempotency (
    token_id TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, at BIGINT NOT NULL, status INTEGER,
    media_type TEXT NOT NULL, body BYTEA NOT NULL, PRIMARY KEY (token_id, key));
"""


_COLUMNS = "at, actor, role, action, target, outcome, detail, seq, prev, hash"


def _values(row: JournalRow) -> tuple[object, ...]:
    return (row.at, row.actor, row.role, row.action, row.target, row.outcome, row.detail, row.seq, row.prev, row.hash)


def _row(r: Any) -> JournalRow:
    return JournalRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8]), bytes(r[9]))


def _text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; what an outsider sent (a path, a claimed token id) may."""
    return value.replace("\x00", "\ufffd")


class PostgresJournal(Reconnecting):
    def __init__(self, conninfo: str, *, schema: str = "detente") -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StoreUnavailable(f"schema name {schema!r} must be a lowercase SQL identifier")
        self.s = schema
        self._lock = threading.Lock()
        try:
            self._conninfo = conninfo
            self._conn = psycopg.connect(conninfo, autocommit=True)
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.journal",))
                self._conn.execute(_schema_sql(schema).encode())  # created on open: older stores get it too
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot open the journal: {str(exc).strip().splitlines()[0]}") from None

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> psycopg.Cursor[Any]:
        try:
            return self._conn.execute(sql.replace("@", self.s + "."), args)
        except psycopg.Error as exc:
            raise StorageError(f"PostgreSQL error in the journal: {exc}") from None

    def append(self, entry: JournalEntry) -> JournalRow:
        clean = JournalEntry(
            entry.at,
            _text(entry.actor),
            _text(entry.role),
            _text(entry.action),
            _text(entry.target),
            _text(entry.outcome),
            _text(entry.detail),
        )
        with self._lock:
            try:
                with self._conn.transaction():
                    self._run("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{self.s}.journal",))
                    last = self._run("SELECT seq, hash FROM @journal ORDER BY seq DESC LIMIT 1").fetchone()
                    seq, prev = (last[0] + 1, bytes(last[1])) if last else (1, GENESIS)
                    row = JournalRow(**{**clean.__dict__, "seq": seq, "prev": prev, "hash": link(prev, seq, clean)})
                    self._run(
                        f"INSERT INTO @journal ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                        _values(row),
                    )
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error in the journal: {exc}") from None
        return row

    def rows(self, *, since: int | None = None, after: int = 0, limit: int | None = None) -> list[JournalRow]:
        sql = f"SELECT {_COLUMNS} FROM @journal WHERE seq > %s" + (" AND at >= %s" if since is not None else "")
        args: tuple[Any, ...] = (after,) if since is None else (after, since)
        with self._lock:
            found = self._run(sql + " ORDER BY seq LIMIT %s", (*args, limit)).fetchall()
        return [_row(r) for r in found]

    def claim(self, row: IdempotencyRow) -> IdempotencyRow | None:
        with self._lock:
            taken = self._run(
                "INSERT INTO @idempotency VALUES (%s, %s, %s, %s, NULL, '', '') ON CONFLICT DO NOTHING",
                (_text(row.token_id), _text(row.key), row.fingerprint, row.at),
            )
            if taken.rowcount == 1:
                return None
            r = self._run(
                "SELECT * FROM @idempotency WHERE token_id = %s AND key = %s", (_text(row.token_id), _text(row.key))
            ).fetchone()
        return None if r is None else IdempotencyRow(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]))

    def settle(self, token_id: str, key: str, status: int, media_type: str, body: bytes) -> None:
        with self._lock:
            self._run(
                "UPDATE @idempotency SET status = %s, media_type = %s, body = %s WHERE token_id = %s AND key = %s",
                (status, media_type, body, _text(token_id), _text(key)),
            )

    def release(self, token_id: str, key: str) -> None:
        with self._lock:
            self._run("DELETE FROM @idempotency WHERE token_id = %s AND key = %s", (_text(token_id), _text(key)))

    def close(self) -> None:
        self._conn.close()
