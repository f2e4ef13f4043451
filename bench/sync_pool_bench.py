"""Verifying a peer's backlog on every core (issue #26, "Sync on every core").

    .venv/bin/python bench/sync_pool_bench.py                      # 50,000 entries, 3 rounds
    .venv/bin/python bench/sync_pool_bench.py --entries 100000 --rounds 5

One run, one backlog: a party's log of N sealed ``detente.dev/statement/v1`` records (about 500
bytes each, real Ed25519/DSSE signatures) in a real SQLite store. Measured on the same entries,
in alternating rounds (the machine is shared; the fastest and the median round are printed):

1. raw libsodium verification, one core: ``crypto_sign_open`` (what the sync's verifier calls)
   on each entry's signature and DSSE pre-authentication encoding, extracted beforehand;
2. verifying the backlog in process, as a sync did before the pool: every entry opened with the
   key in force (envelope, signature, record, party, leaf hash), key events applied in order,
   every record's schema checked (``validate_record``), the root recomputed and compared;
3. the same with :class:`~detente.node.verify_pool.VerifyPool` (one worker per core), the
   decisions (key in force, key events, schema, root) in the calling thread, in log order;
4. ``sync_peer`` into a fresh SQLite mirror, without and with the pool (the entries read from
   the source's SQLite store in process: no HTTP), which adds writing the mirror's tiles and
   checkpoint. The schema check there is the record book's, after the sync: not in this figure.

Ratios: each rate over the raw rate of the same round. The pool's workers are started (and
timed) before the first round.

``--parts``: instead, the CPU time per entry of each part of the pool's work, in this one thread
(best of 5 alternating rounds, on the first 4,096 entries): raw verification, a worker's chunk
(``_open_chunk`` and pickling its results), the sync thread's share (unpickling them and
``_finish``: the record and its party), the decisions; and what that sum allows on two cores,
``--cores-give`` (what two processes of raw verification measured against one) × raw / sum: a
figure the machine's load moves less than the rates.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.bindings import crypto_sign_open

from detente.crypto.dsse import Envelope, pae
from detente.crypto.keys import Ed25519Identity
from detente.errors import DetenteError, VerificationError
from detente.node.sync import sync_peer
from detente.node.tilelog import TileLog
from detente.node.verify_pool import VerifyPool
from detente.records.catalogue import STATEMENT, validate_record
from detente.records.entry import open_entry, seal_record
from detente.records.keys import KeyHistory
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import leaf_hash

ORIGIN = "us.bench.example/log"


class _LogClient:
    """The source log served in process (what PeerClient fetches over HTTP)."""

    def __init__(self, log: TileLog) -> None:
        self.log = log

    def checkpoint(self) -> bytes:
        return self.log.signed_checkpoint()

    def iter_entries(self, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        for begin in range(start, end, 256):
            yield from enumerate(self.log.entries(begin, min(begin + 256, end)), begin)

    def fetch_nodes(self, size: int) -> Any:
        return self.log._fetch


def build(workdir: Path, n: int) -> tuple[TileLog, Ed25519Identity]:
    ident = Ed25519Identity.generate(ORIGIN)
    source = TileLog.create(SQLiteStore(workdir / "source.db", create=True), ident)
    issued = datetime(2026, 12, 4, tzinfo=UTC)
    text = "routine statement on the link; nothing to report. " * 3
    for start in range(0, n, 1000):
        batch = [
            Record(type=STATEMENT, party=ORIGIN, issued=issued, body={"text": f"{i}: {text}"})
            for i in range(start, min(start + 1000, n))
        ]
        source.append([seal_record(r, ident) for r in batch])
    return source, ident


def root_of(entries: list[bytes]) -> bytes:
    tree = CompactRange()
    for entry in entries:
        tree.append(leaf_hash(entry))
    return tree.root()


def raw_rate(pairs: list[tuple[bytes, bytes]], public_key: bytes) -> float:
    t0 = time.perf_counter()
    for signed in pairs:
        crypto_sign_open(signed[0] + signed[1], public_key)
    return len(pairs) / (time.perf_counter() - t0)


def _raw_part(pairs: list[tuple[bytes, bytes]], public_key: bytes) -> int:
    for signed in pairs:
        crypto_sign_open(signed[0] + signed[1], public_key)
    return len(pairs)


def raw_parallel_rate(
    executor: ProcessPoolExecutor, workers: int, pairs: list[tuple[bytes, bytes]], pk: bytes
) -> float:
    """Raw verification in ``workers`` processes at once, no IPC in the timing: what every core gives now."""
    parts = [pairs[k::workers] for k in range(workers)]
    t0 = time.perf_counter()
    done = sum(f.result() for f in [executor.submit(_raw_part, part, pk) for part in parts])
    return done / (time.perf_counter() - t0)


def _verify(stream: Iterator[tuple[int, bytes, Any]], history: KeyHistory, root: bytes) -> int:
    """The sync's decisions over ``(index, entry, pre)``: key in force, events, schema, root."""
    tree = CompactRange()
    for i, entry, pre in stream:
        key = history.check_signer(i)
        item = pre if pre is not None else open_entry(entry, [key])
        history.apply(i, item.record)
        with contextlib.suppress(DetenteError):  # quarantined, as the record book does; still mirrored
            validate_record(item.record)
        tree.append(item.leaf_hash)
    if tree.root() != root:
        raise VerificationError("the entries do not produce the signed root")
    return tree.size


def in_process_rate(entries: list[bytes], ident: Ed25519Identity, root: bytes) -> float:
    t0 = time.perf_counter()
    n = _verify(((i, e, None) for i, e in enumerate(entries)), KeyHistory(ident.vkey()), root)
    return n / (time.perf_counter() - t0)


def pool_rate(pool: VerifyPool, entries: list[bytes], ident: Ed25519Identity, root: bytes) -> float:
    history = KeyHistory(ident.vkey())
    t0 = time.perf_counter()
    stream = pool.open_entries(history, enumerate(entries), len(entries))
    n = _verify(stream, history, root)
    return n / (time.perf_counter() - t0)


def sync_rate(workdir: Path, name: str, source: TileLog, ident: Ed25519Identity, pool: VerifyPool | None) -> float:
    path = workdir / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    mirror = TileLog.mirror(SQLiteStore(path, create=True), ident.vkey())
    t0 = time.perf_counter()
    result = sync_peer(mirror, ident.vkey(), _LogClient(source), lambda fork: None, pool=pool)
    rate = result.records / (time.perf_counter() - t0)
    mirror.store.close()
    return rate


def cpu_seconds(pool: VerifyPool) -> tuple[float, float]:
    """CPU time used so far by this process (every thread) and by the pool's workers (Linux)."""
    workers = 0.0
    executor = pool._executor
    for pid in executor._processes if executor is not None else ():  # type: ignore[attr-defined]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        workers += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return time.process_time(), workers


def parts(entries: list[bytes], ident: Ed25519Identity, cores_give: float) -> None:
    """``--parts``: CPU per entry of each part of the pool's work, one thread (see the module doc)."""
    import pickle

    from detente.node import verify_pool

    entries = entries[:4096]
    root = root_of(entries)
    pinned = str(ident.vkey())
    envelopes = [Envelope.from_json(e) for e in entries]
    signed = [env.signatures[0].sig + pae(env.payload_type, env.payload) for env in envelopes]
    chunks = [(k, entries[k : k + 256]) for k in range(0, len(entries), 256)]
    blobs = [pickle.dumps(verify_pool._open_chunk(pinned, (), k, c)) for k, c in chunks]
    pres = [verify_pool._finish(r) for blob in blobs for r in pickle.loads(blob)]
    if any(p is None for p in pres):
        raise SystemExit("an entry did not open")
    runs: dict[str, Callable[[], object]] = {
        "raw verification (crypto_sign_open)": lambda: [crypto_sign_open(m, ident.public_bytes) for m in signed],
        "open_entry in process, for comparison": lambda: [open_entry(e, [ident.vkey()]) for e in entries],
        "worker: _open_chunk + pickling its results": lambda: [
            pickle.dumps(verify_pool._open_chunk(pinned, (), k, c)) for k, c in chunks
        ],
        "sync thread: unpickling + _finish (record, party)": lambda: [
            verify_pool._finish(r) for blob in blobs for r in pickle.loads(blob)
        ],
        "sync thread: decisions (key, events, schema, root)": lambda: _verify(
            ((i, e, p) for i, (e, p) in enumerate(zip(entries, pres, strict=True))), KeyHistory(ident.vkey()), root
        ),
    }
    best: dict[str, float] = {}
    for r in range(5):
        for name, run in runs.items() if r % 2 == 0 else reversed(runs.items()):
            c0 = time.process_time()
            run()
            us = (time.process_time() - c0) / len(entries) * 1e6
            best[name] = min(best.get(name, us), us)
    for name, us in best.items():
        print(f"{name:52} {us:6.1f} us CPU per entry")
    raw = best["raw verification (crypto_sign_open)"]
    total = sum(v for k, v in best.items() if k.startswith(("worker", "sync thread")))
    print(
        f"pool: {total:.1f} us CPU per entry in all; on two cores that give {cores_give:.2f}x one: at most "
        f"{cores_give:.2f} x {raw:.1f} / {total:.1f} = {cores_give * raw / total:.2f}x the raw one-core rate "
        f"(load average {os.getloadavg()[0]:.2f})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--parts", action="store_true", help="CPU per entry of each part of the pool's work, one thread")
    ap.add_argument("--cores-give", type=float, default=1.74, help="with --parts: all cores' raw rate over one's")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="detente-pool-bench-"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    source, ident = build(workdir, args.entries)
    entries = source.entries(0, args.entries)
    root = source.refresh().root
    envelopes = [Envelope.from_json(e) for e in entries]
    pairs = [(env.signatures[0].sig, pae(env.payload_type, env.payload)) for env in envelopes]
    print(f"backlog: {len(entries):,} entries, {sum(map(len, entries)) / len(entries):.0f} bytes each on average")
    if args.parts:
        parts(entries, ident, args.cores_give)
        return

    pool = VerifyPool(args.workers)
    first = entries[: 2 * pool.chunk * pool.window]
    t0 = time.perf_counter()
    pool_rate(pool, first, ident, root_of(first))
    print(
        f"pool of {pool.workers} worker processes started, and a first batch verified, "
        f"in {time.perf_counter() - t0:.2f} s"
    )

    raw_pool = ProcessPoolExecutor(pool.workers, mp_context=multiprocessing.get_context("spawn"))
    raw_parallel_rate(raw_pool, pool.workers, pairs[:1000], ident.public_bytes)  # start the processes
    figures: dict[str, list[float]] = {k: [] for k in ("raw", "raw_all", "old", "pool", "sync_old", "sync_pool")}
    cpu: dict[str, list[float]] = {k: [] for k in figures}
    cpu_here: dict[str, list[float]] = {k: [] for k in figures}  # this process's share (the sync's thread)
    runs: list[tuple[str, Callable[[], float]]] = [
        ("raw", lambda: raw_rate(pairs, ident.public_bytes)),
        ("raw_all", lambda: raw_parallel_rate(raw_pool, pool.workers, pairs, ident.public_bytes)),
        ("old", lambda: in_process_rate(entries, ident, root)),
        ("pool", lambda: pool_rate(pool, entries, ident, root)),
        ("sync_old", lambda: sync_rate(workdir, "old", source, ident, None)),
        ("sync_pool", lambda: sync_rate(workdir, "pool", source, ident, pool)),
    ]
    try:
        for r in range(args.rounds):
            for name, run in runs if r % 2 == 0 else list(reversed(runs)):
                (h0, w0) = cpu_seconds(pool)
                figures[name].append(run())
                (h1, w1) = cpu_seconds(pool)
                cpu[name].append((h1 - h0 + w1 - w0) / len(entries) * 1e6)
                cpu_here[name].append((h1 - h0) / len(entries) * 1e6)
            print(
                f"round {r + 1}: "
                + ", ".join(f"{name} {figures[name][-1]:,.0f}/s" for name in figures)
                + f" (load average {os.getloadavg()[0]:.2f})"
            )
    finally:
        pool.close()
        raw_pool.shutdown()

    def show(name: str) -> str:
        best, med = max(figures[name]), statistics.median(figures[name])
        return f"{best:,.0f}/s fastest, {med:,.0f}/s median"

    raw_best = max(figures["raw"])
    raw_med = statistics.median(figures["raw"])
    print(
        f"raw libsodium verification (crypto_sign_open, one core), same entries: {show('raw')}; "
        f"CPU {statistics.median(cpu['raw']):.0f} us/entry (median)"
    )
    for name, label in (
        ("raw_all", f"raw libsodium verification in {pool.workers} processes at once (no IPC timed)"),
        ("old", "backlog verification in process (signature, party, schema, root)"),
        ("pool", f"backlog verification with the pool ({pool.workers} workers)"),
        ("sync_old", "sync_peer into a SQLite mirror, in process"),
        ("sync_pool", "sync_peer into a SQLite mirror, with the pool"),
    ):
        ratios = [f / r for f, r in zip(figures[name], figures["raw"], strict=True)]
        print(
            f"{label}: {show(name)}; ratio to raw: {max(figures[name]) / raw_best:.2f} (fastest/fastest), "
            f"{statistics.median(ratios):.2f} (median of rounds){'  (target >= 1.50)' if name == 'pool' else ''}; "
            + (f"CPU {statistics.median(cpu[name]):.0f} us/entry (median)" if name != "raw_all" else "")
            + (f", {statistics.median(cpu_here[name]):.0f} of them in this process" if "pool" in name else "")
        )
    speedup = [p / o for p, o in zip(figures["pool"], figures["old"], strict=True)]
    sync_speedup = [p / o for p, o in zip(figures["sync_pool"], figures["sync_old"], strict=True)]
    print(
        f"pool over in process: verification {statistics.median(speedup):.2f}x, "
        f"sync {statistics.median(sync_speedup):.2f}x "
        f"(medians of rounds); raw median {raw_med:,.0f}/s"
    )


if __name__ == "__main__":
    main()
