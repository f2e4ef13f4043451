"""How a node's memory and its protocol tick grow with the records it mirrors (issue #26).

    .venv/bin/python bench/memory_bench.py                  # 20,000 mirrored records, in steps of 5,000
    .venv/bin/python bench/memory_bench.py --records 1000000 --step 100000 --peers 2   # issue #26's figures

One node (in process, SQLite) pins ``--peers`` peers whose logs are written here with each peer's
own key and mirrored into the node's store batch by batch (1,000 records, each peer in turn),
exactly as a sync does (``TileLog.extend`` with the peer's signed checkpoint); a witness cosigns
each mirrored checkpoint (its time row kept as a sync keeps it), so records get witnessed time as
in a deployment. Most records are statements (not read by the protocol engine); a share are
hotline messages addressed to the node (each a thread the engine evaluates; nobody answers them,
so every thread stays open). After each step the node does what it does all day: indexes what
arrived, runs a protocol tick (the first one folds the step's new threads in), then ``--ticks``
more ticks, inbox pages, ``/api/v1/status`` and the console's first paint (``whoami``,
``status`` and the inbox's first page, over the API in process).
Printed per step: resident memory now (VmRSS, after a GC), its peak (VmHWM), the growth per
1,000 records, the time to index the step, the first tick and the records it examined, then the
p95 of the repeated tick, inbox page, status and first paint, and the records a steady tick examines.
Then the views that read records for one request (``--view-reps`` times each, p50/p95 and the
record rows the store's reads returned, counted the same way on any commit): the export-control
disclosures (a first page of 50) and the previous quarter's report figures. With ``--spread-days``
the statements are issued over that many days before now (a quarter holds its share of them; the
hotline messages stay at now), and one hotline message in ``--violation-every`` is an
inadvertent-violation disclosure.
``--stop-after`` ends the run early with the times still spread over ``--records`` (so that the
first steps fill one quarter, as the first steps of a long run do).
Run it on an older commit (PYTHONPATH=<checkout>/src) to compare.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tomli_w
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.crypto.keys import Ed25519Identity
from detente.node.config import load_config
from detente.node.localnet import LocalNode, _run_cli
from detente.node.node import Node
from detente.node.tilelog import TileLog
from detente.node.tokens import issue_token
from detente.protocol.agreement import default_agreement
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.node_protocol import TimeRow
from detente.store.sqlite import SQLiteStore

WITNESS = "witness.bench.example"


def _mem() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return rss / 1024, hwm / 1024


SAMPLES: dict[str, list[float]] = {}

_READS = (
    "records",
    "records_issued",
    "records_by_time",
    "referrers",
    "threads",
    "threads_about",
    "due_threads",
    "quarantined",
)


def _count_reads(state: object) -> list[int]:
    """Count the record rows the node store's reads return (a bench-side tally, the same on any
    commit: an older store has no ``rows_read``)."""
    tally = [0]
    for name in _READS:
        method = getattr(state, name, None)
        if method is None:
            continue

        def counted(*a: object, _m: Callable[..., object] = method, **kw: object) -> object:
            out = _m(*a, **kw)
            rows = out[1] if isinstance(out, tuple) else out
            tally[0] += len(rows) if isinstance(rows, list) else 0
            return out

        setattr(state, name, counted)
    return tally


def _view(run: Callable[[], object], n: int, tally: list[int], what: str) -> tuple[float, float, int]:
    """p50 and p95 (ms) of ``n`` calls of a view, and the record rows the last call read."""
    times = []
    for _ in range(n):
        before = tally[0]
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
        read = tally[0] - before
    SAMPLES[what] = [round(t, 1) for t in times]
    p95 = statistics.quantiles(times, n=20)[-1] if n >= 2 else times[0]
    return statistics.median(times), p95, read


def _p95(run: Callable[[], object], n: int, what: str = "") -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    SAMPLES[what] = [round(t, 1) for t in times]
    return statistics.quantiles(times, n=20)[-1] if n >= 2 else times[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--step", type=int, default=5_000)
    ap.add_argument("--protocol-share", type=float, default=0.1, help="share of records that are hotline messages")
    ap.add_argument("--ticks", type=int, default=10, help="repetitions for each p95")
    ap.add_argument("--no-witness", action="store_true", help="no witness cosigns the mirror (all time provisional)")
    ap.add_argument("--receipt-hours", type=float, default=48.0, help="the agreement's receipt window (0: default)")
    ap.add_argument("--samples", action="store_true", help="every timing of each step on stderr")
    ap.add_argument("--peers", type=int, default=1, help="peers whose logs are mirrored (1,000-record batches in turn)")
    ap.add_argument("--view-reps", type=int, default=5, help="repetitions of each record-reading view")
    ap.add_argument("--spread-days", type=float, default=0, help="statements issued over this many days before now")
    ap.add_argument("--violation-every", type=int, default=100, help="one hotline message in N is a disclosure")
    ap.add_argument(
        "--stop-after", type=int, default=0, help="stop once this many are mirrored (times still spread over --records)"
    )
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="detente-mem-bench-"))
    local = LocalNode("us", "us.bench.example/log", work / "us").init()
    peers = []
    for k in range(args.peers):
        name = f"p{k}"
        peer_id = Ed25519Identity.generate(f"{name}.bench.example/log")
        source = TileLog.create(SQLiteStore(work / f"{name}.db", create=True), peer_id)
        _run_cli(["peer", "add", name, "http://127.0.0.1:9", "--vkey", str(peer_id.vkey()), "-n", str(local.directory)])
        peers.append((name, peer_id, source))
    if args.receipt_hours:  # deadlines that outlast the run: the figures are of the steady state
        agreement = default_agreement(local.origin).model_copy(
            update={"receipt_within": timedelta(hours=args.receipt_hours)}
        )
        (local.directory / "agreement.json").write_text(agreement.model_dump_json())
        path = local.directory / "detente.toml"
        path.write_text(tomli_w.dumps({**tomllib.loads(path.read_text()), "agreement": "agreement.json"}))
    config, base = load_config(local.directory)
    node = Node(config, base)
    token = issue_token(node.state, "admin", "bench", int(time.time()))
    api = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})  # no lifespan: no loops
    me = node.signer.identity.name
    tally = _count_reads(node.state)
    mirrors = [(peer_id, source, node.peering.mirror(node.peering.row(name))) for name, peer_id, source in peers]
    every = max(1, round(1 / args.protocol_share)) if args.protocol_share > 0 else 0
    now = datetime.now(UTC)
    q = (now.month - 1) // 3  # the previous quarter's name: its report is a view measured
    previous = f"{now.year}Q{q}" if q else f"{now.year - 1}Q4"
    gc.collect()
    last, _ = _mem()
    head = ("mirrored", "rss MB", "peak MB", "MB/1k", "index ms", "fold ms", "fold rec", "tick p95", "tick rec",
            "inbox p95", "status p95", "paint p95", "discl p50", "discl p95", "discl rec", "report p50",
            "report p95", "report rec")  # fmt: skip
    print(" ".join(f"{h:>10}" for h in head))
    done = 0
    rows = []

    def paint() -> None:
        for path in ("/api/v1/whoami", "/api/v1/status", "/api/v1/inbox?limit=50"):
            api.get(path).raise_for_status()

    while done < (args.stop_after or args.records):
        n = min(args.step, args.records - done)
        for start in range(0, n, 1000):
            peer_id, source, mirror = mirrors[(done + start) // 1000 % len(mirrors)]  # batches in turn
            batch = []
            for i in range(done + start, done + min(start + 1000, n)):
                if every and i % every == 0:
                    violation = args.violation_every and i // every % args.violation_every == 0
                    topic = "inadvertent-export-control-violation" if violation else "urgent-concern"
                    rec = Record(type="detente.dev/hotline-message/v1", party=peer_id.name, issued=now, to=(me,),
                                 body={"priority": "routine", "topic": topic})  # fmt: skip
                else:
                    back = timedelta(days=args.spread_days * (1 - i / args.records))  # older first, in log order
                    rec = Record(type="detente.dev/statement/v1", party=peer_id.name, issued=now - back,
                                 body={"n": i, "text": "x" * 400})  # fmt: skip
                batch.append(seal_record(rec, peer_id))
            result = source.append(batch)
            mirror.extend(batch, result.note)
            if not args.no_witness:
                node.state.add_times([TimeRow(mirror.origin, mirror.size, WITNESS, "cosigned", int(time.time()))])
        done += n
        t0 = time.perf_counter()
        node.records.catch_up()
        index = time.perf_counter() - t0
        t0 = time.perf_counter()
        node.protocol.run_protocol()
        fold = time.perf_counter() - t0
        fold_examined = node.protocol.examined
        tick = _p95(node.protocol.run_protocol, args.ticks, "tick")
        examined = node.protocol.examined
        inbox = _p95(lambda: api.get("/api/v1/inbox?limit=50").raise_for_status(), args.ticks, "inbox")
        status = _p95(lambda: api.get("/api/v1/status").raise_for_status(), args.ticks, "status")
        first_paint = _p95(paint, args.ticks, "paint")
        disclosures = _view(
            lambda: api.get("/api/v1/exportctl/disclosures?limit=50").raise_for_status(), args.view_reps, tally,
            "disclosures",
        )  # fmt: skip
        report = _view(
            lambda: api.get(f"/api/v1/reports/quarterly/{previous}").raise_for_status(), args.view_reps, tally, "report"
        )
        node.media.keys()  # a desk read by type
        gc.collect()
        rss, hwm = _mem()
        growth = (rss - last) / (n / 1000)
        last = rss
        row = {"mirrored": done, "rss_mb": round(rss, 1), "peak_mb": round(hwm, 1), "mb_per_1000": round(growth, 2),
               "index_ms": round(index * 1000, 1), "fold_ms": round(fold * 1000, 1), "fold_examined": fold_examined,
               "tick_p95_ms": round(tick, 1), "tick_examined": examined, "inbox_p95_ms": round(inbox, 1),
               "status_p95_ms": round(status, 1), "first_paint_p95_ms": round(first_paint, 1),
               "disclosures_p50_ms": round(disclosures[0], 1), "disclosures_p95_ms": round(disclosures[1], 1),
               "disclosures_examined": disclosures[2], "report_p50_ms": round(report[0], 1),
               "report_p95_ms": round(report[1], 1), "report_examined": report[2]}  # fmt: skip
        rows.append(row)
        print(" ".join(f"{v:>10,}" if isinstance(v, int) else f"{v:>10.1f}" for v in row.values()), flush=True)
        if args.samples:
            print(json.dumps(SAMPLES), file=sys.stderr, flush=True)
    node.stop()
    print(json.dumps({"bench": "memory", "protocol_share": args.protocol_share, "peers": args.peers,
                      "spread_days": args.spread_days, "report": previous, "steps": rows}))  # fmt: skip


if __name__ == "__main__":
    main()
