"""PostgreSQL driver for the incident index (:mod:`detente.store.incident_protocol`): a stored
``tsvector`` column (``english`` configuration) with a GIN index, ranked by ``ts_rank_cd``."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg

from detente.errors import StorageError, StoreUnavailable
from detente.store.incident_sql import TABLES, SQLIncidentIndex
from detente.store.pg_connection import Reconnecting

__all__ = ["PostgresIncidentIndex"]

_PREFIX = re.compile(r"(?<!@)@(?=[a-z_])")


def _schema_sql(s: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {s}.inc_docs (
    doc_id BIGSERIAL PRIMARY KEY, origin TEXT NOT NULL, incident_id TEXT NOT NULL, latest_index BIGINT NOT NULL,
    stage TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL, severity_rank INTEGER NOT NULL,
    critical INTEGER NOT NULL, occurred TEXT, first_reported TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
    search TEXT NOT NULL, tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', search)) STORED,
    UNIQUE (origin, incident_id));
CREATE INDEX IF NOT EXISTS inc_docs_tsv ON {s}.inc_docs USING GIN (tsv);
CREATE INDEX IF NOT EXISTS inc_docs_occurred ON {s}.inc_docs (occurred);
CREATE TABLE IF NOT EXISTS {s}.inc_vectors (
    model TEXT NOT NULL, origin TEXT NOT NULL, incident_id TEXT NOT NULL, latest_index BIGINT NOT NULL,
    vector BYTEA NOT NULL, PRIMARY KEY (model, origin, incident_id));
""" + TABLES.replace("CREATE INDEX IF NOT EXISTS @", "CREATE INDEX IF NOT EXISTS ").replace("@", f"{s}.")


def _no_nul(value: Any) -> Any:
    """PostgreSQL text cannot hold NUL; a record or a query may (JSON allows \\u0000). It becomes
    U+FFFD in the index, so a hostile peer cannot stop this node from indexing its logs."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value


class PostgresIncidentIndex(SQLIncidentIndex, Reconnecting):
    def __init__(self, conninfo: str, *, schema: str = "detente") -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise StoreUnavailable(f"schema name {schema!r} must be a lowercase SQL identifier")
        self.s = schema
        self._lock = threading.RLock()
        try:
            self._conninfo = conninfo
            self._conn = psycopg.connect(conninfo, autocommit=True)
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.incidents",))
                self._conn.execute(_schema_sql(schema).encode())
        except psycopg.Error as exc:
            raise StoreUnavailable(f"cannot open the incident index: {str(exc).strip().splitlines()[0]}") from None
        self._check_format()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            try:
                with self._conn.transaction():
                    yield
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error in the incident index: {str(exc).strip()}") from None

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        with self._lock:
            try:
                sql = _PREFIX.sub(self.s + ".", sql).replace("?", "%s")  # "@@" is the match operator
                return self._conn.execute(sql.encode(), tuple(_no_nul(a) for a in args))
            except psycopg.Error as exc:
                raise StorageError(f"PostgreSQL error in the incident index: {str(exc).strip()}") from None

    def _fts_write(self, doc_id: int, text: str) -> None:
        return None  # the tsvector column is generated from inc_docs.search

    def _fts_common(self, terms: list[str], *, any_term: bool) -> tuple[str, str, list[Any], str]:
        fn, text = ("websearch_to_tsquery", " or ".join(terms)) if any_term else ("plainto_tsquery", " ".join(terms))
        return "", f"d.tsv @@ {fn}('english', ?)", [text], "d.occurred DESC NULLS LAST, d.origin, d.incident_id"

    def _fts_count(self, terms: list[str], *, any_term: bool, cap: int | None = None) -> int:
        join, where, args, _ = self._fts_clause(terms, any_term=any_term)
        if cap is None:
            return int(self._exec(f"SELECT COUNT(*) FROM @inc_docs d {join} WHERE {where}", args).fetchone()[0])
        sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM @inc_docs d {join} WHERE {where} LIMIT ?) AS c"
        return int(self._exec(sql, [*args, cap]).fetchone()[0])

    def _fts_clause(self, terms: list[str], *, any_term: bool) -> tuple[str, str, list[Any], str]:
        # the terms are words (letters and digits only), so the websearch syntax cannot be injected
        fn, text = ("websearch_to_tsquery", " or ".join(terms)) if any_term else ("plainto_tsquery", " ".join(terms))
        return f"CROSS JOIN {fn}('english', ?) AS tq", "d.tsv @@ tq", [text], "ts_rank_cd(d.tsv, tq)"

    def close(self) -> None:
        self._conn.close()
