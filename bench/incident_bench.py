"""Benchmark the incident database (issue #5).

    .venv/bin/python bench/incident_bench.py [--total 100000] [--pg postgresql://127.0.0.1:5432/test]

1. Import: the real AIID snapshot, AVID database and ATLAS case studies (tests/data) parsed into
   reports and classifications, then indexed (SQLite): time and throughput.
2. Search p95 over ``--total`` incidents (the real ones plus generated ones built from their
   words): 200 queries of one to three words drawn from real titles, half with a filter.
   SQLite FTS5, and PostgreSQL when ``--pg`` is given. Target: p95 under 50 ms on SQLite.
3. Duplicate suggestions p95 over the same index (lexical, plus semantic when the embedding model
   is installed). Target: p95 under 200 ms.
4. Suggestion quality on real data: AIID incidents that share a report number (the same news
   article filed under both) and the 13 duplicate pairs of the AIID snapshot's duplicates.csv
   (listed in the research note incidents.md §1.3). For each pair, the suggestions for one
   incident, excluding itself, should rank the other first: recall@1 and recall@5, and the
   precision of the top suggestion against random pairs (how often a random incident would be
   suggested first instead).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from detente.incidents import importers
from detente.incidents.index import IndexBatch, SearchQuery, StageRow
from detente.incidents.model import IncidentReport
from detente.incidents.similarity import Suggester
from detente.store.incident_protocol import IncidentIndex
from detente.store.sqlite_incidents import SQLiteIncidentIndex

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
ORIGIN = "bench.example/log"
AIID_DUPLICATES = [(365, 95), (237, 120), (342, 88), (90, 77), (130, 107), (269, 268), (247, 246), (338, 337),
                   (442, 434), (512, 506), (542, 123), (637, 112), (88, 1057)]  # fmt: skip


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]


def load_real() -> tuple[list[IncidentReport], float]:
    t0 = time.perf_counter()
    reports: list[IncidentReport] = []
    for batch in (
        importers.read_aiid(DATA / "aiid", ORIGIN),
        importers.read_avid(DATA / "avid", ORIGIN),
        importers.read_atlas(DATA / "atlas" / "ATLAS.yaml", ORIGIN),
    ):
        reports.extend(batch.incidents)
    return reports, time.perf_counter() - t0


def fill(index: IncidentIndex, reports: list[IncidentReport], total: int) -> float:
    rng = random.Random(5)
    words = [w for r in reports for w in r.description.original.text.split() if w.isalpha()]
    t0 = time.perf_counter()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [StageRow(ORIGIN, i, f"{i:064x}", start, r) for i, r in enumerate(reports)]
    for i in range(len(reports), total):
        base = reports[i % len(reports)]
        title = " ".join(rng.choices(words, k=8))
        body = base.model_dump(mode="json")
        body.update(
            incident_id=f"gen-{i}",
            title={"original": {"lang": "en", "text": title}},
            description={"original": {"lang": "en", "text": " ".join(rng.choices(words, k=50))}},
            occurred_at=(start + timedelta(days=rng.randrange(2000))).isoformat(),
        )
        rows.append(StageRow(ORIGIN, i, f"{i:064x}", start, IncidentReport.model_validate(body)))
    for k in range(0, len(rows), 5000):
        index.apply(IndexBatch(stages=rows[k : k + 5000]))
    return time.perf_counter() - t0


def search_p95(index: IncidentIndex, reports: list[IncidentReport]) -> tuple[float, float]:
    rng = random.Random(7)
    titles = [r.title.original.text.split() for r in reports]
    samples = []
    filters = [
        {},
        {"harm_type": "health"},
        {"min_severity": "high"},
        {"occurred_from": datetime(2023, 1, 1, tzinfo=UTC)},
    ]
    for i in range(200):
        words = [w for w in rng.choice(titles) if w.isalpha() and len(w) > 3] or ["model"]
        q = " ".join(rng.sample(words, k=min(len(words), rng.randint(1, 3))))
        query = SearchQuery(q=q, **(filters[i % len(filters)] if i % 2 else {}))
        t0 = time.perf_counter()
        index.search(query)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), p95(samples)


def suggestion_figures(suggester: Suggester, reports: list[IncidentReport], n: int) -> tuple[float, float]:
    rng = random.Random(11)
    samples = []
    for r in rng.sample(reports, k=min(n, len(reports))):
        t0 = time.perf_counter()
        suggester.suggest(r, exclude=(ORIGIN, r.incident_id))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), p95(samples)


def quality(suggester: Suggester, reports: list[IncidentReport]) -> dict[str, float]:
    by_id = {r.incident_id: r for r in reports}
    aiid = [r for r in reports if r.incident_id.startswith("aiid-")]
    by_report: dict[int, list[str]] = {}
    for r in aiid:
        for number in r.extra.get("aiid_reports", []):
            by_report.setdefault(int(number), []).append(r.incident_id)
    pairs = sorted({tuple(sorted(ids[:2])) for ids in by_report.values() if len(ids) > 1})
    pairs += [(f"aiid-{a}", f"aiid-{b}") for a, b in AIID_DUPLICATES]
    pairs = [(a, b) for a, b in pairs if a in by_id and b in by_id]
    at1 = at5 = 0
    for a, b in pairs:
        ranked = [s.incident_id for s in suggester.suggest(by_id[a], exclude=(ORIGIN, a), limit=5)]
        at1 += ranked[:1] == [b]
        at5 += b in ranked
    rng = random.Random(3)
    random_hits = 0
    for a, _ in pairs:
        other = rng.choice(aiid).incident_id
        ranked = [s.incident_id for s in suggester.suggest(by_id[a], exclude=(ORIGIN, a), limit=1)]
        random_hits += ranked == [other]
    return {
        "pairs": len(pairs),
        "recall@1": at1 / len(pairs),
        "recall@5": at5 / len(pairs),
        "random@1": random_hits / len(pairs),
    }


def warm_vectors(suggester: Suggester, path: Path) -> None:
    """Load the index's vectors from ``path``, or embed them all and save them there."""
    import numpy as np

    if path.exists():
        saved = np.load(path)
        keys = [tuple(k.split("\t", 1)) for k in saved["keys"]]
        suggester.preload(dict(zip(keys, saved["matrix"], strict=True)))  # kept in the index
        suggester.vectors()  # read back from the index into the matrix, outside the timed part
        return
    vectors = suggester.vectors()
    np.savez(path, keys=np.array(["\t".join(k) for k in vectors]), matrix=np.stack(list(vectors.values())))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=100_000)
    ap.add_argument("--suggestions", type=int, default=200)
    ap.add_argument("--pg", default="")
    ap.add_argument("--no-semantic", action="store_true")
    ap.add_argument("--skip-quality", action="store_true", help="skip the suggestion-quality part")
    ap.add_argument("--skip-suggestions", action="store_true", help="skip the suggestion-latency part")
    ap.add_argument(
        "--vectors",
        type=Path,
        help="an .npz file of the big index's embeddings: loaded when it exists, else written after embedding "
        "(embedding 100,000 texts takes longer than the rest of the run; it is not part of the timed figure)",
    )
    args = ap.parse_args()
    reports, parse_s = load_real()
    print(f"import: parsed {len(reports):,} real incidents (AIID + AVID + ATLAS) in {parse_s:.2f} s")
    work = Path(tempfile.mkdtemp(prefix="detente-incident-bench-"))
    real = SQLiteIncidentIndex(work / "real.db")
    t = fill(real, reports, len(reports))
    print(f"import: indexed them in {t:.2f} s ({len(reports) / t:,.0f} incidents/s, SQLite)")
    suggester = Suggester(real, semantic=not args.no_semantic)
    kind = "lexical" if suggester.embed(["x"]) is None else "lexical + semantic"
    if not args.skip_quality:
        t0 = time.perf_counter()
        q = quality(suggester, reports)
        print(
            f"suggestion quality ({kind}), {q['pairs']} AIID pairs: recall@1 {q['recall@1']:.3f}, "
            f"recall@5 {q['recall@5']:.3f}; a random incident ranked first {q['random@1']:.3f} "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        lexical = quality(Suggester(real, semantic=False), reports)
        print(
            f"suggestion quality (lexical only): recall@1 {lexical['recall@1']:.3f}, recall@5 {lexical['recall@5']:.3f}"
        )
    big = SQLiteIncidentIndex(work / "big.db")
    t = fill(big, reports, args.total)
    print(f"index {args.total:,} incidents (SQLite): {t:.1f} s")
    med, p = search_p95(big, reports)
    print(
        f"search over {args.total:,} (SQLite FTS5): p50 {med * 1000:.1f} ms, p95 {p * 1000:.1f} ms (target p95 < 50 ms)"
    )
    if not args.skip_suggestions:
        suggester = Suggester(big, semantic=not args.no_semantic)
        if args.vectors and not args.no_semantic:
            t0 = time.perf_counter()
            warm_vectors(suggester, args.vectors)
            print(f"embeddings of {args.total:,} incidents ready in {time.perf_counter() - t0:.1f} s ({args.vectors})")
        med, p = suggestion_figures(suggester, reports, args.suggestions)
        print(
            f"duplicate suggestions over {args.total:,} ({kind}): "
            f"p50 {med * 1000:.1f} ms, p95 {p * 1000:.1f} ms (target p95 < 200 ms)"
        )
    if args.pg:
        from detente.store.postgres_incidents import PostgresIncidentIndex

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        pg = PostgresIncidentIndex(args.pg, schema=schema)
        try:
            t = fill(pg, reports, args.total)
            med, p = search_p95(pg, reports)
            print(
                f"search over {args.total:,} (PostgreSQL tsvector, indexed in {t:.1f} s): "
                f"p50 {med * 1000:.1f} ms, p95 {p * 1000:.1f} ms"
            )
        finally:
            pg._exec(f"DROP SCHEMA {schema} CASCADE")
            pg.close()


if __name__ == "__main__":
    main()
