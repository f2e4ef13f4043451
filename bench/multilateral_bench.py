"""N parties on loopback (issue #25): how one notice to all N-1 peers costs as N grows.

    .venv/bin/python bench/multilateral_bench.py                       # N = 2, 3, 5, 7, 10
    .venv/bin/python bench/multilateral_bench.py --parties 2 3 --notices 5 --svg ''

For each N: N real node processes (``python -m detente serve``, SQLite), each pinning and
witnessing every other. Party 0 sends ``--notices`` link tests, one at a time, each addressed to
all N-1 others. For each notice two times from the append call:

- *received*: every recipient's automatic receipt is in the recipient's log and mirrored back by
  the sender (the sender's inbox shows every recipient ``received``);
- *everywhere*: further, every recipient's log, at least up to its receipt, is mirrored by every
  other party and its checkpoint cosigned by all N-1 others (every receipt in every log, cosigned).

Then CPU seconds per node (user + system of each node process, from /proc) per 1,000 records
appended across all logs during the notices. Printed as a table with each figure's growth over the
first N, and drawn as an SVG chart (``--svg``; hand-written, no plotting library needed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from detente.node.localnet import LocalNode

TICKS = os.sysconf("SC_CLK_TCK")
DEADLINE = 600.0  # per notice: a loaded machine is slow, never wrong


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _until(what: str, check, start: float) -> float:  # type: ignore[no-untyped-def]
    while not check():
        if time.perf_counter() - start > DEADLINE:
            raise TimeoutError(f"{what} not within {DEADLINE:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - start


def _everywhere(nodes: list[LocalNode], sizes: dict[str, int]) -> bool:
    """Each log named in ``sizes``, up to that size, mirrored by every other node and cosigned by all."""
    status = {n.name: n.status() for n in nodes}
    for r in (n for n in nodes if n.name in sizes):
        s = status[r.name]
        if s["size"] < sizes[r.name] or not {o.origin for o in nodes if o is not r} <= set(s["cosigned_by"]):
            return False
        for q in nodes:
            if q is not r and not any(
                p["name"] == r.name and p["mirrored_size"] >= sizes[r.name] for p in status[q.name]["peers"]
            ):
                return False
    return True


def run(n: int, notices: int, folder: Path) -> dict[str, float]:
    nodes = [LocalNode(f"p{i}", f"p{i}.detente.example/log", folder / f"p{i}") for i in range(n)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda node: node.init(), nodes))
        list(pool.map(lambda a: [a.pin(b) for b in nodes if b is not a], nodes))  # each edits its own config
    for node in nodes:
        node.start(timeout=180)
    try:
        sender, others = nodes[0], nodes[1:]
        for node in nodes:  # one record each, and every log mirrored and cosigned before timing starts
            node.send("detente.dev/statement/v1", f"{node.name} joins")
        ready = {node.name: 1 for node in nodes}
        _until("the first mutual cosignatures", lambda: _everywhere(nodes, ready), time.perf_counter())
        before = {node.name: cpu_seconds(node.process.pid) for node in nodes}  # type: ignore[union-attr]
        sizes = sum(node.status()["size"] for node in nodes)
        received, everywhere = [], []
        for k in range(notices):
            start = time.perf_counter()
            sent = sender.send("detente.dev/link-test/v1", f"The quick brown fox {k:04d}",
                               to=[o.origin for o in others])  # fmt: skip
            want = {o.origin: "received" for o in others}

            def all_received(index: int = sent["index"], want: dict[str, str] = want) -> bool:
                return sender.thread(sender.origin, index).get("states") == want

            received.append(_until(f"N={n}: notice {k} received by all", all_received, start))
            with_receipt = {o.name: o.status()["size"] for o in others}  # each holds its receipt by now

            def in_every_log(sizes: dict[str, int] = with_receipt) -> bool:
                return _everywhere(nodes, sizes)

            everywhere.append(_until(f"N={n}: notice {k}'s receipts everywhere", in_every_log, start))
        appended = sum(node.status()["size"] for node in nodes) - sizes
        cpu = [cpu_seconds(node.process.pid) - before[node.name] for node in nodes]  # type: ignore[union-attr]
    finally:
        for node in nodes:
            node.stop()
    return {
        "received": statistics.median(received),
        "everywhere": statistics.median(everywhere),
        "everywhere_max": max(everywhere),
        "records": appended,
        "cpu_per_1k": statistics.mean(cpu) / max(appended, 1) * 1000,
    }


def svg(rows: list[tuple[int, dict[str, float]]], note: str) -> str:
    """Two small line charts side by side: median latency (both times) and CPU per node per 1k."""
    width, height, pad = 360, 240, 48
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * width}" height="{height + 30}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{2 * width}" height="{height + 30}" fill="white"/>',
        f'<text x="{width}" y="{height + 22}" text-anchor="middle" fill="#555">{note}</text>',
    ]
    ns = [n for n, _ in rows]
    panels = [
        ("median latency of one notice to all N-1 (s)", [("received", "#1f77b4"), ("everywhere", "#d62728")]),
        ("CPU seconds per node per 1,000 records", [("cpu_per_1k", "#2ca02c")]),
    ]
    for p, (title, series) in enumerate(panels):
        x0 = p * width
        top = max(max(r[key] for _, r in rows) for key, _ in series) * 1.1 or 1.0

        def px(n: float, x0: int = x0) -> float:
            span = max(ns) - min(ns) or 1
            return x0 + pad + (n - min(ns)) / span * (width - 2 * pad)

        def py(v: float, top: float = top) -> float:
            return height - pad + 10 - v / top * (height - 2 * pad)

        out.append(f'<text x="{x0 + width / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>')
        out.append(
            f'<line x1="{px(min(ns))}" y1="{py(0)}" x2="{px(max(ns))}" y2="{py(0)}" stroke="#999"/>'
            f'<line x1="{px(min(ns))}" y1="{py(0)}" x2="{px(min(ns))}" y2="{py(top)}" stroke="#999"/>'
        )
        for n in ns:
            out.append(f'<text x="{px(n)}" y="{py(0) + 18}" text-anchor="middle">N={n}</text>')
        for frac in (0.0, 0.5, 1.0):
            v = top / 1.1 * frac
            out.append(f'<text x="{px(min(ns)) - 4}" y="{py(v) + 4}" text-anchor="end">{v:.2f}</text>')
        for i, (key, colour) in enumerate(series):
            points = " ".join(f"{px(n):.1f},{py(r[key]):.1f}" for n, r in rows)
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
            out += [f'<circle cx="{px(n):.1f}" cy="{py(r[key]):.1f}" r="3" fill="{colour}"/>' for n, r in rows]
            if len(series) > 1:
                label = {"received": "all receipts at the sender", "everywhere": "in every log, cosigned"}[key]
                out.append(f'<text x="{x0 + pad + 8}" y="{38 + 14 * i}" fill="{colour}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parties", type=int, nargs="+", default=[2, 3, 5, 7, 10])
    ap.add_argument("--notices", type=int, default=20)
    ap.add_argument("--svg", default=str(Path(__file__).resolve().parents[1] / "docs" / "multilateral-bench.svg"),
                    help="where to write the chart ('' for none)")  # fmt: skip
    args = ap.parse_args()
    rows = []
    loads = []
    for n in args.parties:
        with tempfile.TemporaryDirectory() as tmp:
            loads.append(os.getloadavg()[0])
            rows.append((n, run(n, args.notices, Path(tmp))))
            loads.append(os.getloadavg()[0])
            r = rows[-1][1]
            print(f"N={n} done: received {r['received']:.3f} s, everywhere {r['everywhere']:.3f} s, "
                  f"CPU {r['cpu_per_1k']:.2f} s/node/1k", flush=True)  # fmt: skip
    base = rows[0][1]
    cores = os.cpu_count()
    note = (f"{args.notices} notices per N, {cores} cores, load average {min(loads):.1f} to {max(loads):.1f} "
            "during the runs")  # fmt: skip
    print(f"\none notice to all N-1 peers: {note}")
    print(f"{'N':>3} {'received s':>11} {'everywhere s':>13} {'max s':>7} {'vs first':>9} {'records':>8} "
          f"{'CPU s/node/1k':>14} {'vs first':>9}")  # fmt: skip
    for n, r in rows:
        print(f"{n:>3} {r['received']:11.3f} {r['everywhere']:13.3f} {r['everywhere_max']:7.3f} "
              f"{r['everywhere'] / base['everywhere']:8.2f}x {r['records']:>8.0f} "
              f"{r['cpu_per_1k']:14.2f} {r['cpu_per_1k'] / base['cpu_per_1k']:8.2f}x")  # fmt: skip
    if args.svg:
        Path(args.svg).write_text(svg(rows, f"bench/multilateral_bench.py: {note}"))
        print(f"chart: {args.svg}")


if __name__ == "__main__":
    main()
