"""SQLite driver for node state (:class:`~detente.store.node_protocol.NodeStore`), in the same
database file as the logs. One write connection behind a lock; ``synchronous=FULL``."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from detente.errors import ConfigError, StorageError, StoreUnavailable
from detente.store.node_protocol import (
    AlarmRow,
    DueThread,
    KeyEventRow,
    NodeStore,
    PeerRow,
    RecordRow,
    SealedFindingRow,
    TimeRow,
    TokenRow,
    thread_topics,
)
from detente.store.sqlite_rows import Rows, run

__all__ = ["SQLiteNodeStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, role TEXT NOT NULL, label TEXT NOT NULL,
    created INTEGER NOT NULL, expires INTEGER, revoked INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS peers (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, vkey TEXT NOT NULL, cosigner_vkey TEXT, added INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS witness (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL, note BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS cosigned (origin TEXT PRIMARY KEY, note BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS alarms (
    alarm_id INTEGER PRIMARY KEY AUTOINCREMENT, origin TEXT NOT NULL, kind TEXT NOT NULL,
    detail TEXT NOT NULL, at INTEGER NOT NULL, log_index INTEGER
) STRICT;
"""
_KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS key_events (
    origin TEXT NOT NULL, log_index INTEGER NOT NULL, kind TEXT NOT NULL, vkey TEXT NOT NULL, last_index INTEGER,
    PRIMARY KEY (origin, log_index)
) STRICT;
CREATE TABLE IF NOT EXISTS records (
    origin TEXT NOT NULL, log_index INTEGER NOT NULL, leaf_hash TEXT NOT NULL, type TEXT NOT NULL,
    record BLOB NOT NULL, problem TEXT, PRIMARY KEY (origin, log_index)
) STRICT;
CREATE INDEX IF NOT EXISTS records_by_type ON records (origin, type, log_index);
CREATE INDEX IF NOT EXISTS records_quarantined ON records (origin, log_index) WHERE problem IS NOT NULL;
CREATE TABLE IF NOT EXISTS record_refs (
    ref_origin TEXT NOT NULL, ref_index INTEGER NOT NULL, origin TEXT NOT NULL, log_index INTEGER NOT NULL,
    PRIMARY KEY (ref_origin, ref_index, origin, log_index)
) STRICT;
CREATE TABLE IF NOT EXISTS threads (
    origin TEXT NOT NULL, log_index INTEGER NOT NULL, issued TEXT NOT NULL, involves_me INTEGER NOT NULL,
    settled INTEGER NOT NULL, due INTEGER NOT NULL DEFAULT 0, touched INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (origin, log_index)
) STRICT;
CREATE INDEX IF NOT EXISTS threads_by_time ON threads (involves_me, settled, issued);
CREATE TABLE IF NOT EXISTS times (
    origin TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, size INTEGER NOT NULL, at INTEGER NOT NULL,
    line TEXT NOT NULL, PRIMARY KEY (origin, kind, source, size)
) STRICT, WITHOUT ROWID;
"""

_THREAD_INDEXES = """
CREATE INDEX IF NOT EXISTS threads_schedule ON threads (involves_me, due, origin, log_index) WHERE settled = 0;
CREATE INDEX IF NOT EXISTS threads_page ON threads (involves_me, issued DESC, origin, log_index);
CREATE INDEX IF NOT EXISTS threads_open_page ON threads (involves_me, settled, issued DESC, origin, log_index);
"""
"""The protocol loop's schedule by due time; the inbox's pages (all threads, or the open ones)."""

_ISSUED_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_issued (
    origin TEXT NOT NULL, log_index INTEGER NOT NULL, issued TEXT, PRIMARY KEY (origin, log_index)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_issued_by_time ON record_issued (issued, origin, log_index);
CREATE INDEX IF NOT EXISTS records_sealed ON records (origin, log_index) WHERE instr(record, X'227365616c656422') > 0;
"""
"""When each indexed record says it was issued (sortable UTC text): a quarter's records are read by
time. A table beside ``records`` so that no read of ``records`` changes shape. And the records whose
JSON holds ``"sealed"`` (hex above), so that looking for sealed records reads only those."""

_TOPICS_SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_topics (
    origin TEXT NOT NULL, log_index INTEGER NOT NULL, topic TEXT NOT NULL, PRIMARY KEY (origin, log_index)
) STRICT, WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS thread_topics_by_topic ON thread_topics (topic, origin, log_index);
"""
"""The body's ``topic`` of each thread's opening record that has one (:func:`thread_topic`): the
export-control disclosures are the threads of one hotline topic, found without reading every
hotline message. Created on open; an older store's threads get theirs once (a cursor remembers it)."""

_ISSUED_BACKFILL = """
INSERT OR IGNORE INTO record_issued
SELECT origin, log_index, strftime('%Y-%m-%dT%H:%M:%f000Z', json_extract(CAST(record AS TEXT), '$.issued'))
FROM records
"""
"""An older store's records, timed on open (once: a cursor remembers it). Milliseconds only (SQLite's
``%f``), so a reader widens its window by a second and checks each record's exact time; a time SQLite
cannot read stays NULL, and such a record is in every window."""


_FINDINGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS sealed_findings (
    origin TEXT NOT NULL, log_index INTEGER NOT NULL, reason TEXT NOT NULL, type TEXT, sender TEXT, tlp TEXT,
    at INTEGER NOT NULL, PRIMARY KEY (origin, log_index)
) STRICT;
"""
"""Sealed records addressed to this node that it cannot read (``docs/sealed.md``), bounded."""


def _rollback(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):  # no transaction left to roll back
        conn.execute("ROLLBACK")


class SQLiteNodeStore:
    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreUnavailable(f"no database at {self.path}", hint="run: detente init")
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;")
            if create:
                self._conn.executescript(_SCHEMA)
            elif self._conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tokens'").fetchone() is None:
                raise StoreUnavailable(f"{self.path} has no node tables", hint="run: detente init")
            self._conn.executescript(_KEYS_SCHEMA)  # created on open: older stores get it too
            self._conn.executescript(_FINDINGS_SCHEMA)  # likewise
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(peers)").fetchall()}
            if "read_url" not in columns:  # added after the first release: older stores get it on open
                self._conn.execute("ALTER TABLE peers ADD COLUMN read_url TEXT")
            columns = {r[1] for r in self._conn.execute("PRAGMA table_info(threads)").fetchall()}
            for column in ("due", "touched"):  # later too: an older store's threads are all due at once
                if column not in columns:
                    self._conn.execute(f"ALTER TABLE threads ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
            self._conn.executescript(_THREAD_INDEXES)
            self._conn.executescript(_ISSUED_SCHEMA)
            if self._conn.execute("SELECT 1 FROM cursors WHERE name = 'record_issued'").fetchone() is None:
                with self._conn:  # one transaction: the cursor says the backfill is whole
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._conn.execute(_ISSUED_BACKFILL)
                    self._conn.execute("INSERT OR IGNORE INTO cursors VALUES ('record_issued', 1)")
            self._conn.executescript(_TOPICS_SCHEMA)
            if self._conn.execute("SELECT 1 FROM cursors WHERE name = 'thread_topics'").fetchone() is None:
                with self._conn:  # one transaction, as above
                    self._conn.execute("BEGIN IMMEDIATE")
                    rows = self._conn.execute(
                        "SELECT r.origin, r.log_index, r.record FROM threads t JOIN records r "
                        "ON r.origin = t.origin AND r.log_index = t.log_index"
                    )
                    while batch := rows.fetchmany(1000):
                        self._conn.executemany(
                            "INSERT OR IGNORE INTO thread_topics VALUES (?, ?, ?)",
                            thread_topics((o, i, r) for o, i, r in batch),
                        )
                    self._conn.execute("INSERT OR IGNORE INTO cursors VALUES ('thread_topics', 1)")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}") from None
        self._lock = threading.Lock()
        self.rows_read = 0

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> Rows:
        with self._lock:
            try:
                return run(self._conn, sql, args)
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite error on {self.path}: {exc}") from None

    def add_token(self, row: TokenRow) -> None:
        self._run(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.token_id, row.secret_hash, row.role, row.label, row.created, row.expires, row.revoked),
        )

    def get_token(self, token_id: str) -> TokenRow | None:
        r = self._run("SELECT * FROM tokens WHERE token_id = ?", (token_id,)).fetchone()
        return None if r is None else TokenRow(r[0], bytes(r[1]), r[2], r[3], r[4], r[5], r[6])

    def revoke_token(self, token_id: str, at: int) -> bool:
        cur = self._run("UPDATE tokens SET revoked = ? WHERE token_id = ? AND revoked IS NULL", (at, token_id))
        return cur.rowcount == 1 or self.get_token(token_id) is not None

    def list_tokens(self) -> list[TokenRow]:
        rows = self._run("SELECT * FROM tokens ORDER BY created, token_id").fetchall()
        return [TokenRow(r[0], bytes(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def add_peer(self, row: PeerRow) -> None:
        try:
            self._run(
                "INSERT INTO peers (name, url, vkey, cosigner_vkey, added, read_url) VALUES (?, ?, ?, ?, ?, ?)",
                (row.name, row.url, row.vkey, row.cosigner_vkey, row.added, row.read_url),
            )
        except sqlite3.IntegrityError:
            raise ConfigError(
                f"peer {row.name!r} is already pinned",
                hint=f"a pinned key is never replaced silently: detente peer remove {row.name} first",
            ) from None

    def remove_peer(self, name: str) -> bool:
        return self._run("DELETE FROM peers WHERE name = ?", (name,)).rowcount == 1

    def peers(self) -> list[PeerRow]:
        rows = self._run("SELECT name, url, vkey, cosigner_vkey, added, read_url FROM peers ORDER BY name").fetchall()
        return [PeerRow(*r) for r in rows]

    def witness_latest(self, origin: str) -> bytes | None:
        r = self._run("SELECT note FROM witness WHERE origin = ?", (origin,)).fetchone()
        return None if r is None else bytes(r[0])

    def witness_swap(self, origin: str, old_size: int, size: int, note: bytes) -> bool:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:  # e.g. the database stayed locked past busy_timeout
                raise StorageError(f"SQLite error in the node store: {exc}", hint="retry shortly") from None
            try:
                r = conn.execute("SELECT size FROM witness WHERE origin = ?", (origin,)).fetchone()
                if (r[0] if r else 0) != old_size:
                    conn.execute("ROLLBACK")
                    return False
                conn.execute(
                    "INSERT INTO witness VALUES (?, ?, ?) ON CONFLICT(origin) DO UPDATE "
                    "SET size = excluded.size, note = excluded.note",
                    (origin, size, note),
                )
                conn.execute("COMMIT")
                return True
            except sqlite3.Error as exc:
                _rollback(conn)
                raise StorageError(f"SQLite error in the node store: {exc}", hint="retry shortly") from None
            except BaseException:
                _rollback(conn)
                raise

    def save_cosigned(self, origin: str, note: bytes) -> None:
        self._run(
            "INSERT INTO cosigned VALUES (?, ?) ON CONFLICT(origin) DO UPDATE SET note = excluded.note", (origin, note)
        )

    def load_cosigned(self, origin: str) -> bytes | None:
        r = self._run("SELECT note FROM cosigned WHERE origin = ?", (origin,)).fetchone()
        return None if r is None else bytes(r[0])

    def get_cursor(self, name: str) -> int:
        r = self._run("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return 0 if r is None else int(r[0])

    def set_cursor(self, name: str, value: int) -> None:
        self._run(
            "INSERT INTO cursors VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value)
        )

    def add_alarm(self, origin: str, kind: str, detail: str, at: int, index: int | None) -> int:
        cur = self._run(
            "INSERT INTO alarms(origin, kind, detail, at, log_index) VALUES (?, ?, ?, ?, ?)",
            (origin, kind, detail, at, index),
        )
        return int(cur.lastrowid or 0)

    def alarms(self) -> list[AlarmRow]:
        rows = self._run("SELECT * FROM alarms ORDER BY alarm_id").fetchall()
        return [AlarmRow(*r) for r in rows]

    def add_records(self, rows: Sequence[RecordRow]) -> None:
        values = [(r.origin, r.index, r.leaf_hash, r.type, r.record, r.problem) for r in rows]
        refs = [(o, i, r.origin, r.index) for r in rows if r.problem is None for o, i in r.refs]
        threads = [
            (r.origin, r.index, r.thread.issued, int(r.thread.involves_me), int(r.thread.settled))
            for r in rows
            if r.thread is not None and r.problem is None
        ]
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?)", values)
                    self._conn.executemany("INSERT OR IGNORE INTO record_refs VALUES (?, ?, ?, ?)", refs)
                    self._conn.executemany(
                        "INSERT OR IGNORE INTO record_issued VALUES (?, ?, ?)",
                        [(r.origin, r.index, r.issued) for r in rows],
                    )
                    self._conn.executemany(
                        "INSERT OR IGNORE INTO threads (origin, log_index, issued, involves_me, settled) "
                        "VALUES (?, ?, ?, ?, ?)",
                        threads,
                    )
                    self._conn.executemany(
                        "INSERT OR IGNORE INTO thread_topics VALUES (?, ?, ?)",
                        thread_topics(
                            (r.origin, r.index, r.record) for r in rows if r.thread is not None and r.problem is None
                        ),
                    )
                    self._conn.executemany(  # a thread a new record refers to is evaluated again
                        "UPDATE threads SET due = 0, touched = touched + 1 WHERE origin = ? AND log_index = ?",
                        [(o, i) for o, i, _, _ in refs],
                    )
                except BaseException:
                    _rollback(self._conn)
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite error on {self.path}: {exc}") from None

    def indexed_size(self, origin: str) -> int:
        r = self._run("SELECT max(log_index) FROM records WHERE origin = ?", (origin,)).fetchone()
        return 0 if r is None or r[0] is None else int(r[0]) + 1

    def records(
        self,
        origin: str,
        *,
        types: Collection[str] | None = None,
        start: int = 0,
        end: int | None = None,
        sealed: bool = False,
    ) -> list[RecordRow]:
        sql = "SELECT * FROM records WHERE origin = ? AND log_index >= ? AND log_index < ? AND problem IS NULL"
        args: list[object] = [origin, start, end if end is not None else 2**62]
        if sealed:  # the partial index's own condition, word for word, so that SQLite reads only it
            sql = sql.replace("FROM records", "FROM records INDEXED BY records_sealed")
            sql += " AND instr(record, X'227365616c656422') > 0"
        if types is not None:
            kinds = sorted(types)
            if not kinds:
                return []
            sql += f" AND type IN ({', '.join('?' * len(kinds))})"
            args += kinds
            if start == 0 and end is None and not sealed:  # by type, not walking the log (as the planner would)
                sql = sql.replace("FROM records", "FROM records INDEXED BY records_by_type")
        rows = self._run(sql + " ORDER BY log_index", tuple(args)).fetchall()
        self.rows_read += len(rows)
        return [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def records_issued(
        self,
        origins: Sequence[str],
        *,
        since: str | None = None,
        until: str | None = None,
        types: Collection[str] | None = None,
        body: tuple[str, str] | None = None,
    ) -> list[RecordRow]:
        if not origins or (types is not None and not types):
            return []
        where = [f"r.origin IN ({', '.join('?' * len(origins))})", "r.problem IS NULL"]
        args: list[object] = list(origins)
        if since is not None or until is not None:
            where.append("(i.issued IS NULL OR (i.issued >= ? AND i.issued < ?))")
            args += [since or "", until or "~"]
        if types is not None:
            kinds = sorted(types)
            where.append(f"r.type IN ({', '.join('?' * len(kinds))})")
            args += kinds
        if body is not None:
            where.append("json_extract(CAST(r.record AS TEXT), '$.body.' || ?) IS ?")
            args += [body[0], body[1]]
        sel = "SELECT r.origin, r.log_index, r.leaf_hash, r.type, r.record, r.problem"
        on = "r.origin = i.origin AND r.log_index = i.log_index"
        if types is None:  # a window of every type (a quarter): driven by the time index
            sql = f"{sel} FROM record_issued i INDEXED BY record_issued_by_time CROSS JOIN records r ON {on}"
        else:  # a few types of every log: by the type index, each record's time looked up
            sql = f"{sel} FROM records r INDEXED BY records_by_type LEFT JOIN record_issued i ON {on}"
        sql += f" WHERE {' AND '.join(where)} ORDER BY r.origin, r.log_index"
        rows = self._run(sql, tuple(args)).fetchall()
        self.rows_read += len(rows)
        return [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def records_by_time(
        self, origins: Sequence[str], *, since: str, until: str, after: tuple[str, str, int] | None, limit: int
    ) -> list[RecordRow]:
        if not origins or limit <= 0:
            return []
        sel = (
            "SELECT r.origin, r.log_index, r.leaf_hash, r.type, r.record, r.problem, i.issued "
            "FROM record_issued i INDEXED BY record_issued_by_time "
            "CROSS JOIN records r ON r.origin = i.origin AND r.log_index = i.log_index "
            f"WHERE r.origin IN ({', '.join('?' * len(origins))}) AND r.problem IS NULL AND "
        )
        rows: list[Any] = []
        if after is None or after[0] == "":  # the untimed first, by origin and index
            last = ("", -1) if after is None else after[1:]
            rows = self._run(
                sel + "i.issued IS NULL AND (i.origin, i.log_index) > (?, ?) ORDER BY i.origin, i.log_index LIMIT ?",
                (*origins, *last, limit),
            ).fetchall()
            after = None
        if len(rows) < limit:
            keyset, args = ("", ()) if after is None else ("AND (i.issued, i.origin, i.log_index) > (?, ?, ?) ", after)
            rows += self._run(
                sel + f"i.issued >= ? AND i.issued < ? {keyset}ORDER BY i.issued, i.origin, i.log_index LIMIT ?",
                (*origins, since, until, *args, limit - len(rows)),
            ).fetchall()
        self.rows_read += len(rows)
        return [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], issued=r[6] or "") for r in rows]

    def quarantined(
        self, origin: str | None = None, *, start: int = 0, end: int | None = None, limit: int = 200
    ) -> tuple[int, list[RecordRow]]:
        where = "problem IS NOT NULL AND log_index >= ? AND log_index < ?"
        args: tuple[Any, ...] = (start, end if end is not None else 2**62)
        if origin is not None:
            where += " AND origin = ?"
            args += (origin,)
        count = self._run(f"SELECT count(*) FROM records WHERE {where}", args).fetchone()
        rows = self._run(
            f"SELECT * FROM records WHERE {where} ORDER BY origin, log_index LIMIT ?", (*args, limit)
        ).fetchall()
        return int(count[0]) if count else 0, [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def threads(
        self, *, unsettled: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[RecordRow]]:
        where = "t.involves_me = 1" + (" AND t.settled = 0" if unsettled else "")
        count = self._run(f"SELECT count(*) FROM threads t WHERE {where}").fetchone()
        rows = self._run(
            "SELECT r.* FROM threads t JOIN records r ON r.origin = t.origin AND r.log_index = t.log_index "
            f"WHERE {where} ORDER BY t.issued DESC, t.origin, t.log_index LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset),
        ).fetchall()
        self.rows_read += len(rows)
        return int(count[0]) if count else 0, [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def threads_about(
        self, origins: Sequence[str], record_type: str, topic: str, *, limit: int | None, offset: int = 0
    ) -> tuple[int, list[RecordRow]]:
        if not origins:
            return 0, []
        sql = (  # by the topic index: the cost follows that topic's threads, not the type's records
            "FROM thread_topics p INDEXED BY thread_topics_by_topic "
            "CROSS JOIN threads t ON t.origin = p.origin AND t.log_index = p.log_index "
            "CROSS JOIN records r ON r.origin = p.origin AND r.log_index = p.log_index "
            f"WHERE p.topic = ? AND p.origin IN ({', '.join('?' * len(origins))}) AND t.involves_me = 1 "
            "AND r.type = ? AND r.problem IS NULL"
        )
        args = (topic, *origins, record_type)
        rows = self._run(  # the page and the total in one pass (a second only for a page past the end)
            f"SELECT r.*, count(*) OVER () {sql} ORDER BY t.issued DESC, t.origin DESC, t.log_index DESC "
            "LIMIT ? OFFSET ?",
            (*args, -1 if limit is None else limit, offset),
        ).fetchall()
        self.rows_read += len(rows)
        total = rows[0][-1] if rows else (self._run(f"SELECT count(*) {sql}", args).fetchone() or (0,))[0]
        return int(total), [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def referrers(self, keys: Sequence[tuple[str, int]]) -> list[RecordRow]:
        out: dict[tuple[str, int], RecordRow] = {}
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            values = ", ".join("(?, ?)" for _ in chunk)
            rows = self._run(
                "SELECT DISTINCT r.* FROM record_refs f JOIN records r ON r.origin = f.origin "
                f"AND r.log_index = f.log_index WHERE (f.ref_origin, f.ref_index) IN (VALUES {values}) "
                "AND r.problem IS NULL",
                tuple(x for key in chunk for x in key),
            ).fetchall()
            for r in rows:
                out[(r[0], r[1])] = RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5])
        self.rows_read += len(out)
        return [out[k] for k in sorted(out)]

    def settle(self, keys: Sequence[tuple[str, int]]) -> None:
        with self._lock:
            try:
                self._conn.executemany("UPDATE threads SET settled = 1 WHERE origin = ? AND log_index = ?", keys)
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite error on {self.path}: {exc}") from None

    def due_threads(self, at: int, *, after: tuple[int, str, int] | None = None, limit: int = 1000) -> list[DueThread]:
        sql = (
            "SELECT r.*, t.due, t.touched FROM threads t JOIN records r ON r.origin = t.origin "
            "AND r.log_index = t.log_index WHERE t.involves_me = 1 AND t.settled = 0 AND t.due <= ?"
        )
        args: tuple[Any, ...] = (at,)
        if after is not None:
            sql += " AND (t.due, t.origin, t.log_index) > (?, ?, ?)"
            args += after
        order = " ORDER BY t.due, t.origin, t.log_index LIMIT ?"
        rows = self._run(sql + order, (*args, limit)).fetchall()
        self.rows_read += len(rows)
        return [DueThread(RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]), r[6], r[7]) for r in rows]

    def reschedule(self, rows: Sequence[tuple[str, int, int, int]]) -> None:
        values = [(due, origin, index, touched) for origin, index, touched, due in rows]
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._conn.executemany(
                        "UPDATE threads SET due = ? WHERE origin = ? AND log_index = ? AND touched = ?", values
                    )
                except BaseException:
                    _rollback(self._conn)
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"SQLite error on {self.path}: {exc}") from None

    def touch_threads(self) -> None:
        self._run("UPDATE threads SET due = 0, touched = touched + 1 WHERE settled = 0")

    def add_key_event(self, row: KeyEventRow) -> None:
        self._run(
            "INSERT INTO key_events VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin, log_index) DO UPDATE "
            "SET kind = excluded.kind, vkey = excluded.vkey, last_index = excluded.last_index",
            (row.origin, row.index, row.kind, row.vkey, row.last_index),
        )

    def key_events(self, origin: str) -> list[KeyEventRow]:
        rows = self._run("SELECT * FROM key_events WHERE origin = ? ORDER BY log_index", (origin,)).fetchall()
        return [KeyEventRow(*r) for r in rows]

    def update_peer_keys(self, name: str, vkey: str, cosigner_vkey: str | None) -> None:
        self._run("UPDATE peers SET vkey = ?, cosigner_vkey = ? WHERE name = ?", (vkey, cosigner_vkey, name))

    def add_times(self, rows: Sequence[TimeRow]) -> None:
        values = [(r.origin, r.kind, r.source, r.size, r.at, r.line) for r in rows]
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO times VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (origin, kind, source, size) "
                    "DO UPDATE SET at = excluded.at, line = excluded.line WHERE excluded.at < times.at",
                    values,
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise StorageError(f"SQLite error in the node store: {exc}", hint="retry shortly") from None
            except BaseException:
                _rollback(conn)
                raise

    def times(self, origin: str, kind: str) -> list[TimeRow]:
        rows = self._run(
            "SELECT origin, size, source, kind, at, line FROM times WHERE origin = ? AND kind = ? "
            "ORDER BY size, source",
            (origin, kind),
        ).fetchall()
        return [TimeRow(*r) for r in rows]

    def note_sealed_finding(self, row: SealedFindingRow, *, keep: int) -> None:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "INSERT INTO sealed_findings VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (origin, log_index) DO UPDATE SET reason = excluded.reason, type = excluded.type, "
                    "sender = excluded.sender, tlp = excluded.tlp, at = excluded.at",
                    (row.origin, row.index, row.reason, row.type, row.sender, row.tlp, row.at),
                )
                conn.execute(
                    "DELETE FROM sealed_findings WHERE rowid NOT IN "
                    "(SELECT rowid FROM sealed_findings ORDER BY at DESC, rowid DESC LIMIT ?)",
                    (max(0, keep),),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(conn)
                raise StorageError(f"SQLite error in the node store: {exc}", hint="retry shortly") from None

    def sealed_findings(self) -> list[SealedFindingRow]:
        rows = self._run(
            "SELECT origin, log_index, reason, type, sender, tlp, at FROM sealed_findings ORDER BY origin, log_index"
        ).fetchall()
        return [SealedFindingRow(*r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_check: type[NodeStore] = SQLiteNodeStore
