"""Pick a storage driver from a URL: a path or ``sqlite:///path`` for SQLite,
``postgresql://host:port/db`` (optionally ``#schema``, default ``detente``) for PostgreSQL."""

from __future__ import annotations

from detente.errors import StoreUnavailable
from detente.store.incident_protocol import IncidentIndex
from detente.store.journal_protocol import JournalStore
from detente.store.node_protocol import NodeStore
from detente.store.postgres import PostgresStore
from detente.store.postgres_node import PostgresNodeStore
from detente.store.protocol import LogStore
from detente.store.sqlite import SQLiteStore
from detente.store.sqlite_node import SQLiteNodeStore

__all__ = ["open_incident_index", "open_journal", "open_node_store", "open_store"]


def _parse(url: str) -> tuple[str, str, str]:
    """``("postgres", conninfo, schema)`` or ``("sqlite", path, "")``."""
    if url.startswith(("postgresql://", "postgres://")):
        conninfo, _, schema = url.partition("#")
        return "postgres", conninfo, schema or "detente"
    if url.startswith("sqlite:///"):
        return "sqlite", url[len("sqlite:///") :], ""
    if "://" in url:
        raise StoreUnavailable(
            f"unsupported store URL {url!r}", hint="use a SQLite file path or postgresql://host:port/db"
        )
    return "sqlite", url, ""


def open_store(url: str, *, create: bool = False) -> LogStore:
    """Open (or with ``create``, create) the log store at ``url``."""
    kind, where, schema = _parse(url)
    if kind == "postgres":
        return PostgresStore(where, schema=schema, create=create)
    return SQLiteStore(where, create=create)


def open_node_store(url: str, *, create: bool = False) -> NodeStore:
    """Node state (tokens, peers, witness state, alarms) in the same database as the logs."""
    kind, where, schema = _parse(url)
    if kind == "postgres":
        return PostgresNodeStore(where, schema=schema, create=create)
    return SQLiteNodeStore(where, create=create)


def open_incident_index(url: str) -> IncidentIndex:
    """The incident search index, in the same database as the logs (created on first use)."""
    kind, where, schema = _parse(url)
    if kind == "postgres":
        from detente.store.postgres_incidents import PostgresIncidentIndex

        return PostgresIncidentIndex(where, schema=schema)
    from detente.store.sqlite_incidents import SQLiteIncidentIndex

    return SQLiteIncidentIndex(where)


def open_journal(url: str) -> JournalStore:
    """The operator journal and the idempotency keys, in the same database as the logs (its tables
    are created on open, so a store made before the journal existed gets them)."""
    kind, where, schema = _parse(url)
    if kind == "postgres":
        from detente.store.postgres_journal import PostgresJournal

        return PostgresJournal(where, schema=schema)
    from detente.store.sqlite_journal import SQLiteJournal

    return SQLiteJournal(where)
