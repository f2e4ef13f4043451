"""The incident index: a search index over incident records from every log a node holds (its own
and its mirrors). It is derived data: the logs are the truth, and the index can be rebuilt from
them at any time. Writes are idempotent (keyed by log origin and index), so replaying records
after a crash changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from detente.incidents.index import IndexBatch, SearchQuery

__all__ = ["Hit", "IncidentIndex", "SearchPage"]


@dataclass(frozen=True, slots=True)
class Hit:
    origin: str
    incident_id: str
    title: str
    stage: str
    category: str
    severity: str
    critical_infrastructure: bool
    occurred: str | None
    first_reported: str
    latest_index: int
    score: float
    body: dict[str, Any]

    def as_dict(self, *, with_body: bool = False) -> dict[str, Any]:
        out = {
            "origin": self.origin,
            "incident_id": self.incident_id,
            "title": self.title,
            "title_text": _title_text(self.body),
            "stage": self.stage,
            "category": self.category,
            "severity": self.severity,
            "critical_infrastructure": self.critical_infrastructure,
            "occurred": self.occurred,
            "first_reported": self.first_reported,
            "latest_index": self.latest_index,
            "score": round(self.score, 6),
        }
        if with_body:
            out["report"] = self.body
        return out


def _title_text(body: dict[str, Any]) -> dict[str, Any] | None:
    """The report's bilingual title (original and translations), for a reader's language."""
    title = body.get("title")
    return title if isinstance(title, dict) and isinstance(title.get("original"), dict) else None


@dataclass(frozen=True, slots=True)
class SearchPage:
    total: int
    hits: list[Hit]
    exact: bool = True
    """False when ``total`` is a lower bound (very common words with a filter)."""


class IncidentIndex(Protocol):
    rebuilt: bool
    """True when the index was in an older format and was emptied on open (replay the logs)."""

    def apply(self, batch: IndexBatch) -> None:
        """Index a batch of rows in one transaction (all or nothing)."""

    def search(self, query: SearchQuery) -> SearchPage: ...

    def get(self, origin: str, incident_id: str) -> Hit | None: ...

    def stages(self, origin: str, incident_id: str) -> list[dict[str, Any]]:
        """Every logged stage, oldest first: ``index``, ``leaf_hash``, ``issued``, ``report``."""

    def classifications(self, origin: str, incident_id: str) -> list[dict[str, Any]]: ...

    def links(self, origin: str, incident_id: str) -> list[dict[str, Any]]:
        """Links from or to the incident, each with its confirmations."""

    def comments(self, origin: str, incident_id: str) -> list[dict[str, Any]]: ...

    def counts(self, facet: str) -> dict[str, int]:
        """Incidents per value of ``facet``: harm_type, sector, country, severity, category, party,
        year (of occurrence)."""

    def size(self) -> int:
        """A number that grows whenever an incident is added or changes (for caches)."""

    def load_vectors(self, model: str) -> dict[tuple[str, str], bytes]:
        """The embeddings kept for ``model``, by incident key, for the incident's current version
        only (an embedding of an older stage's text is not returned)."""

    def missing_vectors(self, model: str) -> list[tuple[str, str, int]]:
        """``(origin, incident_id, latest_index)`` of every incident with no current embedding for
        ``model``, in indexing order."""

    def store_vectors(self, model: str, rows: Sequence[tuple[str, str, int, bytes]]) -> None:
        """Keep ``(origin, incident_id, latest_index, vector)`` embeddings (replacing older ones);
        an empty vector records an incident with nothing to embed."""

    def word_counts(self, words: list[str], *, cap: int) -> dict[str, int]:
        """How many incidents hold each word, counted up to ``cap``: a cheap rarity signal (each
        count stops at ``cap`` matches)."""

    def keys(self) -> list[tuple[str, str]]:
        """Every indexed incident key (origin, id)."""

    def texts(self, keys: list[tuple[str, str]], *, english: bool = False) -> dict[tuple[str, str], str]:
        """Title and description per key, with their translations; with ``english``, only the
        English version of each where there is one (for an English embedding model)."""

    def close(self) -> None: ...
