"""N parties on loopback (issue #25): how one notice to all N-1 peers costs as N grows.

    .venv/bin/python bench/multilateral_bench.py                       # N = 2, 3, 5, 7, 10
    .venv/bin/python bench/multilateral_bench.py --parties 2 3 --notices 5

For each N: N real node processes (``python -m detente serve``, SQLite), each pinning and
witnessing every other. Party 0 sends ``--notices`` link tests, one at a time, each addressed to
all N-1 others; for each, the time from the append call until every recipient's automatic receipt
is in the recipient's log, mirrored by the sender and cosigned (the sender's inbox shows every
recipient ``received``). Then CPU seconds per node (user + system, from /proc) per 1,000 records
appended across all logs during the run. Printed as a table, with each figure's growth over N=2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from detente.node.localnet import LocalNode

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def run(n: int, notices: int, folder: Path) -> dict[str, float]:
    nodes = [LocalNode(f"p{i}", f"p{i}.detente.example/log", folder / f"p{i}").init() for i in range(n)]
    for a in nodes:
        for b in nodes:
            if a is not b:
                a.pin(b)
    for node in nodes:
        node.start(timeout=120)
    try:
        sender, others = nodes[0], nodes[1:]
        before = {node.name: cpu_seconds(node.process.pid) for node in nodes}  # type: ignore[union-attr]
        sizes = sum(node.status()["size"] for node in nodes)
        latencies = []
        for k in range(notices):
            start = time.perf_counter()
            sent = sender.send("detente.dev/link-test/v1", f"The quick brown fox {k:04d}",
                               to=[o.origin for o in others])  # fmt: skip
            want = {o.origin: "received" for o in others}
            deadline = start + 600
            while sender.thread(sender.origin, sent["index"]).get("states") != want:
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"N={n}: notice {k} not received by all within 600 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - start)
        appended = sum(node.status()["size"] for node in nodes) - sizes
        cpu = [cpu_seconds(node.process.pid) - before[node.name] for node in nodes]  # type: ignore[union-attr]
    finally:
        for node in nodes:
            node.stop()
    return {
        "p50": statistics.median(latencies),
        "max": max(latencies),
        "records": appended,
        "cpu_per_1k": statistics.mean(cpu) / max(appended, 1) * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parties", type=int, nargs="+", default=[2, 3, 5, 7, 10])
    ap.add_argument("--notices", type=int, default=20)
    args = ap.parse_args()
    rows = []
    for n in args.parties:
        with tempfile.TemporaryDirectory() as tmp:
            rows.append((n, run(n, args.notices, Path(tmp))))
            print(f"N={n} done", flush=True)
    base = rows[0][1]
    print(f"\none notice to all N-1 peers until every receipt is in, {args.notices} notices each, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'N':>3} {'p50 s':>8} {'max s':>8} {'vs first':>9} {'records':>8} {'CPU s/node/1k':>14} {'vs first':>9}")
    for n, r in rows:
        print(f"{n:>3} {r['p50']:8.3f} {r['max']:8.3f} {r['p50'] / base['p50']:8.2f}x {r['records']:>8.0f} "
              f"{r['cpu_per_1k']:14.2f} {r['cpu_per_1k'] / base['cpu_per_1k']:8.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
