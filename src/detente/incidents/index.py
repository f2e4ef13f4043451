"""From logged incident records to index rows, and the search query model. Pure: no I/O.

Text is prepared the same way for both drivers: Chinese, Japanese and Korean runs are split into
overlapping character bigrams (the CJK analyser of Lucene and Elasticsearch does the same), so a
word-based full-text engine finds 北京 inside 北京市 without a dictionary; other text is left to
the engine's own tokenizer and English stemmer (SQLite FTS5 ``porter unicode61``, PostgreSQL
``english``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from detente.errors import MalformedRecord
from detente.incidents.model import (
    CLASSIFICATION,
    COMMENT,
    INCIDENT,
    LINK,
    LINK_CONFIRMATION,
    Classification,
    Comment,
    IncidentLink,
    IncidentReport,
    LinkConfirmation,
)
from detente.records.record import Record

__all__ = [
    "STOP_WORDS",
    "ClassRow",
    "CommentRow",
    "ConfirmRow",
    "IndexBatch",
    "LinkRow",
    "SearchQuery",
    "StageRow",
    "batch_for",
    "search_text",
    "tokens_for_index",
]

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def tokens_for_index(text: str) -> str:
    """Text with every CJK run replaced by its character bigrams (a lone character stays)."""

    def bigrams(m: re.Match[str]) -> str:
        run = m.group(0)
        if len(run) == 1:
            return f" {run} "
        return " " + " ".join(run[i : i + 2] for i in range(len(run) - 1)) + " "

    return _CJK.sub(bigrams, text)


STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is", "it", "its"}
    | {"of", "on", "or", "that", "the", "this", "to", "was", "were", "with"}
)


def query_terms(text: str) -> list[str]:
    """The words of a free-text query, CJK runs as bigrams, without English stop words (unless
    the query has nothing else); each term is quoted by the driver."""
    terms = [t for t in _WORD.findall(tokens_for_index(text).lower()) if t]
    kept = [t for t in terms if t not in STOP_WORDS]
    return kept or terms


def facet_token(facet: str, value: str) -> str:
    """A word that stands for one facet value in the full-text index (letters only, so every
    tokenizer keeps it whole), so that a filter joins the words of a query inside the index."""
    digest = hashlib.sha256(f"{facet}\x00{value}".encode()).digest()
    return "zqf" + "".join(chr(97 + b % 26) for b in digest[:14])


def search_text(report: IncidentReport) -> str:
    parts = [report.title.original.text, *report.title.translations.values()]
    parts += [report.description.original.text, *report.description.translations.values()]
    parts += [report.ai_relation, *report.developers, *report.deployers, *report.harmed_parties]
    parts += [s.name for s in report.ai_systems] + report.sectors
    parts.append(" ".join(facet_token(f, v) for f, v in facet_values(report)))
    return tokens_for_index("\n".join(parts))


@dataclass(frozen=True, slots=True)
class StageRow:
    origin: str
    index: int
    leaf_hash: str
    issued: datetime
    report: IncidentReport


@dataclass(frozen=True, slots=True)
class ClassRow:
    origin: str
    index: int
    issued: datetime
    classification: Classification


@dataclass(frozen=True, slots=True)
class LinkRow:
    origin: str
    index: int
    leaf_hash: str
    issued: datetime
    link: IncidentLink


@dataclass(frozen=True, slots=True)
class ConfirmRow:
    origin: str
    index: int
    issued: datetime
    link_origin: str
    link_index: int
    link_leaf: str
    confirmation: LinkConfirmation


@dataclass(frozen=True, slots=True)
class CommentRow:
    origin: str
    index: int
    issued: datetime
    comment: Comment


@dataclass
class IndexBatch:
    stages: list[StageRow] = field(default_factory=list)
    classifications: list[ClassRow] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    confirmations: list[ConfirmRow] = field(default_factory=list)
    comments: list[CommentRow] = field(default_factory=list)

    def __len__(self) -> int:
        return (len(self.stages) + len(self.classifications) + len(self.links) + len(self.confirmations)) + len(
            self.comments
        )


INCIDENT_TYPES = frozenset({INCIDENT, CLASSIFICATION, LINK, LINK_CONFIRMATION, COMMENT})


def batch_for(items: list[tuple[str, int, str, Record]]) -> IndexBatch:
    """Index rows for ``(origin, index, leaf_hash, record)`` items; other record types are ignored.
    Records were validated before they were signed (or verified when mirrored); one that still
    fails its schema here is skipped rather than indexed half-way."""
    batch = IndexBatch()
    for origin, index, leaf, rec in items:
        if rec.type not in INCIDENT_TYPES:
            continue
        try:
            if rec.type == INCIDENT:
                batch.stages.append(StageRow(origin, index, leaf, rec.issued, IncidentReport.model_validate(rec.body)))
            elif rec.type == CLASSIFICATION:
                batch.classifications.append(
                    ClassRow(origin, index, rec.issued, Classification.model_validate(rec.body))
                )
            elif rec.type == LINK:
                batch.links.append(LinkRow(origin, index, leaf, rec.issued, IncidentLink.model_validate(rec.body)))
            elif rec.type == LINK_CONFIRMATION:
                ref = next((r for r in rec.refs if r.rel == "confirms"), None)
                if ref is not None:
                    confirmation = LinkConfirmation.model_validate(rec.body)
                    batch.confirmations.append(
                        ConfirmRow(origin, index, rec.issued, ref.origin, ref.index, ref.leaf_hash, confirmation)
                    )
            else:
                batch.comments.append(CommentRow(origin, index, rec.issued, Comment.model_validate(rec.body)))
        except ValidationError:
            continue
    return batch


class SearchQuery(BaseModel):
    """Full-text search with filters; every filter narrows (AND)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str = Field(default="", max_length=1000, description="free text, any language")
    match: str = Field(default="all", pattern="^(all|any)$", description="all words must match, or any")
    jurisdiction: str | None = Field(default=None, description="reports under this regime (detente.incidents.regimes)")
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    harm_type: str | None = None
    sector: str | None = None
    severity: str | None = Field(default=None, description="exactly this severity")
    min_severity: str | None = Field(default=None, description="this severity or worse")
    category: str | None = None
    party: str | None = Field(default=None, description="log origin of the reporting party")
    critical_infrastructure: bool | None = None
    taxonomy: str | None = Field(
        default=None,
        description="NAMESPACE:FIELD=VALUE, e.g. 'MIT:Risk Domain=7. AI system safety, failures, and limitations'",
    )
    limit: int = Field(default=20, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=100_000)

    def taxonomy_filter(self) -> tuple[str, str, str] | None:
        if not self.taxonomy:
            return None
        namespace, sep, rest = self.taxonomy.partition(":")
        name, eq, value = rest.partition("=")
        if not sep or not eq or not namespace or not name:
            raise MalformedRecord(
                f"taxonomy filter {self.taxonomy!r} is not NAMESPACE:FIELD=VALUE",
                hint="e.g. CSETv1:Infrastructure Sectors=energy",
            )
        return namespace, name, value


def facet_values(report: IncidentReport) -> list[tuple[str, str]]:
    out = [("harm_type", h.value) for h in report.harm_types]
    out += [("sector", s.lower()) for s in report.sectors]
    out += [("country", c) for c in report.countries]
    out += [("jurisdiction", j) for j in report.jurisdictions]
    return sorted(set(out))


def attribute_values(attributes: dict[str, object]) -> list[tuple[str, str]]:
    """Flatten a classification for filtering: one (field, value) per list item. Long free text
    (over 256 characters, e.g. annotators' notes) is not a filter value and is left out, which
    also keeps every key under PostgreSQL's B-tree row limit."""
    out: list[tuple[str, str]] = []
    for name, value in attributes.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
            if len(text) <= 256:
                out.append((name, text))
    return sorted(set(out))
