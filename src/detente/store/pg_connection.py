"""The PostgreSQL drivers' connection, opened again after the server dropped it.

A node runs for months; its PostgreSQL server restarts (an upgrade, a failover, an idle-session
timeout, ``pg_terminate_backend``). psycopg marks such a connection ``broken`` and every later
call on it fails, so without this a node would answer 500 until it was restarted by hand. Here
the call that meets the dropped connection still fails (what it was doing is lost with the
server's session: a transaction is never half-applied, and the caller reports the error), and
the next call opens a new connection. A connection this process closed itself is not reopened.
"""

from __future__ import annotations

from typing import Any

import psycopg

from detente.errors import StoreUnavailable

__all__ = ["Reconnecting"]


class Reconnecting:
    """Mixin for a driver that keeps one autocommit connection in ``self._conn``: set
    ``self._conninfo`` before the first ``self._conn = psycopg.connect(...)``."""

    _conninfo: str
    _link: psycopg.Connection[Any]

    @property
    def _conn(self) -> psycopg.Connection[Any]:
        link = self._link
        if link.broken:
            try:
                link = psycopg.connect(self._conninfo, autocommit=True)
            except psycopg.Error as exc:
                raise StoreUnavailable(
                    f"PostgreSQL dropped this node's connection and cannot be reached again: "
                    f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
                    hint="check that the PostgreSQL server is running; the node reconnects on its next request",
                ) from None
            self._link = link
        return link

    @_conn.setter
    def _conn(self, link: psycopg.Connection[Any]) -> None:
        self._link = link
