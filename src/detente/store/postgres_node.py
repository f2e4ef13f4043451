"""PostgreSQL driver for node state (:class:`~detente.store.node_protocol.NodeStore`), in the
same schema as the logs."""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Sequence
from typing import Any

import psycopg

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
from detente.store.pg_connection import Reconnecting

__all__ = ["PostgresNodeStore"]


def _schema_sql(s: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.tokens (
    token_id TEXT PRIMARY KEY, secret_hash BYTEA NOT NULL, role TEXT NOT NULL, label TEXT NOT NULL,
    created BIGINT NOT NULL, expires BIGINT, revoked BIGINT);
CREATE TABLE IF NOT EXISTS {s}.peers (
    name TEXT PRIMARY KEY, url TEXT NOT NULL, vkey TEXT NOT NULL, cosigner_vkey TEXT, added BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.witness (origin TEXT PRIMARY KEY, size BIGINT NOT NULL, note BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.cursors (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.cosigned (origin TEXT PRIMARY KEY, note BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.alarms (
    alarm_id BIGSERIAL PRIMARY KEY, origin TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,
    at BIGINT NOT NULL, log_index BIGINT);
"""


def _keys_sql(s: str) -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {s}.key_events (
    origin TEXT NOT NULL, log_index BIGINT NOT NULL, kind TEXT NOT NULL, vkey TEXT NOT NULL, last_index BIGINT,
    PRIMARY KEY (origin, log_index));
CREATE TABLE IF NOT EXISTS {s}.records (
    origin TEXT NOT NULL, log_index BIGINT NOT NULL, leaf_hash TEXT NOT NULL, type TEXT NOT NULL,
    record BYTEA NOT NULL, problem TEXT, PRIMARY KEY (origin, log_index));
CREATE INDEX IF NOT EXISTS records_by_type ON {s}.records (origin, type, log_index);
CREATE INDEX IF NOT EXISTS records_quarantined ON {s}.records (origin, log_index) WHERE problem IS NOT NULL;
CREATE TABLE IF NOT EXISTS {s}.record_refs (
    ref_origin TEXT NOT NULL, ref_index BIGINT NOT NULL, origin TEXT NOT NULL, log_index BIGINT NOT NULL,
    PRIMARY KEY (ref_origin, ref_index, origin, log_index));
CREATE TABLE IF NOT EXISTS {s}.threads (
    origin TEXT NOT NULL, log_index BIGINT NOT NULL, issued TEXT NOT NULL, involves_me BOOLEAN NOT NULL,
    settled BOOLEAN NOT NULL, PRIMARY KEY (origin, log_index));
CREATE INDEX IF NOT EXISTS threads_by_time ON {s}.threads (involves_me, settled, issued);
ALTER TABLE {s}.threads ADD COLUMN IF NOT EXISTS due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE {s}.threads ADD COLUMN IF NOT EXISTS touched BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS threads_schedule ON {s}.threads (involves_me, due, origin, log_index) WHERE NOT settled;
CREATE INDEX IF NOT EXISTS threads_page ON {s}.threads (involves_me, issued DESC, origin, log_index);
CREATE INDEX IF NOT EXISTS threads_open_page ON {s}.threads (involves_me, settled, issued DESC, origin, log_index);
ALTER TABLE {s}.peers ADD COLUMN IF NOT EXISTS read_url TEXT;
CREATE TABLE IF NOT EXISTS {s}.times (
    origin TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL, size BIGINT NOT NULL, at BIGINT NOT NULL,
    line TEXT NOT NULL, PRIMARY KEY (origin, kind, source, size));
"""


_SEALED = "position('\\x227365616c656422'::bytea in record) > 0"
"""A record whose signed JSON holds ``"sealed"`` (a partial index of them: looking for sealed records
reads only those)."""


class PostgresNodeStore(Reconnecting):
    def __init__(self, conninfo: str, *, schema: str = "detente", create: bool = False) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StoreUnavailable(f"schema name {schema!r} must be a lowercase SQL identifier")
        self.s = schema
        self._lock = threading.Lock()
        self.rows_read = 0
        try:
            self._conninfo = conninfo
            self._conn = psycopg.connect(conninfo, autocommit=True)
            if create:
                with self._conn.transaction():
                    self._conn.execute(_schema_sql(schema).encode())
            elif not self._has_tables():
                raise StoreUnavailable(f"schema {schema!r} has no node tables", hint="run: detente init")
            self._conn.execute(_keys_sql(schema).encode())  # created on open: older stores get it too
            self._conn.execute(  # likewise: sealed records this node cannot read (docs/sealed.md), bounded
                f"CREATE TABLE IF NOT EXISTS {schema}.sealed_findings (origin TEXT NOT NULL, "
                "log_index BIGINT NOT NULL, reason TEXT NOT NULL, type TEXT, sender TEXT, tlp TEXT, "
                "at BIGINT NOT NULL, PRIMARY KEY (origin, log_index))"
            )
            self._time_records()
            self._topic_threads()
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot open PostgreSQL node state: {str(exc).strip().splitlines()[0]}") from None

    def _topic_threads(self) -> None:
        """The ``thread_topics`` table (the body's topic of each thread's opening record that has
        one: the export-control disclosures are found by it, without reading every hotline message):
        created on open, and an older store's threads given theirs once (a cursor remembers it)."""
        s = self.s
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {s}.thread_topics (origin TEXT NOT NULL, log_index BIGINT NOT NULL, "
            "topic TEXT NOT NULL, PRIMARY KEY (origin, log_index)); "
            f"CREATE INDEX IF NOT EXISTS thread_topics_by_topic ON {s}.thread_topics (topic, origin, log_index)"
        )
        if self._conn.execute(f"SELECT 1 FROM {s}.cursors WHERE name = 'thread_topics'").fetchone() is None:
            with self._conn.transaction():
                rows = self._conn.execute(
                    f"SELECT r.origin, r.log_index, r.record FROM {s}.threads t JOIN {s}.records r "
                    "ON r.origin = t.origin AND r.log_index = t.log_index"
                ).fetchall()
                with self._conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {s}.thread_topics VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", thread_topics(rows)
                    )
                self._conn.execute(f"INSERT INTO {s}.cursors VALUES ('thread_topics', 1) ON CONFLICT DO NOTHING")

    def _time_records(self) -> None:
        """The ``record_issued`` table (when each indexed record says it was issued): created on open,
        and an older store's records timed once (a cursor remembers it). A time PostgreSQL cannot
        read stays NULL, and such a record is in every window (the reader checks)."""
        s = self.s
        self._conn.execute(
            f"CREATE TABLE IF NOT EXISTS {s}.record_issued (origin TEXT NOT NULL, log_index BIGINT NOT NULL, "
            "issued TEXT, PRIMARY KEY (origin, log_index)); "
            f"CREATE INDEX IF NOT EXISTS record_issued_by_time ON {s}.record_issued (issued, origin, log_index); "
            f"CREATE INDEX IF NOT EXISTS records_sealed ON {s}.records (origin, log_index) WHERE {_SEALED}"
        )
        if self._conn.execute(f"SELECT 1 FROM {s}.cursors WHERE name = 'record_issued'").fetchone() is None:
            with self._conn.transaction():
                self._conn.execute(
                    f"INSERT INTO {s}.record_issued SELECT origin, log_index, CASE WHEN t ~ "
                    r"'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$' "
                    """THEN to_char(t::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END """
                    f"FROM (SELECT origin, log_index, convert_from(record, 'UTF8')::jsonb ->> 'issued' AS t "
                    f"FROM {s}.records) x ON CONFLICT DO NOTHING"
                )
                self._conn.execute(f"INSERT INTO {s}.cursors VALUES ('record_issued', 1) ON CONFLICT DO NOTHING")

    def _has_tables(self) -> bool:
        q = "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'tokens'"
        return self._conn.execute(q, (self.s,)).fetchone() is not None

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> psycopg.Cursor[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql.replace("@", self.s + "."), args)
            except psycopg.errors.UniqueViolation:
                raise
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error: {exc}") from None

    def add_token(self, row: TokenRow) -> None:
        self._run(
            "INSERT INTO @tokens VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (row.token_id, row.secret_hash, row.role, row.label, row.created, row.expires, row.revoked),
        )

    def get_token(self, token_id: str) -> TokenRow | None:
        r = self._run("SELECT * FROM @tokens WHERE token_id = %s", (token_id,)).fetchone()
        return None if r is None else TokenRow(r[0], bytes(r[1]), r[2], r[3], r[4], r[5], r[6])

    def revoke_token(self, token_id: str, at: int) -> bool:
        self._run("UPDATE @tokens SET revoked = %s WHERE token_id = %s AND revoked IS NULL", (at, token_id))
        return self.get_token(token_id) is not None

    def list_tokens(self) -> list[TokenRow]:
        rows = self._run("SELECT * FROM @tokens ORDER BY created, token_id").fetchall()
        return [TokenRow(r[0], bytes(r[1]), r[2], r[3], r[4], r[5], r[6]) for r in rows]

    def add_peer(self, row: PeerRow) -> None:
        try:
            self._run(
                "INSERT INTO @peers (name, url, vkey, cosigner_vkey, added, read_url) VALUES (%s, %s, %s, %s, %s, %s)",
                (row.name, row.url, row.vkey, row.cosigner_vkey, row.added, row.read_url),
            )
        except psycopg.errors.UniqueViolation:
            raise ConfigError(
                f"peer {row.name!r} is already pinned",
                hint=f"a pinned key is never replaced silently: detente peer remove {row.name} first",
            ) from None

    def remove_peer(self, name: str) -> bool:
        return self._run("DELETE FROM @peers WHERE name = %s", (name,)).rowcount == 1

    def peers(self) -> list[PeerRow]:
        q = "SELECT name, url, vkey, cosigner_vkey, added, read_url FROM @peers ORDER BY name"
        return [PeerRow(*r) for r in self._run(q).fetchall()]

    def witness_latest(self, origin: str) -> bytes | None:
        r = self._run("SELECT note FROM @witness WHERE origin = %s", (origin,)).fetchone()
        return None if r is None else bytes(r[0])

    def witness_swap(self, origin: str, old_size: int, size: int, note: bytes) -> bool:
        s = self.s
        with self._lock:
            try:
                with self._conn.transaction():
                    r = self._conn.execute(
                        f"SELECT size FROM {s}.witness WHERE origin = %s FOR UPDATE", (origin,)
                    ).fetchone()
                    if r is None and old_size == 0:
                        cur = self._conn.execute(
                            f"INSERT INTO {s}.witness VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                            (origin, size, note),
                        )
                        return cur.rowcount == 1
                    if r is None or r[0] != old_size:
                        return False
                    self._conn.execute(
                        f"UPDATE {s}.witness SET size = %s, note = %s WHERE origin = %s", (size, note, origin)
                    )
                    return True
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error: {exc}") from None

    def save_cosigned(self, origin: str, note: bytes) -> None:
        self._run(
            "INSERT INTO @cosigned VALUES (%s, %s) ON CONFLICT (origin) DO UPDATE SET note = excluded.note",
            (origin, note),
        )

    def load_cosigned(self, origin: str) -> bytes | None:
        r = self._run("SELECT note FROM @cosigned WHERE origin = %s", (origin,)).fetchone()
        return None if r is None else bytes(r[0])

    def get_cursor(self, name: str) -> int:
        r = self._run("SELECT value FROM @cursors WHERE name = %s", (name,)).fetchone()
        return 0 if r is None else int(r[0])

    def set_cursor(self, name: str, value: int) -> None:
        self._run(
            "INSERT INTO @cursors VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def add_alarm(self, origin: str, kind: str, detail: str, at: int, index: int | None) -> int:
        r = self._run(
            "INSERT INTO @alarms(origin, kind, detail, at, log_index) VALUES (%s, %s, %s, %s, %s) RETURNING alarm_id",
            (origin, kind, detail, at, index),
        ).fetchone()
        assert r is not None
        return int(r[0])

    def alarms(self) -> list[AlarmRow]:
        return [AlarmRow(*r) for r in self._run("SELECT * FROM @alarms ORDER BY alarm_id").fetchall()]

    def add_records(self, rows: Sequence[RecordRow]) -> None:
        values = [(r.origin, r.index, r.leaf_hash, r.type, r.record, r.problem) for r in rows]
        refs = [(o, i, r.origin, r.index) for r in rows if r.problem is None for o, i in r.refs]
        threads = [
            (r.origin, r.index, r.thread.issued, r.thread.involves_me, r.thread.settled)
            for r in rows
            if r.thread is not None and r.problem is None
        ]
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {self.s}.records VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        values,
                    )
                    cur.executemany(
                        f"INSERT INTO {self.s}.record_issued VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        [(r.origin, r.index, r.issued) for r in rows],
                    )
                    if refs:
                        cur.executemany(
                            f"INSERT INTO {self.s}.record_refs VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING", refs
                        )
                    if threads:
                        cur.executemany(
                            f"INSERT INTO {self.s}.threads (origin, log_index, issued, involves_me, settled) "
                            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                            threads,
                        )
                    opening = ((r.origin, r.index, r.record) for r in rows if r.thread and r.problem is None)
                    topics = thread_topics(opening)
                    if topics:
                        cur.executemany(
                            f"INSERT INTO {self.s}.thread_topics VALUES (%s, %s, %s) ON CONFLICT DO NOTHING", topics
                        )
                    if refs:  # a thread a new record refers to is evaluated again
                        cur.execute(
                            f"UPDATE {self.s}.threads t SET due = 0, touched = t.touched + n.n FROM "
                            "(SELECT o, i, count(*) AS n FROM unnest(%s::text[], %s::bigint[]) AS u(o, i) "
                            "GROUP BY o, i) n WHERE t.origin = n.o AND t.log_index = n.i",
                            ([x[0] for x in refs], [x[1] for x in refs]),
                        )
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error: {exc}") from None

    def indexed_size(self, origin: str) -> int:
        r = self._run("SELECT max(log_index) FROM @records WHERE origin = %s", (origin,)).fetchone()
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
        sql = "SELECT * FROM @records WHERE origin = %s AND log_index >= %s AND log_index < %s AND problem IS NULL"
        args: list[Any] = [origin, start, end if end is not None else 2**62]
        if sealed:  # the partial index's own condition
            sql += f" AND {_SEALED}"
        if types is not None:
            sql += " AND type = ANY(%s)"
            args.append(sorted(types))
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
        where = ["r.origin = ANY(%s)", "r.problem IS NULL"]
        args: list[Any] = [list(origins)]
        if since is not None or until is not None:
            where.append("(i.issued IS NULL OR (i.issued >= %s AND i.issued < %s))")
            args += [since or "", until or "~"]
        if types is not None:
            where.append("r.type = ANY(%s)")
            args.append(sorted(types))
        if body is not None:
            where.append("convert_from(r.record, 'UTF8')::jsonb -> 'body' ->> %s = %s")
            args += [body[0], body[1]]
        sel = "SELECT r.origin, r.log_index, r.leaf_hash, r.type, r.record, r.problem"
        if types is None:  # a window of every type (a quarter): each record looked up from the time index
            sql = (
                f"{sel} FROM @record_issued i CROSS JOIN LATERAL (SELECT * FROM @records x WHERE x.origin = i.origin "
                "AND x.log_index = i.log_index LIMIT 1) r"  # LIMIT: a lookup by key each, never a scan of every record
            )
        else:  # a few types of every log: by the type index, each record's time looked up
            sql = f"{sel} FROM @records r JOIN @record_issued i ON i.origin = r.origin AND i.log_index = r.log_index"
        rows = self._run(f"{sql} WHERE {' AND '.join(where)} ORDER BY r.origin, r.log_index", tuple(args)).fetchall()
        self.rows_read += len(rows)
        return [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def records_by_time(
        self, origins: Sequence[str], *, since: str, until: str, after: tuple[str, str, int] | None, limit: int
    ) -> list[RecordRow]:
        if not origins or limit <= 0:
            return []
        sel = (
            "SELECT r.origin, r.log_index, r.leaf_hash, r.type, r.record, r.problem, i.issued FROM @record_issued i "
            "CROSS JOIN LATERAL (SELECT * FROM @records x WHERE x.origin = i.origin AND x.log_index = i.log_index "
            "LIMIT 1) r WHERE i.origin = ANY(%s) AND r.problem IS NULL AND "  # LIMIT: a lookup by key each
        )
        rows: list[Any] = []
        if after is None or after[0] == "":  # the untimed first, by origin and index
            last = ("", -1) if after is None else after[1:]
            rows = self._run(
                sel + "i.issued IS NULL AND (i.origin, i.log_index) > (%s, %s) ORDER BY i.origin, i.log_index LIMIT %s",
                (list(origins), *last, limit),
            ).fetchall()
            after = None
        if len(rows) < limit:
            keyset, args = (
                ("", ()) if after is None else ("AND (i.issued, i.origin, i.log_index) > (%s, %s, %s) ", after)
            )
            rows += self._run(
                sel + f"i.issued >= %s AND i.issued < %s {keyset}ORDER BY i.issued, i.origin, i.log_index LIMIT %s",
                (list(origins), since, until, *args, limit - len(rows)),
            ).fetchall()
        self.rows_read += len(rows)
        return [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], issued=r[6] or "") for r in rows]

    def quarantined(
        self, origin: str | None = None, *, start: int = 0, end: int | None = None, limit: int = 200
    ) -> tuple[int, list[RecordRow]]:
        where = "problem IS NOT NULL AND log_index >= %s AND log_index < %s"
        args: tuple[Any, ...] = (start, end if end is not None else 2**62)
        if origin is not None:
            where += " AND origin = %s"
            args += (origin,)
        count = self._run(f"SELECT count(*) FROM @records WHERE {where}", args).fetchone()
        rows = self._run(
            f"SELECT * FROM @records WHERE {where} ORDER BY origin, log_index LIMIT %s", (*args, limit)
        ).fetchall()
        return int(count[0]) if count else 0, [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def threads(
        self, *, unsettled: bool = False, limit: int | None = None, offset: int = 0
    ) -> tuple[int, list[RecordRow]]:
        where = "t.involves_me" + (" AND NOT t.settled" if unsettled else "")
        count = self._run(f"SELECT count(*) FROM @threads t WHERE {where}").fetchone()
        rows = self._run(
            "SELECT r.* FROM @threads t JOIN @records r ON r.origin = t.origin AND r.log_index = t.log_index "
            f"WHERE {where} ORDER BY t.issued DESC, t.origin, t.log_index LIMIT %s OFFSET %s",
            (limit, offset),
        ).fetchall()
        self.rows_read += len(rows)
        return int(count[0]) if count else 0, [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def threads_about(
        self, origins: Sequence[str], record_type: str, topic: str, *, limit: int | None, offset: int = 0
    ) -> tuple[int, list[RecordRow]]:
        if not origins:
            return 0, []
        sql = (  # by the topic index: the cost follows that topic's threads, not the type's records
            "FROM @thread_topics p JOIN @threads t ON t.origin = p.origin AND t.log_index = p.log_index "
            "JOIN @records r ON r.origin = p.origin AND r.log_index = p.log_index "
            "WHERE p.topic = %s AND p.origin = ANY(%s) AND t.involves_me AND r.type = %s AND r.problem IS NULL"
        )
        args = (topic, list(origins), record_type)
        rows = self._run(  # the page and the total in one pass (a second only for a page past the end)
            f"SELECT r.origin, r.log_index, r.leaf_hash, r.type, r.record, r.problem, count(*) OVER () {sql} "
            "ORDER BY t.issued DESC, t.origin DESC, t.log_index DESC LIMIT %s OFFSET %s",
            (*args, limit, offset),
        ).fetchall()
        self.rows_read += len(rows)
        total = rows[0][-1] if rows else (self._run(f"SELECT count(*) {sql}", args).fetchone() or (0,))[0]
        return int(total), [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def referrers(self, keys: Sequence[tuple[str, int]]) -> list[RecordRow]:
        if not keys:
            return []
        rows = self._run(
            "SELECT DISTINCT r.* FROM @record_refs f JOIN @records r ON r.origin = f.origin "
            "AND r.log_index = f.log_index WHERE (f.ref_origin, f.ref_index) IN "
            "(SELECT * FROM unnest(%s::text[], %s::bigint[])) AND r.problem IS NULL ORDER BY r.origin, r.log_index",
            ([k[0] for k in keys], [k[1] for k in keys]),
        ).fetchall()
        self.rows_read += len(rows)
        return [RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]) for r in rows]

    def settle(self, keys: Sequence[tuple[str, int]]) -> None:
        if keys:
            self._run(
                "UPDATE @threads SET settled = TRUE WHERE (origin, log_index) IN "
                "(SELECT * FROM unnest(%s::text[], %s::bigint[]))",
                ([k[0] for k in keys], [k[1] for k in keys]),
            )

    def due_threads(self, at: int, *, after: tuple[int, str, int] | None = None, limit: int = 1000) -> list[DueThread]:
        sql = (
            "SELECT r.*, t.due, t.touched FROM @threads t JOIN @records r ON r.origin = t.origin "
            "AND r.log_index = t.log_index WHERE t.involves_me AND NOT t.settled AND t.due <= %s"
        )
        args: tuple[Any, ...] = (at,)
        if after is not None:
            sql += " AND (t.due, t.origin, t.log_index) > (%s, %s, %s)"
            args += after
        order = " ORDER BY t.due, t.origin, t.log_index LIMIT %s"
        rows = self._run(sql + order, (*args, limit)).fetchall()
        self.rows_read += len(rows)
        return [DueThread(RecordRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5]), r[6], r[7]) for r in rows]

    def reschedule(self, rows: Sequence[tuple[str, int, int, int]]) -> None:
        if rows:
            self._run(
                "UPDATE @threads t SET due = u.due FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[]) "
                "AS u(origin, log_index, touched, due) WHERE t.origin = u.origin AND t.log_index = u.log_index "
                "AND t.touched = u.touched",
                tuple([r[k] for r in rows] for k in range(4)),
            )

    def touch_threads(self) -> None:
        self._run("UPDATE @threads SET due = 0, touched = touched + 1 WHERE NOT settled")

    def add_key_event(self, row: KeyEventRow) -> None:
        self._run(
            "INSERT INTO @key_events VALUES (%s, %s, %s, %s, %s) ON CONFLICT (origin, log_index) DO UPDATE "
            "SET kind = excluded.kind, vkey = excluded.vkey, last_index = excluded.last_index",
            (row.origin, row.index, row.kind, row.vkey, row.last_index),
        )

    def key_events(self, origin: str) -> list[KeyEventRow]:
        rows = self._run("SELECT * FROM @key_events WHERE origin = %s ORDER BY log_index", (origin,)).fetchall()
        return [KeyEventRow(*r) for r in rows]

    def update_peer_keys(self, name: str, vkey: str, cosigner_vkey: str | None) -> None:
        self._run("UPDATE @peers SET vkey = %s, cosigner_vkey = %s WHERE name = %s", (vkey, cosigner_vkey, name))

    def add_times(self, rows: Sequence[TimeRow]) -> None:
        values = [(r.origin, r.kind, r.source, r.size, r.at, r.line) for r in rows]
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {self.s}.times VALUES (%s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (origin, kind, source, size) DO UPDATE SET at = excluded.at, line = excluded.line "
                        f"WHERE excluded.at < {self.s}.times.at",
                        values,
                    )
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error: {exc}") from None

    def times(self, origin: str, kind: str) -> list[TimeRow]:
        rows = self._run(
            "SELECT origin, size, source, kind, at, line FROM @times WHERE origin = %s AND kind = %s "
            "ORDER BY size, source",
            (origin, kind),
        ).fetchall()
        return [TimeRow(*r) for r in rows]

    def note_sealed_finding(self, row: SealedFindingRow, *, keep: int) -> None:
        s = self.s
        with self._lock:
            try:
                with self._conn.transaction():
                    self._conn.execute(
                        f"INSERT INTO {s}.sealed_findings VALUES (%s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT (origin, log_index) DO UPDATE SET reason = excluded.reason, "
                        "type = excluded.type, sender = excluded.sender, tlp = excluded.tlp, at = excluded.at",
                        (row.origin, row.index, row.reason, row.type, row.sender, row.tlp, row.at),
                    )
                    self._conn.execute(
                        f"DELETE FROM {s}.sealed_findings WHERE (origin, log_index) NOT IN (SELECT origin, log_index "
                        f"FROM {s}.sealed_findings ORDER BY at DESC, origin DESC, log_index DESC LIMIT %s)",
                        (max(0, keep),),
                    )
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error: {exc}") from None

    def sealed_findings(self) -> list[SealedFindingRow]:
        rows = self._run(
            "SELECT origin, log_index, reason, type, sender, tlp, at FROM @sealed_findings ORDER BY origin, log_index"
        ).fetchall()
        return [SealedFindingRow(*r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_check: type[NodeStore] = PostgresNodeStore
