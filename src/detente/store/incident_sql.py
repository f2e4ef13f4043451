"""The SQL both incident-index drivers share; each driver supplies its connection, its
full-text clause and its schema (SQLite FTS5, PostgreSQL ``tsvector``). Statements are written
with ``?`` placeholders."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from detente.errors import MalformedRecord
from detente.incidents.index import (
    IndexBatch,
    SearchQuery,
    StageRow,
    attribute_values,
    facet_token,
    facet_values,
    query_terms,
    search_text,
)
from detente.incidents.model import Category, HarmType, Severity
from detente.records.text import BilingualText
from detente.store.incident_protocol import Hit, SearchPage

__all__ = ["TABLES", "SQLIncidentIndex"]

TABLES = """
CREATE TABLE IF NOT EXISTS @inc_stages (
    origin TEXT NOT NULL, idx BIGINT NOT NULL, incident_id TEXT NOT NULL, leaf_hash TEXT NOT NULL,
    issued TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (origin, idx));
CREATE INDEX IF NOT EXISTS @inc_stages_key ON @inc_stages (origin, incident_id);
CREATE TABLE IF NOT EXISTS @inc_facets (
    origin TEXT NOT NULL, incident_id TEXT NOT NULL, facet TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (origin, incident_id, facet, value));
CREATE INDEX IF NOT EXISTS @inc_facets_value ON @inc_facets (facet, value);
CREATE TABLE IF NOT EXISTS @inc_classes (
    origin TEXT NOT NULL, idx BIGINT NOT NULL, incident_origin TEXT NOT NULL, incident_id TEXT NOT NULL,
    namespace TEXT NOT NULL, version TEXT NOT NULL, attributes TEXT NOT NULL, notes TEXT NOT NULL,
    issued TEXT NOT NULL, PRIMARY KEY (origin, idx));
CREATE INDEX IF NOT EXISTS @inc_classes_key ON @inc_classes (incident_origin, incident_id);
CREATE TABLE IF NOT EXISTS @inc_class_values (
    origin TEXT NOT NULL, idx BIGINT NOT NULL, incident_origin TEXT NOT NULL, incident_id TEXT NOT NULL,
    namespace TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (origin, idx, field, value));
CREATE INDEX IF NOT EXISTS @inc_class_values_v ON @inc_class_values (namespace, field, value);
CREATE TABLE IF NOT EXISTS @inc_links (
    origin TEXT NOT NULL, idx BIGINT NOT NULL, leaf_hash TEXT NOT NULL, source_origin TEXT NOT NULL,
    source_id TEXT NOT NULL, target_origin TEXT NOT NULL, target_id TEXT NOT NULL, relation TEXT NOT NULL,
    note TEXT NOT NULL, issued TEXT NOT NULL, PRIMARY KEY (origin, idx));
CREATE INDEX IF NOT EXISTS @inc_links_source ON @inc_links (source_origin, source_id);
CREATE INDEX IF NOT EXISTS @inc_links_target ON @inc_links (target_origin, target_id);
CREATE TABLE IF NOT EXISTS @inc_confirms (
    origin TEXT NOT NULL, idx BIGINT NOT NULL, link_origin TEXT NOT NULL, link_idx BIGINT NOT NULL,
    link_leaf TEXT NOT NULL, verdict TEXT NOT NULL, note TEXT NOT NULL, issued TEXT NOT NULL,
    PRIMARY KEY (origin, idx));
CREATE TABLE IF NOT EXISTS @inc_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS @inc_comments (
    origin TEXT NOT NULL, idx BIGINT NOT NULL, incident_origin TEXT NOT NULL, incident_id TEXT NOT NULL,
    comment TEXT NOT NULL, issued TEXT NOT NULL, PRIMARY KEY (origin, idx));
"""

_DOC_COLUMNS = (
    "origin, incident_id, latest_index, stage, category, severity, severity_rank, critical, occurred, "
    "first_reported, title, body, search"
)
_SELECT = (
    "d.origin, d.incident_id, d.title, d.stage, d.category, d.severity, d.critical, d.occurred, "
    "d.first_reported, d.latest_index, d.body"
)
_FACETS = {"harm_type", "sector", "country", "jurisdiction"}
_COLUMNS = {"severity": "d.severity", "category": "d.category", "party": "d.origin", "year": "substr(d.occurred, 1, 4)"}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _facet_words(query: SearchQuery) -> list[str]:
    """The facet filters as words of the full-text query."""
    return [
        facet_token(facet, value.lower() if facet == "sector" else value)
        for facet, value in (("harm_type", query.harm_type), ("sector", query.sector),
                             ("jurisdiction", query.jurisdiction))
        if value
    ]  # fmt: skip


def _walkable(query: SearchQuery, in_text: bool) -> bool:
    """Whether the newest-first path pays off: it walks incidents by date, so only when the filters
    do not throw most of them away (none, or a date range)."""
    walkable = not ((query.harm_type or query.sector or query.jurisdiction) and not in_text)
    walkable = walkable and not (query.taxonomy or query.party)
    walkable = walkable and not (query.severity or query.min_severity or query.category)
    return walkable and query.critical_infrastructure is None


class SQLIncidentIndex(ABC):
    """Index logic over a DB-API connection; see the drivers for the dialect hooks."""

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _exec(self, sql: str, args: Sequence[Any] = ()) -> Any:
        """Run one statement (``@`` → the schema prefix, ``?`` → the driver's placeholder)."""

    @abstractmethod
    def _fts_write(self, doc_id: int, text: str) -> None: ...

    COUNT_CAP = 1000
    """Counts on the newest-first path stop here (the page says the total is a lower bound)."""
    COMMON = 20_000
    """A query whose words all appear in more incidents than this (and that has no filter) lists
    them newest first; an any-word query (duplicate suggestions) is always ranked."""

    @abstractmethod
    def _fts_common(self, terms: list[str], *, any_term: bool) -> tuple[str, str, list[Any], str]:
        """``(join, where, args, order)`` listing the matches newest first; the join takes no
        arguments (the where clause is appended after the filters)."""

    @abstractmethod
    def _fts_count(self, terms: list[str], *, any_term: bool, cap: int | None = None) -> int:
        """Matches of ``terms`` (all of them, or any), counted up to ``cap`` when one is given."""

    @abstractmethod
    def _fts_clause(self, terms: list[str], *, any_term: bool) -> tuple[str, str, list[Any], str]:
        """``(join, where, args, score expression)`` for a full-text match of all ``terms`` (or any)."""

    def _upsert_doc(self, values: tuple[Any, ...]) -> int:
        """Insert or replace the ``inc_docs`` row for (origin, incident_id); return its doc_id."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in _DOC_COLUMNS.split(", ")[2:])
        row = self._exec(
            f"INSERT INTO @inc_docs ({_DOC_COLUMNS}) VALUES ({', '.join('?' * len(values))})"
            f" ON CONFLICT (origin, incident_id) DO UPDATE SET {updates} RETURNING doc_id",
            values,
        ).fetchone()
        return int(row[0])

    FORMAT = "2"
    """Bumped when what is indexed changes (2: facet words in the full text); an index in another
    format is emptied on open and ``rebuilt`` is set, so its owner replays the logs into it."""
    rebuilt = False
    _DATA_TABLES = ("inc_docs", "inc_stages", "inc_facets", "inc_classes", "inc_class_values", "inc_links",
                    "inc_confirms", "inc_comments")  # fmt: skip

    def _check_format(self) -> None:
        with self._transaction():
            row = self._exec("SELECT value FROM @inc_meta WHERE key = 'format'").fetchone()
            if row is not None and row[0] == self.FORMAT:
                return
            if self._exec("SELECT COUNT(*) FROM @inc_stages").fetchone()[0]:
                for table in self._DATA_TABLES:
                    self._exec(f"DELETE FROM @{table}")
                self._clear_fts()
                self.rebuilt = True
            self._exec("DELETE FROM @inc_meta WHERE key = 'format'")
            self._exec("INSERT INTO @inc_meta VALUES ('format', ?)", (self.FORMAT,))

    def _clear_fts(self) -> None:
        return None

    # --- writing ----------------------------------------------------------------------------

    def apply(self, batch: IndexBatch) -> None:
        with self._transaction():
            for row in batch.stages:
                self._stage(row)
            if batch.stages:  # what size() reports: read in O(1), unlike counting the documents
                row = self._exec("SELECT value FROM @inc_meta WHERE key = 'version'").fetchone()
                version = (int(row[0]) if row else 0) + len(batch.stages)
                self._exec("DELETE FROM @inc_meta WHERE key = 'version'")
                self._exec("INSERT INTO @inc_meta VALUES ('version', ?)", (str(version),))
            for c in batch.classifications:
                cl = c.classification
                attrs = json.dumps(cl.attributes, ensure_ascii=False, sort_keys=True)
                inserted = self._exec(
                    "INSERT INTO @inc_classes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (c.origin, c.index, cl.incident.origin, cl.incident.id, cl.namespace, cl.taxonomy_version,
                     attrs, cl.notes, _iso(c.issued)),
                )  # fmt: skip
                if inserted.rowcount:
                    for name, value in attribute_values(cl.attributes):
                        self._exec(
                            "INSERT INTO @inc_class_values VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (c.origin, c.index, cl.incident.origin, cl.incident.id, cl.namespace, name, value),
                        )
            for lk in batch.links:
                link = lk.link
                self._exec(
                    "INSERT INTO @inc_links VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (lk.origin, lk.index, lk.leaf_hash, link.source.origin, link.source.id, link.target.origin,
                     link.target.id, link.relation.value, link.note, _iso(lk.issued)),
                )  # fmt: skip
            for cf in batch.confirmations:
                self._exec(
                    "INSERT INTO @inc_confirms VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (cf.origin, cf.index, cf.link_origin, cf.link_index, cf.link_leaf, cf.confirmation.verdict,
                     cf.confirmation.note, _iso(cf.issued)),
                )  # fmt: skip
            for cm in batch.comments:
                self._exec(
                    "INSERT INTO @inc_comments VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (cm.origin, cm.index, cm.comment.incident.origin, cm.comment.incident.id,
                     cm.comment.comment.model_dump_json(), _iso(cm.issued)),
                )  # fmt: skip

    def _stage(self, row: StageRow) -> None:
        r = row.report
        self._exec(
            "INSERT INTO @inc_stages VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (row.origin, row.index, r.incident_id, row.leaf_hash, _iso(row.issued), r.model_dump_json()),
        )
        latest = self._exec(
            "SELECT MAX(idx), MIN(issued) FROM @inc_stages WHERE origin = ? AND incident_id = ?",
            (row.origin, r.incident_id),
        ).fetchone()
        if latest[0] != row.index:
            return  # a later stage is already indexed; the older one stays in the history
        first = (r.reported_at and _iso(r.reported_at)) or latest[1]
        body = r.model_dump(mode="json")
        values = (
            row.origin, r.incident_id, row.index, r.stage.value, r.category.value, r.severity.value,
            r.severity.rank, int(r.critical_infrastructure), _iso(r.occurred_at), first,
            r.title.original.text, json.dumps(body, ensure_ascii=False), search_text(r),
        )  # fmt: skip
        doc_id = self._upsert_doc(values)
        self._exec("DELETE FROM @inc_facets WHERE origin = ? AND incident_id = ?", (row.origin, r.incident_id))
        for facet, value in facet_values(r):
            self._exec("INSERT INTO @inc_facets VALUES (?, ?, ?, ?)", (row.origin, r.incident_id, facet, value))
        self._fts_write(doc_id, values[-1])

    # --- reading ----------------------------------------------------------------------------

    def search(self, query: SearchQuery) -> SearchPage:
        terms = query_terms(query.q)
        if query.q.strip() and not terms:
            raise MalformedRecord("the query has no searchable words", hint="search for words, not punctuation")
        any_term = query.match == "any"
        where: list[str] = []
        args: list[Any] = []
        in_text = bool(terms) and not any_term  # facet filters become words of the full-text query
        if in_text:
            terms = terms + _facet_words(query)
        self._filters(query, where, args, facets=not in_text)  # filters first: cheap, often selective
        joins, score, order = "", "0.0", "d.occurred DESC, d.origin, d.incident_id"
        total: int | None = None
        if terms:
            matches = self._fts_count(terms, any_term=any_term)
            if matches > self.COMMON and not any_term and _walkable(query, in_text):
                # Words found in thousands of incidents rank nearly alike: list them newest first,
                # probing the full-text index row by row (a few probes, not ranking every match).
                joins, probe, probe_args, order = self._fts_common(terms, any_term=any_term)
                where.append(probe)
                args += probe_args
            else:
                joins, clause, fts_args, score = self._fts_clause(terms, any_term=any_term)
                where.insert(0, clause)
                args = fts_args + args
                order = f"{score} DESC, d.occurred DESC"
            if len(where) == 1:
                total = matches  # words only: the full-text index counted them
        sql_where = " AND ".join(where) or "1 = 1"
        exact = True
        if total is None:
            total, exact = self._count(joins, sql_where, args, capped=score == "0.0" and bool(terms))
        rows = self._exec(
            f"SELECT {_SELECT}, {score} FROM @inc_docs d {joins} WHERE {sql_where} ORDER BY {order} LIMIT ? OFFSET ?",
            [*args, query.limit, query.offset],
        ).fetchall()
        return SearchPage(int(total), [self._hit(r) for r in rows], exact)

    def _count(self, joins: str, sql_where: str, args: list[Any], *, capped: bool) -> tuple[int, bool]:
        """How many incidents match, and whether that is exact."""
        if capped:
            # Common words and a filter: count up to a cap (each match costs an index probe).
            found = self._exec(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM @inc_docs d {joins} WHERE {sql_where} LIMIT ?) AS c",
                [*args, self.COUNT_CAP + 1],
            ).fetchone()[0]
            return min(int(found), self.COUNT_CAP), int(found) <= self.COUNT_CAP
        return self._exec(f"SELECT COUNT(*) FROM @inc_docs d {joins} WHERE {sql_where}", args).fetchone()[0], True

    def _filters(self, query: SearchQuery, where: list[str], args: list[Any], *, facets: bool = True) -> None:
        if query.occurred_from:
            where.append("d.occurred >= ?")
            args.append(_iso(query.occurred_from))
        if query.occurred_to:
            where.append("d.occurred <= ?")
            args.append(_iso(query.occurred_to))
        keyed = (("harm_type", query.harm_type), ("sector", query.sector), ("jurisdiction", query.jurisdiction))
        for facet, value in keyed:
            if value:
                if facet == "harm_type" and value not in HarmType.__members__.values():
                    raise MalformedRecord(f"unknown harm type {value!r}", hint=f"one of {', '.join(HarmType)}")
                if not facets:
                    continue  # already a word of the full-text query
                where.append(
                    "EXISTS (SELECT 1 FROM @inc_facets x WHERE x.origin = d.origin AND x.incident_id = d.incident_id"
                    " AND x.facet = ? AND x.value = ?)"
                )
                args += [facet, value.lower() if facet == "sector" else value]
        for name, value in (("severity", query.severity), ("min_severity", query.min_severity)):
            if value:
                try:
                    sev = Severity(value)
                except ValueError:
                    raise MalformedRecord(f"unknown severity {value!r}", hint=f"one of {', '.join(Severity)}") from None
                where.append("d.severity = ?" if name == "severity" else "d.severity_rank >= ?")
                args.append(sev.value if name == "severity" else sev.rank)
        if query.category:
            if query.category not in Category.__members__.values():
                raise MalformedRecord(f"unknown category {query.category!r}", hint=f"one of {', '.join(Category)}")
            where.append("d.category = ?")
            args.append(query.category)
        if query.party:
            where.append("d.origin = ?")
            args.append(query.party)
        if query.critical_infrastructure is not None:
            where.append("d.critical = ?")
            args.append(int(query.critical_infrastructure))
        tax = query.taxonomy_filter()
        if tax:
            where.append(
                "EXISTS (SELECT 1 FROM @inc_class_values v WHERE v.incident_origin = d.origin"
                " AND v.incident_id = d.incident_id AND v.namespace = ? AND v.field = ? AND v.value = ?)"
            )
            args += list(tax)

    def _hit(self, r: Sequence[Any]) -> Hit:
        return Hit(
            origin=r[0],
            incident_id=r[1],
            title=r[2],
            stage=r[3],
            category=r[4],
            severity=r[5],
            critical_infrastructure=bool(r[6]),
            occurred=r[7],
            first_reported=r[8],
            latest_index=int(r[9]),
            body=json.loads(r[10]),
            score=float(r[11]) if len(r) > 11 and r[11] is not None else 0.0,
        )

    def get(self, origin: str, incident_id: str) -> Hit | None:
        r = self._exec(
            f"SELECT {_SELECT}, 0.0 FROM @inc_docs d WHERE d.origin = ? AND d.incident_id = ?", (origin, incident_id)
        ).fetchone()
        return None if r is None else self._hit(r)

    def stages(self, origin: str, incident_id: str) -> list[dict[str, Any]]:
        rows = self._exec(
            "SELECT idx, leaf_hash, issued, body FROM @inc_stages WHERE origin = ? AND incident_id = ? ORDER BY idx",
            (origin, incident_id),
        ).fetchall()
        return [{"index": int(r[0]), "leaf_hash": r[1], "issued": r[2], "report": json.loads(r[3])} for r in rows]

    def classifications(self, origin: str, incident_id: str) -> list[dict[str, Any]]:
        rows = self._exec(
            "SELECT origin, idx, namespace, version, attributes, notes, issued FROM @inc_classes"
            " WHERE incident_origin = ? AND incident_id = ? ORDER BY origin, idx",
            (origin, incident_id),
        ).fetchall()
        return [
            {"by": r[0], "index": int(r[1]), "namespace": r[2], "taxonomy_version": r[3],
             "attributes": json.loads(r[4]), "notes": r[5], "issued": r[6]}
            for r in rows
        ]  # fmt: skip

    def links(self, origin: str, incident_id: str) -> list[dict[str, Any]]:
        rows = self._exec(
            "SELECT origin, idx, leaf_hash, source_origin, source_id, target_origin, target_id, relation, note, issued"
            " FROM @inc_links WHERE (source_origin = ? AND source_id = ?) OR (target_origin = ? AND target_id = ?)"
            " ORDER BY origin, idx",
            (origin, incident_id, origin, incident_id),
        ).fetchall()
        out = []
        for r in rows:
            confirms = self._exec(
                "SELECT origin, idx, verdict, note, issued FROM @inc_confirms"
                " WHERE link_origin = ? AND link_idx = ? AND link_leaf = ? ORDER BY origin, idx",
                (r[0], r[1], r[2]),
            ).fetchall()
            out.append(
                {
                    "asserted_by": r[0], "index": int(r[1]), "leaf_hash": r[2],
                    "source": {"origin": r[3], "id": r[4]}, "target": {"origin": r[5], "id": r[6]},
                    "relation": r[7], "note": r[8], "issued": r[9],
                    "confirmations": [
                        {"by": c[0], "index": int(c[1]), "verdict": c[2], "note": c[3], "issued": c[4]}
                        for c in confirms
                    ],
                }
            )  # fmt: skip
        return out

    def comments(self, origin: str, incident_id: str) -> list[dict[str, Any]]:
        rows = self._exec(
            "SELECT origin, idx, comment, issued FROM @inc_comments WHERE incident_origin = ? AND incident_id = ?"
            " ORDER BY issued, origin, idx",
            (origin, incident_id),
        ).fetchall()
        return [{"by": r[0], "index": int(r[1]), "comment": json.loads(r[2]), "issued": r[3]} for r in rows]

    def counts(self, facet: str) -> dict[str, int]:
        if facet in _FACETS:
            rows = self._exec(
                "SELECT value, COUNT(*) FROM @inc_facets WHERE facet = ? GROUP BY value ORDER BY value", (facet,)
            ).fetchall()
        elif facet in _COLUMNS:
            col = _COLUMNS[facet]
            rows = self._exec(
                f"SELECT {col}, COUNT(*) FROM @inc_docs d WHERE {col} IS NOT NULL GROUP BY {col} ORDER BY {col}"
            ).fetchall()
        else:
            known = ", ".join(sorted(_FACETS | set(_COLUMNS)))
            raise MalformedRecord(f"cannot count by {facet!r}", hint=f"one of {known}")
        return {str(r[0]): int(r[1]) for r in rows}

    def size(self) -> int:
        row = self._exec("SELECT value FROM @inc_meta WHERE key = 'version'").fetchone()
        return int(row[0]) if row else 0

    # --- embeddings kept for the duplicate suggester -----------------------------------------

    def load_vectors(self, model: str) -> dict[tuple[str, str], bytes]:
        rows = self._exec(
            "SELECT v.origin, v.incident_id, v.vector FROM @inc_vectors v JOIN @inc_docs d ON d.origin = v.origin "
            "AND d.incident_id = v.incident_id AND d.latest_index = v.latest_index WHERE v.model = ?",
            (model,),
        )
        return {(r[0], r[1]): bytes(r[2]) for r in rows}

    def missing_vectors(self, model: str) -> list[tuple[str, str, int]]:
        rows = self._exec(
            "SELECT d.origin, d.incident_id, d.latest_index FROM @inc_docs d LEFT JOIN @inc_vectors v "
            "ON v.model = ? AND v.origin = d.origin AND v.incident_id = d.incident_id "
            "AND v.latest_index = d.latest_index WHERE v.origin IS NULL ORDER BY d.doc_id",
            (model,),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    def store_vectors(self, model: str, rows: Sequence[tuple[str, str, int, bytes]]) -> None:
        with self._transaction():
            for origin, incident_id, latest_index, vector in rows:
                self._exec(
                    "INSERT INTO @inc_vectors VALUES (?, ?, ?, ?, ?) ON CONFLICT (model, origin, incident_id) "
                    "DO UPDATE SET latest_index = excluded.latest_index, vector = excluded.vector",
                    (model, origin, incident_id, latest_index, vector),
                )

    def word_counts(self, words: list[str], *, cap: int) -> dict[str, int]:
        return {w: self._fts_count([w], any_term=False, cap=cap) for w in words}

    def keys(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self._exec("SELECT origin, incident_id FROM @inc_docs ORDER BY doc_id")]

    def texts(self, keys: list[tuple[str, str]], *, english: bool = False) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for chunk in _chunks(keys, 500):
            for origin, incident_id in chunk:
                r = self._exec(
                    "SELECT body FROM @inc_docs WHERE origin = ? AND incident_id = ?", (origin, incident_id)
                ).fetchone()
                if r is not None:
                    body = json.loads(r[0])
                    title, description = body["title"], body["description"]
                    if english:
                        texts = [BilingualText.model_validate(t).in_lang("en")[0] for t in (title, description)]
                        out[(origin, incident_id)] = ". ".join(texts)
                    else:
                        parts = [title["original"]["text"], *title.get("translations", {}).values()]
                        parts += [description["original"]["text"], *description.get("translations", {}).values()]
                        out[(origin, incident_id)] = ". ".join(parts)
        return out


def _chunks(items: list[tuple[str, str]], n: int) -> Iterator[list[tuple[str, str]]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
