"""Duplicate suggestions: which indexed incidents may report the same event as a new report.

Two signals, as the AI Incident Database uses (editor judgement aside): *lexical* candidates
(any of the report's rarest salient words, ranked by the index's BM25 or ``ts_rank_cd``) scored by the
overlap of their word sets (Jaccard), and, where the optional embedding model is installed,
*semantic* candidates: cosine similarity of all-MiniLM-L6-v2 vectors over every indexed
incident. The score is the mean of the two (the lexical one alone without the model).
Suggestions are never acted on: an operator confirms a link.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from detente.errors import DetenteError
from detente.incidents.index import STOP_WORDS, SearchQuery, query_terms
from detente.incidents.model import IncidentReport
from detente.store.incident_protocol import Hit, IncidentIndex

__all__ = ["Suggester", "Suggestion", "report_words", "salient_words"]

log = logging.getLogger(__name__)

PROBE_POOL = 24
"""The candidate query picks its words among the report's first this many salient words."""
PROBE_WORDS = 6
"""... and uses this many of them, the rarest in the index."""
RARITY_CAP = 5000
"""Word counts stop here: beyond it, a word is simply common."""
INLINE_EMBED = 64
"""At most this many incidents without a vector are embedded while a suggestion waits."""
_BATCH = 256

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


def report_words(report: IncidentReport) -> list[str]:
    """The salient words of a report's title and description, with their translations."""
    parts = [report.title.original.text, *report.title.translations.values()]
    parts += [report.description.original.text, *report.description.translations.values()]
    return salient_words(". ".join(parts))


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
    """Duplicate suggestions over an incident index. The embeddings are kept in the index
    (``IncidentIndex.store_vectors``), one per incident version and model, so a restarted node
    reads them instead of embedding every incident again. A handful of new incidents
    (:data:`INLINE_EMBED`) are embedded while a suggestion waits; more (a fresh import, a first
    start) are embedded by one background thread, and suggestions meanwhile use the vectors ready
    so far (``semantic`` is ``None`` for the others)."""

    def __init__(self, index: IncidentIndex, *, semantic: bool = True) -> None:
        self.index = index
        self._semantic = semantic
        self._embedder: Any = None
        self._checked = False
        self._lock = threading.Lock()  # loading the model
        self._state = threading.Lock()  # the vectors, the matrix and the worker
        self._vectors: dict[tuple[str, str], Any] = {}  # incidents with English text only
        self._loaded = False
        self._seen = -1
        self._order: list[tuple[str, str]] = []
        self._stacked: Any = None
        self._worker: threading.Thread | None = None
        self.worker_error: str | None = None
        """Why the last background embedding run stopped early (``None`` if it finished)."""

    def _load(self) -> Any:
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
        return self._embedder

    def embed(self, texts: list[str]) -> Any:
        """Vectors for ``texts``, or ``None`` when the embedding model is not installed."""
        embedder = self._load()
        return None if embedder is None else embedder.encode(texts)

    @property
    def embedding(self) -> bool:
        """Whether the background thread is still embedding incidents."""
        with self._state:
            return self._worker is not None and self._worker.is_alive()

    def vectors(self) -> dict[tuple[str, str], Any]:
        """Every indexed incident's vector (embedding what is missing first, however many), by
        (origin, incident id): to save them for a later process."""
        self._matrix(wait=True)
        with self._state:
            return dict(self._vectors)

    def preload(self, vectors: dict[tuple[str, str], Any]) -> None:
        """Vectors embedded earlier for the incidents' current texts (by :meth:`vectors`): kept in
        the index, so they are not embedded again."""
        import numpy as np

        embedder = self._load()
        if embedder is None:
            return
        current = {(o, i): n for o, i, n in self.index.missing_vectors(embedder.model_id)}
        rows = [(k[0], k[1], current[k], np.asarray(v, dtype=np.float32).tobytes())
                for k, v in vectors.items() if k in current]  # fmt: skip
        self.index.store_vectors(embedder.model_id, rows)
        with self._state:
            self._loaded, self._seen = False, -1

    def _matrix(self, *, wait: bool = False) -> tuple[list[tuple[str, str]], Any]:
        """Every indexed incident with English text and a vector, and those vectors as one matrix.
        When the index has grown (a cheap check), what has no current vector is embedded, inline
        or in the background (see the class), and the matrix rebuilt."""
        import numpy as np

        embedder = self._load()
        if embedder is None:
            return [], None
        model = embedder.model_id
        size = self.index.size()
        with self._state:
            if size == self._seen and not wait:
                return self._order, self._stacked
            if not self._loaded:
                stored = self.index.load_vectors(model)
                self._vectors.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in stored.items() if v)
                self._loaded = True
            worker = self._worker
        if wait and worker is not None:
            worker.join()
        gaps = self.index.missing_vectors(model)
        if gaps and (wait or len(gaps) <= INLINE_EMBED):
            self._embed(embedder, gaps)
        elif gaps:
            self._start_worker(embedder)
        with self._state:
            self._order = list(self._vectors)
            self._stacked = np.stack([self._vectors[k] for k in self._order]) if self._order else None
            self._seen = size
            return self._order, self._stacked

    def _embed(self, embedder: Any, gaps: list[tuple[str, str, int]]) -> None:
        """Embed and keep ``(origin, incident_id, latest_index)`` incidents, a batch at a time."""
        for start in range(0, len(gaps), _BATCH):
            batch = gaps[start : start + _BATCH]
            texts = self.index.texts([(o, i) for o, i, _ in batch], english=True)
            english = [g for g in batch if (g[0], g[1]) in texts and _is_english(texts[(g[0], g[1])])]
            vectors = embedder.encode([texts[(o, i)] for o, i, _ in english]) if english else []
            done = {(o, i): v for (o, i, _), v in zip(english, vectors, strict=True)}
            rows = [(o, i, n, done[(o, i)].tobytes() if (o, i) in done else b"") for o, i, n in batch]
            self.index.store_vectors(embedder.model_id, rows)  # b"": nothing in English to embed
            with self._state:
                for o, i, _ in batch:
                    self._vectors.pop((o, i), None)
                self._vectors.update(done)
                self._seen = -1  # rebuild the matrix on the next suggestion

    def _start_worker(self, embedder: Any) -> None:
        def work() -> None:
            try:
                self._embed(embedder, self.index.missing_vectors(embedder.model_id))
            except Exception as exc:  # the next suggestion starts it again; the reason is kept for status
                self.worker_error = exc.message if isinstance(exc, DetenteError) else f"{exc.__class__.__name__}: {exc}"
                log.warning("embedding incidents stopped: %s", self.worker_error)
            else:
                self.worker_error = None

        with self._state:
            if self._worker is not None and self._worker.is_alive():
                return
            self._worker = threading.Thread(target=work, name="detente-embed", daemon=True)
            self._worker.start()

    def _probe(self, report: IncidentReport, words: list[str]) -> list[str]:
        """The words of the candidate query: of the report's first salient words (``words``, from
        :func:`report_words`; the title's first), the ones held by the fewest indexed incidents.
        An any-word query is ranked over every incident it matches, so a common word costs time
        and finds little: at 100,000 incidents, 8 title-first words took p95 168 ms, the 6 rarest
        16 ms (docs/performance.md)."""
        title = [report.title.original.text, *report.title.translations.values()]
        pool = list(dict.fromkeys(salient_words(" ".join(title)) + words))[:PROBE_POOL]
        if not pool:
            return []
        counts = self.index.word_counts(pool, cap=RARITY_CAP)
        held = [w for w in pool if counts[w] > 0]  # sorted() is stable: ties keep the title first
        return sorted(held, key=lambda w: counts[w])[:PROBE_WORDS]

    def suggest(
        self, report: IncidentReport, *, exclude: tuple[str, str] | None = None, limit: int = 5
    ) -> list[Suggestion]:
        words = report_words(report)
        english = f"{report.title.in_lang('en')[0]}. {report.description.in_lang('en')[0]}"
        candidates: dict[tuple[str, str], Hit] = {}
        probe = self._probe(report, words)
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
                    if k not in semantic and (vector := vectors.get(k)) is not None:
                        semantic[k] = float(vector @ query_vec[0])
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
