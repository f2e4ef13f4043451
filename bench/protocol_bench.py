"""Benchmark the notification protocol (issue #4).

    .venv/bin/python bench/protocol_bench.py                 # 500 messages, 100,000 threads

1. Hotline latency: a flash hotline message submitted by an operator at node A (HTTP API) until
   node B's operator alert for it arrives (B's signed webhook, POSTed to a local HTTP server after
   B pulled, verified and receipted the record). Two real node processes on loopback, SQLite.
   p50 / p99 over N messages.
2. The rules engine alone: evaluating 100,000 open threads (routine hotline messages, half of
   them with receipts) against the default agreement, for one party. Median of 5 runs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from detente.node.localnet import LocalNode
from detente.protocol.agreement import default_agreement
from detente.protocol.threads import Logged, evaluate
from detente.records.record import Record
from detente.records.ref import RecordRef


class _Alerts:
    """A local webhook receiver: the time each arrival alert came in, by record index."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.cond = threading.Condition()
        outer = self

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                at = time.perf_counter()
                event = json.loads(base64.b64decode(json.loads(body)["payload"]))
                self.send_response(204)
                self.end_headers()
                if event["kind"] == "arrival":
                    with outer.cond:
                        outer.arrived[event["index"]] = at
                        outer.cond.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"

    def wait(self, index: int, timeout: float = 30.0) -> float:
        with self.cond:
            if not self.cond.wait_for(lambda: index in self.arrived, timeout):
                raise TimeoutError(f"no alert for record {index}")
            return self.arrived[index]


def hotline_latency(n: int) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix="detente-proto-bench-"))
    alerts = _Alerts()
    a = LocalNode("a", "a.bench.example/log", work / "a").init()
    b = LocalNode("b", "b.bench.example/log", work / "b").init()
    config = b.directory / "detente.toml"
    config.write_text(config.read_text().replace('webhook_url = ""', f'webhook_url = "{alerts.url}"'))
    a.pin(b)
    b.pin(a)
    a.start()
    b.start()
    client = httpx.Client(timeout=30)
    samples = []
    try:
        for i in range(n):
            payload = {
                "type": "detente.dev/hotline-message/v1",
                "to": [b.origin],
                "body": {"priority": "flash", "topic": "critical-infrastructure-early-warning"},
                "text": {"original": {"lang": "en", "text": f"early warning {i}"}},
            }
            t0 = time.perf_counter()
            index = client.post(
                f"{a.url}/api/v1/records", json=payload, headers={"Authorization": f"Bearer {a.token}"}
            ).json()["index"]
            samples.append(alerts.wait(index) - t0)
    finally:
        client.close()
        a.stop()
        b.stop()
        alerts.server.shutdown()
    return samples


def engine(threads: int) -> float:
    us, cn = "us.bench.example/log", "cn.bench.example/log"
    t0 = datetime(2026, 11, 26, tzinfo=UTC)
    items = []
    for i in range(threads):
        rec = Record(
            type="detente.dev/hotline-message/v1",
            party=us,
            issued=t0 + timedelta(seconds=i),
            to=(cn,),
            body={"priority": "routine", "topic": "urgent-concern"},
        )
        items.append(Logged(us, i, hashlib.sha256(b"%d" % i).hexdigest(), rec))
    for i in range(0, threads, 2):
        subject = items[i]
        rec = Record(
            type="detente.dev/receipt/v1",
            party=cn,
            issued=subject.record.issued + timedelta(seconds=30),
            to=(us,),
            body={"received_at": subject.record.issued.isoformat()},
            refs=(RecordRef(origin=us, index=i, leaf_hash=subject.leaf_hash, rel="receipt-of"),),
        )
        items.append(Logged(cn, i // 2, hashlib.sha256(b"r%d" % i).hexdigest(), rec))
    agreement = default_agreement(us, cn)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        result = evaluate(items, agreement, t0 + timedelta(days=1), us)
        runs.append(time.perf_counter() - start)
        assert len(result.threads) == threads
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--threads", type=int, default=100_000)
    args = ap.parse_args()
    seconds = engine(args.threads)
    print(f"rules engine: {args.threads:,} open threads evaluated in {seconds:.3f} s (median of 5; target < 1 s)")
    lat = sorted(hotline_latency(args.messages))
    p99 = lat[min(len(lat) - 1, round(0.99 * len(lat)) - 1)]
    print(
        f"hotline submit at A -> operator alert at B (signed webhook), {len(lat)} messages: "
        f"p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms (target p99 < 500 ms)"
    )


if __name__ == "__main__":
    main()
