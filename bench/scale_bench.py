"""Does a log's cost stay flat as it grows? Append, proof and sync rates and peak RSS at 10⁴ … 10⁷
entries (issue #26, "Cost that stays flat as the log grows").

    .venv/bin/python bench/scale_bench.py --dir /tmp/scale                       # SQLite to 10^7
    .venv/bin/python bench/scale_bench.py --sizes 10000 100000 1000000 \\
        --pg postgresql://127.0.0.1:5432/test                                     # PostgreSQL to 10^6
    .venv/bin/python bench/scale_bench.py --chart docs/scale.svg out1.json out2.json

One process grows one party's log (1,000 distinct pre-signed ~500-byte ``statement`` records
appended again and again in batches of 1,000, each batch durable with tiles, bundles and a
signed checkpoint) and stops at each size to measure, at the tip of the log of that size:

- **append**: entries/s over the last ``--window`` entries appended before the size was reached
  (all of them for sizes under the window);
- **proofs**: in-process inclusion proofs of ``--proofs`` random entries (``TileLog.inclusion_proof``
  on a freshly opened log), proofs/s and CPU µs per proof: with the node's default LRU of 2,048
  full level-0 tiles (it starts cold at every size and warms over the run: it holds every tile of
  a small log, not of a large one), and without it (every proof reads its level-0 tile from the
  store; the few upper-level and partial tiles stay cached in both);
- **sync**: a mirror of the same log in a second store, held at ``size - 10,000``, is brought to
  ``size`` by ``sync_peer`` reading the source in process (no HTTP): every one of the 10,000
  entries opened (DSSE envelope, Ed25519 signature, record, party), the root recomputed from the
  mirror's edge and checked against the source's signed checkpoint, then written (tiles, bundles,
  checkpoint) in one durable commit; records/s. On one core (no worker pool).
- **RSS**: the process's resident set after the size's measurements and its peak so far (VmHWM).

The mirror is caught up to ``size - 10,000`` before each sync (untimed, 10,000 entries at a time).
Databases are deleted at the end unless ``--keep``. Results are printed as a table and written as
JSON (``--out``); ``--chart`` draws an SVG from one or more such JSON files.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner
from detente.node.sync import sync_peer
from detente.node.tilelog import TileLog
from detente.records.catalogue import STATEMENT
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.open import open_store
from detente.store.protocol import LogStore
from detente.tlog.checkpoint import Checkpoint, sign_checkpoint

ORIGIN = "us.scale.example/log"
BATCH = 1000
SYNC = 10_000


class _LogClient:
    """The source log served in process (what ``PeerClient`` fetches over HTTP)."""

    def __init__(self, log: TileLog) -> None:
        self.log = log

    def checkpoint(self) -> bytes:
        return self.log.signed_checkpoint()

    def iter_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        for begin in range(start, end, 256):
            yield from enumerate(self.log.entries(begin, min(begin + 256, end)), begin)

    def fetch_nodes(self, size: int) -> Any:
        return self.log._fetch


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _entries(ident: Ed25519Identity) -> list[bytes]:
    issued = datetime(2026, 12, 4, tzinfo=UTC)
    text = "routine statement on the link; nothing to report."
    return [
        seal_record(Record(type=STATEMENT, party=ORIGIN, issued=issued, body={"text": f"{i}: {text}"}), ident)
        for i in range(BATCH)
    ]


def _catch_up(mirror: TileLog, source: TileLog, ident: Ed25519Identity, target: int) -> None:
    signer = [Ed25519NoteSigner(ident)]
    while mirror.size < target:
        end = min(target, mirror.size + SYNC)
        cp = Checkpoint(ORIGIN, end, source.root(end))
        mirror.extend(source.entries(mirror.size, end), sign_checkpoint(cp, signer).to_bytes())


def _store(url: str, name: str) -> LogStore:
    if url.startswith("postgresql://"):
        return open_store(f"{url}#{name}", create=True)
    return open_store(str(Path(url) / f"{name}.db"), create=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    ident = Ed25519Identity.from_seed(ORIGIN, b"\x09" * 32)
    entries = _entries(ident)
    tag = f"scale_{os.getpid()}"
    where = args.pg or args.dir
    backend = "postgresql" if args.pg else "sqlite"
    source_store, mirror_store = _store(where, f"{tag}_src"), _store(where, f"{tag}_mirror")
    source = TileLog.create(source_store, ident)
    mirror = TileLog.mirror(mirror_store, ident.vkey())
    rows: list[dict[str, float]] = []
    rng = random.Random(26)
    try:
        for size in args.sizes:
            window = min(args.window, size)
            spent = 0.0
            while source.size < size:
                t0 = time.perf_counter()
                source.append(entries[: min(BATCH, size - source.size)])
                if source.size > size - window:
                    spent += time.perf_counter() - t0
            append_rate = window / spent

            picks = [rng.randrange(size) for _ in range(args.proofs)]
            proof_rates, proof_cpu = [], []
            for cache in (2048, 0):  # the node's default LRU of level-0 tiles, then none
                prover = TileLog(source_store, ORIGIN, [ident.vkey()], tile_cache_size=cache)
                c0, t0 = time.process_time(), time.perf_counter()
                for i in picks:
                    prover.inclusion_proof(i, size)
                proof_rates.append(len(picks) / (time.perf_counter() - t0))
                proof_cpu.append((time.process_time() - c0) / len(picks) * 1e6)
                del prover
            gc.collect()

            _catch_up(mirror, source, ident, size - SYNC)
            t0 = time.perf_counter()
            result = sync_peer(mirror, ident.vkey(), _LogClient(source), lambda fork: None)  # type: ignore[arg-type]
            sync_rate = result.records / (time.perf_counter() - t0)
            if result.records != SYNC or mirror.size != size:
                raise SystemExit(f"sync mirrored {result.records} records, expected {SYNC}")
            del result  # it holds the 10,000 opened records
            gc.collect()

            row = {
                "size": size,
                "append_per_s": append_rate,
                "proofs_per_s": proof_rates[0],
                "proofs_uncached_per_s": proof_rates[1],
                "proof_cpu_us": proof_cpu[0],
                "proof_uncached_cpu_us": proof_cpu[1],
                "sync_per_s": sync_rate,
                "rss_mb": _status("VmRSS"),
                "peak_rss_mb": _status("VmHWM"),
                "load": os.getloadavg()[0],
            }
            rows.append(row)
            print(
                f"{backend:10} {size:>12,} {append_rate:>10,.0f} {proof_rates[0]:>10,.0f} {proof_rates[1]:>10,.0f} "
                f"{sync_rate:>10,.0f} {proof_cpu[0]:>7.0f} {proof_cpu[1]:>7.0f} "
                f"{row['rss_mb']:>7.0f} {row['peak_rss_mb']:>8.0f} {row['load']:>6.1f}",
                flush=True,
            )
    finally:
        source_store.close()
        mirror_store.close()
        if args.pg:
            import psycopg

            with psycopg.connect(args.pg, autocommit=True) as conn:
                for name in (f"{tag}_src", f"{tag}_mirror"):
                    conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        elif not args.keep:
            for f in Path(args.dir).glob(f"{tag}_*"):
                f.unlink()
    return {"backend": backend, "date": datetime.now(UTC).isoformat(timespec="seconds"), "rows": rows}


def _built(directory: Path, size: int, ident: Ed25519Identity, entries: list[bytes]) -> Path:
    """``directory/log_<size>.db``: the log grown to ``size`` (batches of 1,000, as in ``run``),
    built once and reused; its build time is kept beside it in ``log_<size>.json``."""
    path, meta = directory / f"log_{size}.db", directory / f"log_{size}.json"
    if meta.exists():
        return path
    for stale in directory.glob(f"log_{size}.db*"):
        stale.unlink()
    store = open_store(str(path), create=True)
    log = TileLog.create(store, ident)
    t0 = time.perf_counter()
    while log.size < size:
        log.append(entries[: min(BATCH, size - log.size)])
    seconds = time.perf_counter() - t0
    store.close()
    meta.write_text(json.dumps({"size": size, "build_seconds": seconds, "load": os.getloadavg()[0]}) + "\n")
    print(f"built {path} in {seconds:,.0f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    return path


def prebuilt(args: argparse.Namespace) -> dict[str, Any]:
    """Proof rates only, on logs built once under ``--prebuilt`` and reused between runs: the sizes
    in alternating rounds (every size once per round), each with the tile LRU and without."""
    ident = Ed25519Identity.from_seed(ORIGIN, b"\x09" * 32)
    entries = _entries(ident)
    directory = Path(args.prebuilt)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {size: _built(directory, size, ident, entries) for size in args.sizes}
    rng = random.Random(26)
    kinds = ("lru", "none", "lru_cpu_us", "none_cpu_us")
    rates: dict[int, dict[str, list[float]]] = {s: {k: [] for k in kinds} for s in args.sizes}
    for rnd in range(args.rounds):
        for size in args.sizes if rnd % 2 == 0 else reversed(args.sizes):
            picks = [rng.randrange(size) for _ in range(args.proofs)]
            store = open_store(str(paths[size]))
            for name, cache in (("lru", 2048), ("none", 0)):
                prover = TileLog(store, ORIGIN, [ident.vkey()], tile_cache_size=cache)
                c0, t0 = time.process_time(), time.perf_counter()
                for i in picks:
                    prover.inclusion_proof(i, size)
                rates[size][name].append(len(picks) / (time.perf_counter() - t0))
                rates[size][name + "_cpu_us"].append((time.process_time() - c0) / len(picks) * 1e6)
            store.close()
            r = rates[size]
            print(
                f"round {rnd + 1} {size:>12,}  lru {r['lru'][-1]:>8,.0f}/s {r['lru_cpu_us'][-1]:5.0f} µs CPU  "
                f"none {r['none'][-1]:>8,.0f}/s {r['none_cpu_us'][-1]:5.0f} µs CPU  load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    out = {s: {k: statistics.median(v) for k, v in r.items()} for s, r in rates.items()}
    for s in args.sizes:
        o = out[s]
        print(
            f"median {s:>12,}  lru {o['lru']:>8,.0f}/s {o['lru_cpu_us']:5.0f} µs CPU  "
            f"none {o['none']:>8,.0f}/s {o['none_cpu_us']:5.0f} µs CPU"
        )
    first = args.sizes[0]
    for s in args.sizes[1:]:
        a, b = out[first], out[s]
        print(
            f"  {first:,} -> {s:,}: lru {b['lru'] / a['lru'] - 1:+.1%} "
            f"(CPU {a['lru_cpu_us'] / b['lru_cpu_us'] - 1:+.1%}), "
            f"none {b['none'] / a['none'] - 1:+.1%} (CPU {a['none_cpu_us'] / b['none_cpu_us'] - 1:+.1%})"
        )
    return {"backend": "sqlite", "rounds": {str(s): r for s, r in rates.items()}}


def _flatness(rows: list[dict[str, float]]) -> None:
    by = {int(r["size"]): r for r in rows}
    if 100_000 not in by:
        return
    last = max(by)
    for key in ("append_per_s", "proofs_per_s", "proofs_uncached_per_s", "sync_per_s"):
        change = by[last][key] / by[100_000][key] - 1
        print(f"  {key:13} 10^5 -> {last:,}: {change:+.1%}  (bar: no worse than -20%)")
    for key in ("proof_cpu_us", "proof_uncached_cpu_us"):
        if key in by[last]:  # CPU time per proof: what the machine's load does not stretch
            lo, hi = by[100_000][key], by[last][key]
            print(f"  {key:13} 10^5 -> {last:,}: {lo:.0f} -> {hi:.0f} µs, as a rate {lo / hi - 1:+.1%}")
    print(f"  peak RSS {max(r['peak_rss_mb'] for r in rows):.0f} MB  (bar: under 200 MB)")


# --- chart ------------------------------------------------------------------------------------

_PANELS = [
    ("append_per_s", "append, entries/s"),
    ("proofs_per_s", "inclusion proofs, proofs/s (tile LRU)"),
    ("sync_per_s", "sync of 10,000 at the tip, records/s"),
    ("peak_rss_mb", "peak RSS, MB"),
]
_COLOURS = {"sqlite": "#1f77b4", "postgresql": "#d62728"}


def chart(results: list[dict[str, Any]]) -> str:
    """An SVG of four panels (one per figure) against log size, a line per backend."""
    import math

    w, h, pad = 330, 230, 52
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * w}" height="{2 * h + 40}" '
        f'font-family="sans-serif" font-size="11">',
        f'<rect width="{2 * w}" height="{2 * h + 40}" fill="white"/>',
    ]
    sizes = sorted({int(r["size"]) for res in results for r in res["rows"]})
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
    for p, (key, title) in enumerate(_PANELS):
        ox, oy = (p % 2) * w, (p // 2) * h
        keys = [key, "proofs_uncached_per_s"] if key == "proofs_per_s" else [key]
        top = max(r.get(k, 0) for res in results for r in res["rows"] for k in keys) * 1.15
        if key == "peak_rss_mb":
            top = max(top, 230.0)  # room for the 200 MB bar
        x0, x1, y0, y1 = ox + pad, ox + w - 14, oy + h - 30, oy + 24

        def sx(s: float, x0: float = x0, x1: float = x1) -> float:
            return x0 + (math.log10(s) - lo) / (hi - lo or 1) * (x1 - x0)

        def sy(v: float, y0: float = y0, y1: float = y1, top: float = top) -> float:
            return y0 - v / top * (y0 - y1)

        out.append(f'<text x="{ox + w / 2}" y="{oy + 14}" text-anchor="middle" font-weight="bold">{title}</text>')
        out.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="black"/>')
        out.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="black"/>')
        for s in sizes:
            out.append(f'<line x1="{sx(s):.1f}" y1="{y0}" x2="{sx(s):.1f}" y2="{y0 + 4}" stroke="black"/>')
            label = f"10^{round(math.log10(s))}" if s == 10 ** round(math.log10(s)) else f"{s:,}"
            out.append(f'<text x="{sx(s):.1f}" y="{y0 + 16}" text-anchor="middle">{label}</text>')
        for k in range(5):
            v = top * k / 4
            out.append(f'<line x1="{x0 - 4}" y1="{sy(v):.1f}" x2="{x1}" y2="{sy(v):.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 6}" y="{sy(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>')
        if key == "peak_rss_mb":
            out.append(
                f'<line x1="{x0}" y1="{sy(200):.1f}" x2="{x1}" y2="{sy(200):.1f}" '
                'stroke="#999" stroke-dasharray="4 3"/>'
            )
        for res in results:
            colour = _COLOURS.get(res["backend"], "black")
            pts = " ".join(f"{sx(r['size']):.1f},{sy(r[key]):.1f}" for r in res["rows"])
            out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
            if key == "proofs_per_s" and all("proofs_uncached_per_s" in r for r in res["rows"]):
                pts = " ".join(f"{sx(r['size']):.1f},{sy(r['proofs_uncached_per_s']):.1f}" for r in res["rows"])
                out.append(
                    f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="5 3"/>'
                )
            for r in res["rows"]:
                out.append(f'<circle cx="{sx(r["size"]):.1f}" cy="{sy(r[key]):.1f}" r="3" fill="{colour}"/>')
    for i, res in enumerate(results):
        colour = _COLOURS.get(res["backend"], "black")
        x = 20 + 260 * i
        out.append(f'<rect x="{x}" y="{2 * h + 14}" width="14" height="4" fill="{colour}"/>')
        out.append(f'<text x="{x + 20}" y="{2 * h + 20}">{res["backend"]} ({res["date"][:10]})</text>')
    note = "dashed: proofs with no level-0 tile cache"
    out.append(f'<text x="{2 * w - 10}" y="{2 * h + 20}" text-anchor="end">{note}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    ap.add_argument("--dir", default=None, help="where the SQLite files go (default: a temp dir); needs ~1.2 KB/entry")
    ap.add_argument("--pg", default=None, help="PostgreSQL URL: measure PostgreSQL instead of SQLite")
    ap.add_argument("--window", type=int, default=50_000, help="entries whose append is timed at each size")
    ap.add_argument("--proofs", type=int, default=3000)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files")
    ap.add_argument("--chart", default=None, help="draw an SVG from the JSON files given as arguments")
    ap.add_argument("--prebuilt", default=None, help="proofs only, on logs built once in this directory and reused")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds of --prebuilt")
    ap.add_argument("results", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.chart:
        results = [json.loads(Path(p).read_text()) for p in args.results]
        Path(args.chart).write_text(chart(results))
        print(f"wrote {args.chart}")
        return
    if args.prebuilt:
        result = prebuilt(args)
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
        return
    if any(s % BATCH or s < SYNC for s in args.sizes) or args.sizes != sorted(args.sizes):
        ap.error(f"sizes must be increasing multiples of {BATCH}, at least {SYNC}")
    tmp = None
    if not args.pg and args.dir is None:
        tmp = args.dir = tempfile.mkdtemp(prefix="detente-scale-")
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)
    print(f"{'backend':10} {'entries':>12} {'append/s':>10} {'proofs/s':>10} {'uncached':>10} {'sync/s':>10} "
          f"{'cpu µs':>7} {'unc. µs':>7} {'RSS MB':>7} {'peak MB':>8} {'load':>6}")  # fmt: skip
    result = run(args)
    _flatness(result["rows"])
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
