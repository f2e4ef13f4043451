"""Duplicate suggestions: which indexed incidents may report the same event as a new report.

Two signals, as the AI Incident Database uses (editor judgement aside): *lexical* candidates
(any of the report's rarest salient words, ranked by the index's BM25 or ``ts_rank_cd``) scored by the
overlap of their word sets (Jaccard), and, where the optional embedding model is installed,
*semantic* candidates: cosine similarity of all-MiniLM-L6-v2 vectors over every indexed
incident. The score is the mean of the two (the lexical one alone without the model).
Suggestions are never acted on: an operator confirms a link.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from detente.incidents.index import STOP_WORDS, SearchQuery, query_terms
from detente.incidents.model import IncidentReport
from detente.store.incident_protocol import Hit, IncidentIndex

__all__ = ["Suggester", "Suggestion", "salient_words"]

PROBE_POOL = 24
"""The candidate query picks its words among the report's first this many salient words."""
PROBE_WORDS = 6
"""... and uses this many of them, the rarest in the index."""
RARITY_CAP = 5000
"""Word counts stop here: beyond it, a word is simply common."""

# Beyond the search's own stop words: common words that say nothing about which event it was.
_STOP = STOP_WORDS | frozenset(
    {"will", "after", "over", "into", "their", "they", "been", "being", "which", "who", "when", "where"}
    | {"while", "about", "against", "than", "then", "there", "these", "those"}
)


def _is_english(text: str) -> bool:
    """Mostly Latin script: at most one character in five is CJK."""
    cjk = sum(1 for ch in text if "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af")
    return cjk * 5 <= len(text)


def salient_words(text: str) -> list[str]:
    """Distinct words of ``text`` in order, without stop words and one- or two-letter words."""
    seen: dict[str, None] = {}
    for t in query_terms(text):
        if t not in _STOP and (len(t) > 2 or not t.isascii()):
            seen.setdefault(t, None)
    return list(seen)


@dataclass(frozen=True, slots=True)
class Suggestion:
    origin: str
    incident_id: str
    title: str
    score: float
    lexical: float
    semantic: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "incident_id": self.incident_id,
            "title": self.title,
            "score": round(self.score, 4),
            "lexical": round(self.lexical, 4),
            "semantic": None if self.semantic is None else round(self.semantic, 4),
        }


class Suggester:
    def __init__(self, index: IncidentIndex, *, semantic: bool = True) -> None:
        self.index = index
        self._semantic = semantic
        self._embedder: Any = None
        self._checked = False
        self._lock = threading.Lock()
        self._vectors: dict[tuple[str, str], Any] = {}
        self._skipped: set[tuple[str, str]] = set()  # no English text: no vector
        self._seen = -1
        self._order: list[tuple[str, str]] = []
        self._stacked: Any = None

    def embed(self, texts: list[str]) -> Any:
        """Vectors for ``texts``, or ``None`` when the embedding model is not installed."""
        with self._lock:
            if not self._checked:
                self._checked = True
                if self._semantic:
                    try:
                        from detente.incidents.embed import load_embedder
                    except ImportError:  # the optional module itself failed: lexical suggestions only
                        self._embedder = None
                    else:
                        self._embedder = load_embedder()
        return None if self._embedder is None else self._embedder.encode(texts)

    def vectors(self) -> dict[tuple[str, str], Any]:
        """The vectors embedded so far, by (origin, incident id): to save them for a later process."""
        self._matrix()
        return dict(self._vectors)

    def preload(self, vectors: dict[tuple[str, str], Any]) -> None:
        """Vectors embedded earlier (by :meth:`vectors`, for the same texts): they are not embedded again."""
        with self._lock:
            self._vectors.update(vectors)
            self._seen = -1

    def _matrix(self) -> tuple[list[tuple[str, str]], Any]:
        """Every indexed incident with English text, and its vectors as one matrix; new incidents
        are embedded when the index has grown (a cheap check), the matrix rebuilt only then."""
        import numpy as np

        size = self.index.size()
        if size != self._seen:
            keys = [k for k in self.index.keys() if k not in self._vectors and k not in self._skipped]  # noqa: SIM118
            if keys:
                texts = self.index.texts(keys, english=True)
                order = [k for k in keys if k in texts and _is_english(texts[k])]
                self._skipped.update(k for k in keys if k not in order)
                if order:
                    vectors = self.embed([texts[k] for k in order])
                    if vectors is None:
                        return [], None
                    self._vectors.update(zip(order, vectors, strict=True))
            self._order = list(self._vectors)
            self._stacked = np.stack([self._vectors[k] for k in self._order]) if self._order else None
            self._seen = size
        return self._order, self._stacked

    def _probe(self, report: IncidentReport) -> list[str]:
        """The words of the candidate query: of the report's first salient words (the title's
        first), the ones held by the fewest indexed incidents. An any-word query is ranked over
        every incident it matches, so a common word costs time and finds little: at 100,000
        incidents, 8 title-first words took p95 168 ms, the 6 rarest 16 ms (docs/performance.md)."""
        title = [report.title.original.text, *report.title.translations.values()]
        words = salient_words(". ".join([*title, report.description.original.text,
                                         *report.description.translations.values()]))  # fmt: skip
        pool = list(dict.fromkeys(salient_words(" ".join(title)) + words))[:PROBE_POOL]
        if not pool:
            return []
        counts = self.index.word_counts(pool, cap=RARITY_CAP)
        held = [w for w in pool if counts[w] > 0]  # sorted() is stable: ties keep the title first
        return sorted(held, key=lambda w: counts[w])[:PROBE_WORDS]

    def suggest(
        self, report: IncidentReport, *, exclude: tuple[str, str] | None = None, limit: int = 5
    ) -> list[Suggestion]:
        parts = [report.title.original.text, *report.title.translations.values()]
        parts += [report.description.original.text, *report.description.translations.values()]
        words = salient_words(". ".join(parts))
        english = f"{report.title.in_lang('en')[0]}. {report.description.in_lang('en')[0]}"
        candidates: dict[tuple[str, str], Hit] = {}
        probe = self._probe(report)
        if probe:
            page = self.index.search(SearchQuery(q=" ".join(probe), match="any", limit=30))
            candidates.update({(h.origin, h.incident_id): h for h in page.hits})
        semantic: dict[tuple[str, str], float] = {}
        # all-MiniLM-L6-v2 has an English vocabulary (most Chinese characters become [UNK]), so
        # the semantic signal is used only between English texts (originals or translations).
        query_vec = self.embed([english]) if _is_english(english) else None
        if query_vec is not None:
            import numpy as np

            order, matrix = self._matrix()
            vectors = self._vectors
            if matrix is not None:
                sims = matrix @ query_vec[0]
                top = np.argpartition(-sims, min(30, len(order) - 1))[:30]
                for i in top[np.argsort(-sims[top])]:
                    semantic[order[int(i)]] = float(sims[int(i)])
                for k in semantic:
                    if k not in candidates and (hit := self.index.get(*k)) is not None:
                        candidates[k] = hit
                for k in candidates:
                    if k not in semantic and k in vectors:
                        semantic[k] = float(vectors[k] @ query_vec[0])
        mine = set(words)
        texts = self.index.texts(list(candidates))
        out = []
        for key, hit in candidates.items():
            if key == exclude:
                continue
            theirs = set(salient_words(texts.get(key, hit.title)))
            lexical = len(mine & theirs) / len(mine | theirs) if mine | theirs else 0.0
            sem = semantic.get(key)
            score = lexical if sem is None else (lexical + max(sem, 0.0)) / 2
            out.append(Suggestion(key[0], key[1], hit.title, score, lexical, sem))
        out.sort(key=lambda s: (-s.score, s.origin, s.incident_id))
        return out[:limit]
