"""SQLite driver: the embedded default. One writer, WAL, ``synchronous=FULL``, 32 KiB pages.

Writes run in ``BEGIN IMMEDIATE`` transactions on one connection guarded by a lock (datasette's
single-writer pattern); each reading thread gets its own read-only connection, so readers never
block the writer under WAL. ``commit`` is durable on return: with ``synchronous=FULL`` SQLite
fsyncs the WAL at every commit.

A new database gets 32 KiB pages (SQLite's default is 4 KiB; an existing file keeps its own): an
entry bundle is ~130 KiB, which at 4 KiB is a chain of 33 overflow pages that SQLite walks page by
page to read, to free when the partial bundle is rewritten, and to write as as many WAL frames.
Appends measured ~1.4× faster with 32 or 64 KiB pages on the same machine (docs/performance.md).

Tiles live in an ordinary rowid table with a unique index on ``(origin, level, idx)`` (schema
version 2). Version 1 kept them in a ``WITHOUT ROWID`` table, which stores whole rows in the
B-tree's interior pages too: with 16–140 KiB rows a 32 KiB interior page held a handful of keys,
so the tree grew a level every few-fold of the log and a tile read walked 4–7 pages, each with
its overflow (a tile read 3–5× slower at 10⁶ entries; docs/performance.md). A version-1 file
keeps its table and works as before (the same statements run on both); only new files get 2.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from detente.errors import CheckpointConflict, LogNotFound, StorageError, StoreUnavailable
from detente.store.protocol import LogStore, TilePos
from detente.tlog.tiles import TileID

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = 2
_READABLE = (1, SCHEMA_VERSION)
"""Versions this driver opens: 1 differs only in its tiles table being ``WITHOUT ROWID``."""
PAGE_SIZE = 32768
READER_CACHE_KIB = 8192

_SCHEMA = """
CREATE TABLE IF NOT EXISTS logs (
    origin     TEXT PRIMARY KEY,
    checkpoint BLOB
) STRICT;
CREATE TABLE IF NOT EXISTS tiles (
    origin TEXT    NOT NULL,
    level  INTEGER NOT NULL,   -- -1 = entry bundle
    idx    INTEGER NOT NULL,
    width  INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (origin, level, idx)
) STRICT;
"""


_WHICH_FILE = (
    "check the store path: its folder must exist and the file must be a detente database "
    "(a new one: detente init, or detente log init for a bare log)"
)


class SQLiteStore:
    """A :class:`~detente.store.protocol.LogStore` in one SQLite file."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreUnavailable(
                f"no database at {self.path}",
                hint="create it first (detente init, or SQLiteStore(path, create=True))",
            )
        try:
            self._writer = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            # page_size first: it only takes effect on a file not yet written (a new database)
            self._writer.executescript(
                f"PRAGMA page_size={PAGE_SIZE}; PRAGMA journal_mode=WAL; "
                "PRAGMA synchronous=FULL; PRAGMA busy_timeout=10000;"
            )
            version = self._writer.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                if not create and self._has_tables():
                    raise StoreUnavailable(f"{self.path} is not a detente database", hint=_WHICH_FILE)
                self._writer.executescript(_SCHEMA + f"PRAGMA user_version={SCHEMA_VERSION};")
            elif version not in _READABLE:
                raise StoreUnavailable(
                    f"{self.path} has schema version {version}; this detente reads versions 1 and {SCHEMA_VERSION}",
                    hint="open it with the detente that wrote it",
                )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite database {self.path}: {exc}", hint=_WHICH_FILE) from None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: dict[int, sqlite3.Connection] = {}
        """Each thread's read connection, by thread id; those of finished threads are closed when
        another thread opens one (a server's worker threads come and go: each would keep its own)."""

    def _has_tables(self) -> bool:
        row = self._writer.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return bool(row[0])

    def _reader(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None)
            # 8 MiB of page cache (SQLite's default is 2 MiB, 64 pages of 32 KiB): room for the
            # tiles index and the table's interior pages of a 10^7-entry log, so a random tile
            # read fetches only its leaf page from the file
            conn.executescript(f"PRAGMA busy_timeout=10000; PRAGMA cache_size=-{READER_CACHE_KIB};")
            self._local.conn = conn
            with self._lock:
                alive = {t.ident for t in threading.enumerate()}
                for ident in [i for i in self._readers if i not in alive or i == threading.get_ident()]:
                    self._readers.pop(ident).close()  # its thread has finished (an id may be reused)
                self._readers[threading.get_ident()] = conn
        return conn

    def ensure_log(self, origin: str) -> None:
        with self._lock:
            self._writer.execute("INSERT OR IGNORE INTO logs(origin) VALUES (?)", (origin,))

    def logs(self) -> list[str]:
        return [r[0] for r in self._reader().execute("SELECT origin FROM logs ORDER BY origin")]

    def latest_checkpoint(self, origin: str) -> bytes | None:
        row = self._reader().execute("SELECT checkpoint FROM logs WHERE origin = ?", (origin,)).fetchone()
        if row is None:
            raise LogNotFound(f"no log {origin!r} in {self.path}")
        return None if row[0] is None else bytes(row[0])

    def read_tiles(self, origin: str, positions: Sequence[TilePos]) -> dict[TilePos, tuple[bytes, int]]:
        out: dict[TilePos, tuple[bytes, int]] = {}
        conn = self._reader()
        # One read transaction for all of them: one snapshot, and the WAL read lock taken once
        # rather than per statement (half the cost of a tile read at 10^6 entries, measured).
        many = len(positions) > 1
        if many:
            conn.execute("BEGIN")
        try:
            for level, idx in positions:
                row = conn.execute(
                    "SELECT data, width FROM tiles WHERE origin = ? AND level = ? AND idx = ?",
                    (origin, level, idx),
                ).fetchone()
                if row is not None:
                    out[(level, idx)] = (bytes(row[0]), row[1])
        finally:
            if many:
                conn.execute("COMMIT")
        return out

    def commit(
        self,
        origin: str,
        expected: bytes | None,
        checkpoint: bytes,
        tiles: Mapping[TileID, bytes],
    ) -> None:
        with self._lock:
            self._stage(origin, expected, checkpoint, tiles)
            try:
                self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._commit_failed(exc) from None

    def start_commit(
        self,
        origin: str,
        expected: bytes | None,
        checkpoint: bytes,
        tiles: Mapping[TileID, bytes],
    ) -> Callable[[], None]:
        """Stage the batch (compare-and-swap, tiles, checkpoint) here, then ``COMMIT`` on a thread:
        the WAL write and its fsync (about half of an append where fsync is cheap, more where it is
        not) run while the caller integrates and signs its next batch (``sqlite3`` lets go of the
        GIL inside SQLite). The write connection is held until the returned function has joined
        the commit."""
        self._lock.acquire()
        try:
            self._stage(origin, expected, checkpoint, tiles)
        except BaseException:
            self._lock.release()
            raise
        failed: list[sqlite3.Error] = []

        def run() -> None:
            try:
                self._writer.execute("COMMIT")
            except sqlite3.Error as exc:  # reported by finish(), on the caller's thread
                failed.append(exc)

        committing = threading.Thread(target=run, name="sqlite-commit", daemon=True)
        try:
            committing.start()
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("ROLLBACK")
            self._lock.release()
            raise

        def finish() -> None:
            try:
                committing.join()
                if failed:
                    raise self._commit_failed(failed[0])
            finally:
                self._lock.release()

        return finish

    def _stage(self, origin: str, expected: bytes | None, checkpoint: bytes, tiles: Mapping[TileID, bytes]) -> None:
        """Everything of a commit but ``COMMIT``, in a write transaction left open (the caller holds
        ``self._lock``); on any failure the transaction is rolled back and nothing is written."""
        rows = [(origin, t.level, t.index, t.width, blob) for t, blob in tiles.items()]
        conn = self._writer
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT checkpoint FROM logs WHERE origin = ?", (origin,)).fetchone()
                if row is None:
                    raise LogNotFound(f"no log {origin!r} in {self.path}")
                if (None if row[0] is None else bytes(row[0])) != expected:
                    raise CheckpointConflict(f"checkpoint of {origin!r} changed under this writer")
                cur = conn.executemany(
                    "INSERT INTO tiles(origin, level, idx, width, data) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(origin, level, idx) DO UPDATE "
                    "SET width = excluded.width, data = excluded.data "
                    "WHERE tiles.width < excluded.width",
                    rows,
                )
                if cur.rowcount != len(rows):
                    raise StorageError(f"refused to rewrite a tile of {origin!r} at the same or a smaller width")
                conn.execute("UPDATE logs SET checkpoint = ? WHERE origin = ?", (checkpoint, origin))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"SQLite write to {self.path} failed: {exc}") from None

    def _commit_failed(self, exc: sqlite3.Error) -> StorageError:
        # A COMMIT that failed (disk full, I/O error) may leave the transaction open: end it, so the
        # next write starts clean and nothing of this one is kept.
        if self._writer.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._writer.execute("ROLLBACK")
        return StorageError(f"SQLite write to {self.path} failed: {exc}")

    def close(self) -> None:
        with self._lock:
            for conn in self._readers.values():
                conn.close()
            self._readers.clear()
            self._writer.close()


_check: type[LogStore] = SQLiteStore
