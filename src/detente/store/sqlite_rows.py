"""A statement's whole result, read while the connection's lock is held.

A ``sqlite3.Cursor`` keeps its statement active until its last row is fetched, and an active
statement holds its connection's read snapshot open. A connection shared by threads (the node
state, the incident index) must therefore not hand out cursors: when one thread fetched after
the lock was released while another wrote on the same connection, that write had to upgrade
the stale snapshot, and SQLite answered at once ``database is locked`` (SQLITE_BUSY_SNAPSHOT,
which ``busy_timeout`` does not wait on) whenever another connection had committed in between.
That is the 503 the load test saw (docs/reliability.md); ``tests/store/test_shared_connections.py``
reproduces it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Rows", "run"]


class Rows:
    """The rows of a finished statement, with its ``rowcount`` and ``lastrowid``."""

    __slots__ = ("_rows", "lastrowid", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self._rows, self.rowcount, self.lastrowid = rows, rowcount, lastrowid

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


def run(conn: sqlite3.Connection, sql: str, args: Sequence[Any] = ()) -> Rows:
    """Execute and read every row before returning (call it with the connection's lock held)."""
    cur = conn.execute(sql, tuple(args))
    return Rows(cur.fetchall(), cur.rowcount, cur.lastrowid)
