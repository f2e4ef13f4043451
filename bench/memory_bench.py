"""How a node's memory grows with the records it mirrors (issue #26).

    .venv/bin/python bench/memory_bench.py                  # 20,000 mirrored records, in steps of 5,000
    .venv/bin/python bench/memory_bench.py --records 100000 --protocol-share 0.1

One node (in process, SQLite) pins a peer whose log is written here with the peer's own key and
mirrored into the node's store batch by batch, exactly as a sync does (``TileLog.extend`` with the
peer's signed checkpoint). Most records are statements (not read by the protocol engine); a share
are hotline messages addressed to the node (each a thread the engine evaluates). After each step
the node does what it does all day: indexes what arrived, runs a protocol tick, answers an inbox
page and a desk read. Printed per step: the process's resident memory now (VmRSS, after a GC),
its peak (VmHWM), the growth per 1,000 records mirrored in that step, and the time to index the step's records
(parse, check, store), a protocol tick and an inbox page.
Run it on an older commit (PYTHONPATH=<checkout>/src) to compare.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from detente.crypto.keys import Ed25519Identity
from detente.node.config import load_config
from detente.node.localnet import LocalNode, _run_cli
from detente.node.node import Node
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore


def _mem() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
    return rss / 1024, hwm / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--step", type=int, default=5_000)
    ap.add_argument("--protocol-share", type=float, default=0.1, help="share of records that are hotline messages")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="detente-mem-bench-"))
    peer_id = Ed25519Identity.generate("cn.bench.example/log")
    source = TileLog.create(SQLiteStore(work / "peer.db", create=True), peer_id)
    local = LocalNode("us", "us.bench.example/log", work / "us").init()
    _run_cli(["peer", "add", "cn", "http://127.0.0.1:9", "--vkey", str(peer_id.vkey()), "-n", str(local.directory)])
    config, base = load_config(local.directory)
    node = Node(config, base)
    me = node.signer.identity.name
    mirror = node.peering.mirror(node.peering.row("cn"))
    every = max(1, round(1 / args.protocol_share)) if args.protocol_share > 0 else 0
    now = datetime.now(UTC)
    gc.collect()
    last, _ = _mem()
    print(f"{'mirrored':>9} {'rss MB':>8} {'peak MB':>8} {'MB/1k':>7} {'index ms':>9} {'tick ms':>8} {'inbox ms':>9}")
    done = 0
    rows = []
    while done < args.records:
        n = min(args.step, args.records - done)
        for start in range(0, n, 1000):
            batch = []
            for i in range(done + start, done + min(start + 1000, n)):
                if every and i % every == 0:
                    rec = Record(type="detente.dev/hotline-message/v1", party=peer_id.name, issued=now, to=(me,),
                                 body={"priority": "routine", "topic": "urgent-concern"})  # fmt: skip
                else:
                    rec = Record(type="detente.dev/statement/v1", party=peer_id.name, issued=now,
                                 body={"n": i, "text": "x" * 400})  # fmt: skip
                batch.append(seal_record(rec, peer_id))
            result = source.append(batch)
            mirror.extend(batch, result.note)
        done += n
        t0 = time.perf_counter()
        node.records.catch_up()
        index = time.perf_counter() - t0
        t0 = time.perf_counter()
        node.protocol.run_protocol()
        tick = time.perf_counter() - t0
        t0 = time.perf_counter()
        node.protocol.inbox_page(limit=50)
        inbox = time.perf_counter() - t0
        node.media.keys()  # a desk read by type
        gc.collect()
        rss, hwm = _mem()
        growth = (rss - last) / (n / 1000)
        last = rss
        ms = {"index_ms": round(index * 1000, 1), "tick_ms": round(tick * 1000, 1), "inbox_ms": round(inbox * 1000, 1)}
        rows.append({"mirrored": done, "rss_mb": round(rss, 1), "peak_mb": round(hwm, 1),
                     "mb_per_1000": round(growth, 2), **ms})  # fmt: skip
        print(
            f"{done:>9,} {rss:>8.1f} {hwm:>8.1f} {growth:>7.2f} {ms['index_ms']:>9.1f} {ms['tick_ms']:>8.1f}"
            f" {ms['inbox_ms']:>9.1f}"
        )
    node.stop()
    print(json.dumps({"bench": "memory", "protocol_share": args.protocol_share, "steps": rows}))


if __name__ == "__main__":
    main()
