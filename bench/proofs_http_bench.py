"""Inclusion proofs over HTTP, as an auditor fetches them, against computing them in process (issue #26).

    .venv/bin/python bench/proofs_http_bench.py                      # 1,000,000 entries (minutes)
    .venv/bin/python bench/proofs_http_bench.py --entries 100000 --proofs 500

A real node process (``python -m detente serve``, SQLite) serves a log of ``--entries`` pre-signed
records. A client (``detente.node.client.PeerClient``, keep-alive HTTP) proves ``--proofs`` random
records from the node's hash tiles, verifying each proof against the signed root, as
``detente audit --record`` does:

- **cold**: every proof with an empty tile cache (a new auditor per proof);
- **caching client**: full tiles kept across proofs, as their ``Cache-Control: immutable`` allows
  (partial tiles are fetched again each time);
- **in process**: ``TileLog.inclusion_proof`` on the node's store, the same indices, no HTTP.

Printed: proofs per second and p50/p99 latency of each, and each HTTP rate over the in-process rate.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from detente.crypto.note import parse_note
from detente.node.client import PeerClient
from detente.node.config import load_config
from detente.node.keyfile import read_identity
from detente.node.localnet import LocalNode
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore
from detente.tlog.checkpoint import Checkpoint
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import inclusion_proof, tree_root, verify_inclusion

BATCH = 1000


def build(folder: Path, entries: int) -> LocalNode:
    node = LocalNode("bench", "bench.detente.example/log", folder / "bench").init()
    config, base = load_config(node.directory)
    identity = read_identity(base / config.key_file)
    log = TileLog.create(SQLiteStore(base / config.store), identity)
    batch = [
        seal_record(
            Record(type="detente.dev/statement/v1", party=identity.name, issued=datetime.now(UTC), body={"n": i}),
            identity,
        )
        for i in range(BATCH)
    ]
    start = time.perf_counter()
    for done in range(0, entries, BATCH):
        log.append(batch[: min(BATCH, entries - done)])
    print(f"built {entries:,} entries in {time.perf_counter() - start:.1f}s", flush=True)
    return node


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_http(url: str, size: int, root: bytes, indices: list[int], caching: bool) -> list[float]:
    client = PeerClient(url, timeout=30)
    shared = client.fetch_nodes(size)
    times = []
    try:
        for i in indices:
            t = time.perf_counter()
            fetch = shared if caching else client.fetch_nodes(size)
            leaf = leaf_hash(client.entries(i, i + 1)[0])
            verify_inclusion(leaf, i, size, inclusion_proof(i, size, fetch), root)
            times.append(time.perf_counter() - t)
    finally:
        client.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--proofs", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        node = build(Path(tmp), args.entries)
        node.start(timeout=120)
        try:
            client = PeerClient(node.url)
            cp = Checkpoint.parse(parse_note(client.checkpoint()).text)
            client.close()
            size = cp.size
            root = tree_root(size, PeerClient(node.url).fetch_nodes(size))
            assert root == cp.root
            rng = random.Random(7)
            indices = [rng.randrange(size) for _ in range(args.proofs)]
            config, base = load_config(node.directory)
            identity = read_identity(base / config.key_file)
            local = TileLog(SQLiteStore(base / config.store), identity.name, [identity.vkey()])
            rows = []
            for name, fn in (
                ("in process", lambda: _local(local, size, root, indices)),
                ("http, caching client", lambda: run_http(node.url, size, root, indices, True)),
                ("http, cold", lambda: run_http(node.url, size, root, indices, False)),
            ):
                times = fn()
                rows.append((name, len(times) / sum(times), statistics.median(times), pct(times, 0.99)))
        finally:
            node.stop()
    base_rate = rows[0][1]
    print(f"\ninclusion proofs of random records of a {size:,}-entry log (SQLite), {args.proofs} proofs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'path':24} {'proofs/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs in process':>14}")
    for name, rate, p50, p99 in rows:
        print(f"{name:24} {rate:10,.0f} {p50 * 1000:8.2f} {p99 * 1000:8.2f} {rate / base_rate:13.2f}x")


def _local(log: TileLog, size: int, root: bytes, indices: list[int]) -> list[float]:
    times = []
    for i in indices:
        t = time.perf_counter()
        leaf = leaf_hash(log.entry(i))
        verify_inclusion(leaf, i, size, log.inclusion_proof(i, size), root)
        times.append(time.perf_counter() - t)
    return times


if __name__ == "__main__":
    main()
