"""Benchmark two real nodes on loopback (issue #3).

    .venv/bin/python bench/federation_bench.py                # 1,000 latency samples, 100,000 backlog
    .venv/bin/python bench/federation_bench.py --records 200 --backlog 20000

1. End-to-end latency: for each of N records, the time from the append call at node A (which
   returns once the record is durable) until node B has verified and mirrored it AND node A's
   served checkpoint carries B's cosignature for a tree that contains it. Sequential, one record
   at a time; p50, p99 and max.
2. Sync throughput with full verification: node A's log is filled with a backlog of sealed records
   (written to its store before it starts), then node B (a fresh process) pins A and pulls it:
   every record's Ed25519/DSSE signature, the party it claims, and the root recomputed from all
   entries. Reported as records/s and as a ratio to the raw Ed25519 verification rate of this
   machine (pyca/cryptography, one core), measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from detente.node.localnet import LocalNode


def _wait(check, timeout: float = 600.0, step: float = 0.001) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(step)
    return time.perf_counter()


def latency(workdir: Path, n: int) -> list[float]:
    a = LocalNode("a", "a.bench.example/log", workdir / "lat-a").init()
    b = LocalNode("b", "b.bench.example/log", workdir / "lat-b").init()
    a.pin(b)
    b.pin(a, witness=False)
    a.start()
    b.start()
    client = httpx.Client(timeout=30)
    auth_a = {"Authorization": f"Bearer {a.token}"}
    auth_b = {"Authorization": f"Bearer {b.token}"}
    samples = []
    try:
        for i in range(n):
            payload = {
                "type": "detente.dev/statement/v1",
                "body": {"sequence": i},
                "text": {"original": {"lang": "en", "text": f"link test {i}"}},
            }
            t0 = time.perf_counter()
            index = client.post(f"{a.url}/api/v1/records", json=payload, headers=auth_a).json()["index"]

            def done(index: int = index) -> bool:
                peers = client.get(f"{b.url}/api/v1/status", headers=auth_b).json()["peers"]
                if peers[0]["mirrored_size"] <= index:
                    return False
                cp = client.get(f"{a.url}/log/checkpoint").text
                size = int(cp.split("\n")[1])
                return size > index and "\n— b.bench.example/log " in cp

            samples.append(_wait(done) - t0)
    finally:
        client.close()
        a.stop()
        b.stop()
    return samples


def ed25519_verify_rate(seconds: float = 3.0, *, libsodium: bool = False) -> float:
    """Raw verifications per second of one 300-byte message on one core: pyca/cryptography
    (OpenSSL), or libsodium (PyNaCl, what detente's sync path uses)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from detente.crypto.ed25519_verify import _openssl, ed25519_verifier

    key = ed25519.Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    verify = ed25519_verifier(raw) if libsodium else _openssl(raw)
    msg = os.urandom(300)
    sig = key.sign(msg)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        verify(sig, msg)
        count += 1
    return count / (time.perf_counter() - start)


def backlog_sync(workdir: Path, n: int) -> tuple[float, float]:
    from detente.node.keyfile import read_identity
    from detente.node.tilelog import TileLog
    from detente.records.entry import seal_record
    from detente.records.record import Record
    from detente.store.sqlite import SQLiteStore

    a = LocalNode("a", "a.bench.example/log", workdir / "sync-a").init()
    ident = read_identity(a.directory / "party.key")
    log = TileLog.create(SQLiteStore(a.directory / "detente.db"), ident)
    issued = datetime(2026, 11, 26, tzinfo=UTC)
    for start in range(0, n, 1000):
        log.append(
            [
                seal_record(
                    Record(
                        type="detente.dev/statement/v1",
                        party=ident.name,
                        issued=issued,
                        body={"sequence": i, "topic": "link-test"},
                    ),
                    ident,
                )
                for i in range(start, min(start + 1000, n))
            ]
        )
    log.store.close()
    b = LocalNode("b", "b.bench.example/log", workdir / "sync-b").init()
    b.pin(a, witness=False)
    a.start()
    try:
        t0 = time.perf_counter()
        b.start()
        started = time.perf_counter()
        end = _wait(lambda: b.status()["peers"][0]["mirrored_size"] >= n, step=0.05)
        return n / (end - t0), n / (end - started)
    finally:
        a.stop()
        b.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1000, help="latency samples")
    ap.add_argument("--backlog", type=int, default=100_000, help="records in the sync backlog")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="detente-fed-bench-"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    lat = sorted(latency(workdir, args.records))
    p50 = statistics.median(lat) * 1000
    p99 = lat[min(len(lat) - 1, round(0.99 * len(lat)) - 1)] * 1000
    print(
        f"end-to-end latency (append at A -> verified, mirrored and cosigned by B), {len(lat)} records: "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {lat[-1] * 1000:.1f} ms  (target p99 < 250 ms)"
    )
    raw = ed25519_verify_rate()
    sodium = ed25519_verify_rate(libsodium=True)
    incl_start, after_start = backlog_sync(workdir, args.backlog)
    print(f"raw Ed25519 verification, one core: pyca/cryptography (OpenSSL) {raw:,.0f}/s, libsodium {sodium:,.0f}/s")
    print(
        f"sync of a {args.backlog:,}-record backlog with full verification: {incl_start:,.0f} records/s "
        f"including node start ({after_start:,.0f}/s after the process was up); "
        f"ratio to raw Ed25519 verify: {incl_start / raw:.2f} (OpenSSL), {incl_start / sodium:.2f} (libsodium)  "
        f"(target >= 5,000 records/s)"
    )


if __name__ == "__main__":
    main()
