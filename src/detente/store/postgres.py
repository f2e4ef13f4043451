"""PostgreSQL driver (psycopg 3): the production store.

The checkpoint compare-and-swap takes the log's row lock (``SELECT … FOR UPDATE``), so
concurrent writers from any number of processes serialise on it; tiles and the new checkpoint
commit in the same transaction. Durable on return under PostgreSQL's default
``synchronous_commit = on``. Tables live in one schema (default ``detente``), so several
deployments or test runs can share a database.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence

import psycopg

from detente.errors import CheckpointConflict, LogNotFound, StorageError, StoreUnavailable
from detente.store.pg_connection import Reconnecting
from detente.store.protocol import LogStore, TilePos
from detente.tlog.tiles import TileID

__all__ = ["PostgresStore"]

SCHEMA_VERSION = 1


def _schema_sql(schema: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {schema}.logs (
    origin     TEXT PRIMARY KEY,
    checkpoint BYTEA
);
CREATE TABLE IF NOT EXISTS {schema}.tiles (
    origin TEXT     NOT NULL,
    level  SMALLINT NOT NULL,
    idx    BIGINT   NOT NULL,
    width  SMALLINT NOT NULL,
    data   BYTEA    NOT NULL,
    PRIMARY KEY (origin, level, idx)
);
INSERT INTO {schema}.meta(key, value) VALUES ('schema_version', '{SCHEMA_VERSION}')
    ON CONFLICT (key) DO NOTHING;
"""


class PostgresStore(Reconnecting):
    """A :class:`~detente.store.protocol.LogStore` in a PostgreSQL schema."""

    def __init__(self, conninfo: str, *, schema: str = "detente", create: bool = False) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StoreUnavailable(f"schema name {schema!r} must be a lowercase SQL identifier")
        self.schema = schema
        self._lock = threading.Lock()
        try:
            self._conninfo = conninfo
            self._conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}",
                hint="check the URL (postgresql://host:port/db) and that the server is running",
            ) from None
        try:
            exists = self._conn.execute(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'meta'",
                (schema,),
            ).fetchone()
            if exists is None:
                if not create:
                    raise StoreUnavailable(
                        f"PostgreSQL schema {schema!r} has no detente tables",
                        hint="create them first (detente init --store postgresql://…)",
                    )
                with self._conn.transaction():
                    self._conn.execute(_schema_sql(schema).encode())
                self._compress_tiles_with_lz4()
            row = self._conn.execute(f"SELECT value FROM {schema}.meta WHERE key = 'schema_version'").fetchone()
            if row is None or int(row[0]) != SCHEMA_VERSION:
                raise StoreUnavailable(f"schema {schema!r} is not at version {SCHEMA_VERSION}")
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreUnavailable(f"cannot prepare PostgreSQL schema {schema!r}: {exc}") from None

    def _compress_tiles_with_lz4(self) -> None:
        """Entry bundles (up to 256 entries, ~130 KiB of JSON) are stored compressed by TOAST; with
        PostgreSQL's default pglz the server spent 8.2 ms of CPU per 1,000-entry batch, with lz4
        2.4 ms (bench/pg_append_bench.py, docs/performance.md). A server built without lz4 keeps
        pglz: the tables work the same, only slower to write."""
        with contextlib.suppress(psycopg.errors.FeatureNotSupported):
            self._conn.execute(f"ALTER TABLE {self.schema}.tiles ALTER COLUMN data SET COMPRESSION lz4")

    def ensure_log(self, origin: str) -> None:
        with self._lock, _read_errors():
            self._conn.execute(f"INSERT INTO {self.schema}.logs(origin) VALUES (%s) ON CONFLICT DO NOTHING", (origin,))

    def logs(self) -> list[str]:
        with self._lock, _read_errors():
            rows = self._conn.execute(f"SELECT origin FROM {self.schema}.logs ORDER BY origin").fetchall()
        return [r[0] for r in rows]

    def latest_checkpoint(self, origin: str) -> bytes | None:
        with self._lock, _read_errors():
            row = self._conn.execute(
                f"SELECT checkpoint FROM {self.schema}.logs WHERE origin = %s", (origin,)
            ).fetchone()
        if row is None:
            raise LogNotFound(f"no log {origin!r} in schema {self.schema!r}")
        return None if row[0] is None else bytes(row[0])

    def read_tiles(self, origin: str, positions: Sequence[TilePos]) -> dict[TilePos, tuple[bytes, int]]:
        if not positions:
            return {}
        levels = [p[0] for p in positions]
        idxs = [p[1] for p in positions]
        with self._lock, _read_errors():
            rows = self._conn.execute(
                f"SELECT t.level, t.idx, t.data, t.width FROM {self.schema}.tiles t "
                "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, idx) "
                "ON t.level = w.level AND t.idx = w.idx WHERE t.origin = %s",
                (levels, idxs, origin),
            ).fetchall()
        return {(r[0], r[1]): (bytes(r[2]), r[3]) for r in rows}

    def commit(
        self,
        origin: str,
        expected: bytes | None,
        checkpoint: bytes,
        tiles: Mapping[TileID, bytes],
    ) -> None:
        params = _commit_params(origin, expected, checkpoint, tiles)
        with self._lock:
            try:
                row = self._conn.execute(self._commit_sql, params).fetchone()
            except psycopg.Error as exc:
                raise self._write_error(origin, exc) from None
        self._check_committed(origin, row)

    def start_commit(
        self,
        origin: str,
        expected: bytes | None,
        checkpoint: bytes,
        tiles: Mapping[TileID, bytes],
    ) -> Callable[[], None]:
        """Send the commit's statement in pipeline mode and return before the server answers: it
        inserts the tiles while the caller computes the next batch. The returned function leaves
        pipeline mode, which sends the Sync that ends the statement's transaction (commit and WAL
        flush), and waits for the answer.
        This store's connection is held until then: other threads wait for it."""
        params = _commit_params(origin, expected, checkpoint, tiles)
        self._lock.acquire()
        pipeline = contextlib.ExitStack()
        try:
            pipeline.enter_context(self._conn.pipeline())
            cursor = self._conn.execute(self._commit_sql, params)
        except BaseException as exc:
            try:
                with contextlib.suppress(psycopg.Error):  # a broken connection: exc says why
                    pipeline.close()
            finally:
                self._lock.release()
            if isinstance(exc, psycopg.Error):
                raise self._write_error(origin, exc) from None
            raise

        def finish() -> None:
            try:
                pipeline.close()  # leaving pipeline mode sends the Sync and waits for every answer
                row = cursor.fetchone()
            except psycopg.Error as exc:
                raise self._write_error(origin, exc) from None
            finally:
                self._lock.release()
            self._check_committed(origin, row)

        return finish

    def _write_error(self, origin: str, exc: psycopg.Error) -> StorageError:
        if isinstance(exc, psycopg.errors.DivisionByZero):
            return StorageError(f"refused to rewrite a tile of {origin!r} at the same or a smaller width")
        return StorageError(f"PostgreSQL write failed: {exc}")

    def _check_committed(self, origin: str, row: tuple[int, int] | None) -> None:
        if row is None or row[0] == 0:
            if row is not None and row[1] == 0:
                raise LogNotFound(f"no log {origin!r} in schema {self.schema!r}")
            raise CheckpointConflict(f"checkpoint of {origin!r} changed under this writer")

    @property
    def _commit_sql(self) -> bytes:
        """One statement, one round trip, one transaction (autocommit): lock the log's row, check
        the checkpoint is the one the writer started from, write the tiles (never narrower than
        stored) and the new checkpoint. A tile that would not be written (the same or a smaller
        width) fails the whole statement (a division by zero, the one error SQL raises on demand),
        so nothing of the batch is kept; a changed checkpoint writes nothing and says so."""
        s = self.schema
        return f"""
WITH cur AS (SELECT checkpoint FROM {s}.logs WHERE origin = %(o)s FOR UPDATE),
ok AS (SELECT 1 AS one FROM cur WHERE checkpoint IS NOT DISTINCT FROM %(e)b::bytea),
ins AS (
    INSERT INTO {s}.tiles(origin, level, idx, width, data)
    SELECT %(o)s, t.level, t.idx, t.width, t.data
    FROM unnest(%(l)b::int[], %(i)b::bigint[], %(w)b::int[], %(d)b::bytea[]) AS t(level, idx, width, data)
    WHERE EXISTS (SELECT 1 FROM ok)
    ON CONFLICT (origin, level, idx) DO UPDATE SET width = excluded.width, data = excluded.data
    WHERE {s}.tiles.width < excluded.width
    RETURNING 1
),
upd AS (UPDATE {s}.logs SET checkpoint = %(c)b WHERE origin = %(o)s AND EXISTS (SELECT 1 FROM ok) RETURNING 1)
SELECT
    (SELECT count(*) FROM upd) / (CASE WHEN NOT EXISTS (SELECT 1 FROM ok) OR (SELECT count(*) FROM ins) = %(n)s
                                       THEN 1 ELSE 0 END),
    (SELECT count(*) FROM cur)
""".encode()

    def drop_schema(self) -> None:
        """Drop every detente table in this schema (tests and ``detente`` admin tooling only)."""
        with self._lock:
            self._conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


@contextlib.contextmanager
def _read_errors() -> Iterator[None]:
    # A dropped connection (the server restarted) is a typed error, not psycopg's; the next call
    # reconnects (pg_connection.Reconnecting).
    try:
        yield
    except psycopg.Error as exc:
        raise StorageError(f"PostgreSQL read failed: {str(exc).strip() or type(exc).__name__}") from None


def _commit_params(
    origin: str, expected: bytes | None, checkpoint: bytes, tiles: Mapping[TileID, bytes]
) -> dict[str, object]:
    items = list(tiles.items())
    return {
        "o": origin,
        "e": expected,
        "l": [t.level for t, _ in items],
        "i": [t.index for t, _ in items],
        "w": [t.width for t, _ in items],
        "d": [blob for _, blob in items],
        "c": checkpoint,
        "n": len(items),
    }


_check: type[LogStore] = PostgresStore
