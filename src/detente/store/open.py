"""Pick a storage driver from a URL: a path or ``sqlite:///path`` for SQLite,
``postgresql://…`` (optionally ``?schema=name`` … as ``#schema``) for PostgreSQL."""

from __future__ import annotations

from detente.errors import StoreUnavailable
from detente.store.node_protocol import NodeStore
from detente.store.postgres import PostgresStore
from detente.store.postgres_node import PostgresNodeStore
from detente.store.protocol import LogStore
from detente.store.sqlite import SQLiteStore
from detente.store.sqlite_node import SQLiteNodeStore

__all__ = ["open_node_store", "open_store"]


def open_store(url: str, *, create: bool = False) -> LogStore:
    """Open (or with ``create``, create) the store at ``url``.

    ``postgresql://host:port/db#schema`` selects a schema (default ``detente``); anything else is
    a SQLite file path, with or without a ``sqlite:///`` prefix.
    """
    if url.startswith(("postgresql://", "postgres://")):
        conninfo, _, schema = url.partition("#")
        return PostgresStore(conninfo, schema=schema or "detente", create=create)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///") :]
    elif "://" in url:
        raise StoreUnavailable(
            f"unsupported store URL {url!r}",
            hint="use a SQLite file path or postgresql://host:port/db",
        )
    return SQLiteStore(url, create=create)


def open_node_store(url: str, *, create: bool = False) -> NodeStore:
    """Node state (tokens, peers, witness state, alarms) in the same database as the logs."""
    if url.startswith(("postgresql://", "postgres://")):
        conninfo, _, schema = url.partition("#")
        return PostgresNodeStore(conninfo, schema=schema or "detente", create=create)
    if url.startswith("sqlite:///"):
        url = url[len("sqlite:///") :]
    elif "://" in url:
        raise StoreUnavailable(
            f"unsupported store URL {url!r}", hint="use a SQLite file path or postgresql://host:port/db"
        )
    return SQLiteNodeStore(url, create=create)
