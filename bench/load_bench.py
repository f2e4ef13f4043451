"""A bounded load test on loopback (issue #11, "Load"): it stops by itself.

    .venv/bin/python bench/load_bench.py                          # 16 operators for 60 s, SQLite
    .venv/bin/python bench/load_bench.py --seconds 20 --operators 8 --pg postgresql://127.0.0.1:5432/test

Three real node processes (``python -m detente serve``): the parties ``us`` and ``cn``, each pinning
the other as peer and witness, and a neutral ``audit`` node that witnesses both and is pinned as a
witness by both (as in ``detente demo``). The nodes sync, receipt and witness in the background as
they always do.

Load: ``--operators`` threads, half at ``us`` and half at ``cn``, each with its own officer and
viewer token and its own HTTP client, run a random mix for ``--seconds``: statements and hotline
messages addressed to the other party (each append's index and leaf hash are kept), inbox reads,
incident searches, acknowledgements of the other party's hotline messages, and status reads.
Reported: throughput and p50/p99/max latency per kind of operation, and the peak RSS of each node
process (``VmHWM`` from ``/proc/<pid>/status``, with ``VmRSS`` sampled every 0.5 s).

Then it waits (bounded) until every node has mirrored the others' full logs and the checkpoints are
cosigned, and checks: every acknowledged append is at its index with its leaf hash in its own log
and in both other nodes' mirrors; the mirrors equal the logs; no index holds two appends and no
record is there twice (distinct leaf hashes == size, every operator nonce once); every record
addressed to the other party has exactly one automatic receipt there; every acknowledgement was
logged once; no node raised an alarm; and an outside audit (``run_audit``, the demo's policy) is
clean. Prints a table and one JSON line; exits 1 if anything was lost or duplicated, an operation
failed with an unexpected error, or the audit was not clean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from detente.node.auditor import run_audit
from detente.node.localnet import LocalNode, parties_policy
from detente.tlog.policy import parse_policy

RECEIPT = "detente.dev/receipt/v1"
ACK = "detente.dev/acknowledgement/v1"
HOTLINE = "detente.dev/hotline-message/v1"
STATEMENT = "detente.dev/statement/v1"
MIX = {"statement": 20, "hotline": 20, "ack": 15, "inbox": 10, "incidents": 15, "status": 20}
QUERIES = [{"q": "grid"}, {"q": "负荷"}, {"q": "forecast model"}, {"q": "model", "min_severity": "high"}]


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted samples (0 for none)."""
    if not samples:
        return 0.0
    return samples[min(len(samples) - 1, max(0, round(q * len(samples)) - 1))]


@dataclass
class Appended:
    kind: str
    index: int
    leaf_hash: str
    nonce: str | None = None


@dataclass
class Party:
    """One party's node and what its operators were told by it."""

    node: LocalNode
    peer: LocalNode | None = None
    appended: list[Appended] = field(default_factory=list)
    ack_pool: list[tuple[str, int]] = field(default_factory=list)  # the other party's hotline messages
    acked: list[tuple[int, str, int]] = field(default_factory=list)  # (subject index, ack leaf, ack index)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Tally:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    deferred: int = 0  # acks of a record not mirrored yet (404), retried later
    lock: threading.Lock = field(default_factory=threading.Lock)


def _incident(party: str, i: int) -> dict[str, Any]:
    when = (datetime.now(UTC) - timedelta(days=2 + i)).isoformat()
    return {
        "incident_id": f"{party}-load-{i:04d}",
        "category": "serious-ai-incident",
        "title": {
            "original": {"lang": "en", "text": f"Load-forecasting model under-predicted demand ({party} {i})"},
            "translations": {"zh-Hans": f"负荷预测模型低估需求（{party} {i}）"},
        },
        "description": {
            "original": {"lang": "en", "text": "A load forecast fed grid dispatch and under-predicted demand."}
        },
        "ai_relation": "the model's forecast drove automatic dispatch decisions",
        "submitter": f"{party} duty desk",
        "supporting_materials": [f"https://example.org/load/{party}/{i}"],
        "severity": ["low", "medium", "high"][i % 3],
        "harm_types": ["property-communities-environment"],
        "critical_infrastructure": False,
        "sectors": ["energy"],
        "occurred_at": when,
        "aware_at": when,
        "jurisdictions": ["EU"],
    }


def _token(node: LocalNode, role: str, label: str) -> str:
    resp = node.api("POST", "/api/v1/tokens", json={"role": role, "label": label})
    resp.raise_for_status()
    return str(resp.json()["token"])


def operator(i: int, me: Party, other: Party, deadline: float, tally: Tally, seed: int) -> None:
    rnd = random.Random(seed * 1000 + i)
    node = me.node
    officer = {"Authorization": f"Bearer {_token(node, 'officer', f'load-officer-{i}')}"}
    viewer = {"Authorization": f"Bearer {_token(node, 'viewer', f'load-viewer-{i}')}"}
    kinds, weights = list(MIX), list(MIX.values())
    latency: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    deferred = 0
    seq = 0
    with httpx.Client(base_url=node.url, timeout=120) as client:
        while time.monotonic() < deadline:
            kind = rnd.choices(kinds, weights)[0]
            claimed: tuple[str, int] | None = None
            if kind == "ack":
                with other.lock:
                    if other.ack_pool:
                        claimed = other.ack_pool.pop(rnd.randrange(len(other.ack_pool)))
                if claimed is None:
                    kind = "inbox"
            t0 = time.perf_counter()
            try:
                if kind in ("statement", "hotline"):
                    seq += 1
                    nonce = f"{node.name}-op{i}-{seq}"
                    payload: dict[str, Any] = {
                        "to": [other.node.origin],
                        "text": {"original": {"lang": "en", "text": f"load {nonce}: situation report"}},
                    }
                    if kind == "statement":
                        payload.update(type=STATEMENT, body={"nonce": nonce, "topic": "load-test"})
                    else:
                        priority = rnd.choice(["routine", "immediate", "flash"])
                        payload.update(type=HOTLINE, body={"priority": priority, "topic": "urgent-concern"})
                    resp = client.post("/api/v1/records", json=payload, headers=officer)
                    if resp.status_code == 201:
                        out = resp.json()
                        with me.lock:
                            me.appended.append(Appended(kind, out["index"], out["leaf_hash"], nonce))
                            if kind == "hotline":
                                me.ack_pool.append((node.origin, out["index"]))
                elif kind == "ack":
                    assert claimed is not None
                    origin, index = claimed
                    resp = client.post(
                        f"/api/v1/threads/{origin}/{index}/ack", json={"note": f"noted by op{i}"}, headers=officer
                    )
                    if resp.status_code == 201:
                        out = resp.json()
                        with me.lock:
                            me.appended.append(Appended("ack", out["index"], out["leaf_hash"]))
                            me.acked.append((index, out["leaf_hash"], out["index"]))
                    elif resp.status_code == 404:  # not mirrored here yet: put it back
                        deferred += 1
                        with other.lock:
                            other.ack_pool.append(claimed)
                        continue
                elif kind == "inbox":
                    resp = client.get("/api/v1/inbox", headers=viewer)
                elif kind == "incidents":
                    resp = client.get("/api/v1/incidents", params=rnd.choice(QUERIES), headers=viewer)
                else:
                    resp = client.get("/api/v1/status", headers=viewer)
            except httpx.HTTPError as exc:
                errors[f"{kind}: {type(exc).__name__}"] += 1
                continue
            if resp.status_code >= 300:
                errors[f"{kind}: HTTP {resp.status_code} {resp.text[:400]}"] += 1
                continue
            latency[kind].append(time.perf_counter() - t0)
    with tally.lock:
        for k, v in latency.items():
            tally.latency[k].extend(v)
        tally.errors.update(errors)
        tally.deferred += deferred


class Memory:
    """Sample VmRSS of each node process every 0.5 s; VmHWM (the kernel's peak) at the end."""

    def __init__(self, nodes: list[LocalNode]) -> None:
        self.nodes = nodes
        self.peak_rss: dict[str, int] = dict.fromkeys((n.name for n in nodes), 0)
        self.hwm: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def read(pid: int) -> dict[str, int]:
        out = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
        return out

    def _sample(self) -> None:
        for n in self.nodes:
            if n.process is not None and n.process.poll() is None:
                vm = self.read(n.process.pid)
                self.peak_rss[n.name] = max(self.peak_rss[n.name], vm.get("VmRSS", 0))
                self.hwm[n.name] = vm.get("VmHWM", 0)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._sample()

    def close(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            self._sample()


def fetch_log(node: LocalNode, origin: str, size: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with httpx.Client(base_url=node.url, timeout=120, headers={"Authorization": f"Bearer {node.token}"}) as client:
        while len(out) < size:
            resp = client.get("/api/v1/records", params={"origin": origin, "start": len(out), "limit": 1000})
            resp.raise_for_status()
            page = resp.json()
            if not page:
                break
            out.extend(page)
    return out


def settle(nodes: list[LocalNode], timeout: float) -> tuple[float, dict[str, dict[str, Any]]]:
    """Wait until every node mirrors every other node's full log, us's and cn's checkpoints are
    cosigned by both of their witnesses, and nothing moved for 1.5 s. Returns the time it took."""
    t0 = time.perf_counter()
    by_origin = {n.origin: n for n in nodes}
    last: tuple[int, ...] | None = None
    stable_since = 0.0
    while True:
        st = {n.name: n.status() for n in nodes}
        sizes = {n.origin: st[n.name]["size"] for n in nodes}
        mirrored = all(p["mirrored_size"] == sizes[p["origin"]] for s in st.values() for p in s["peers"])
        cosigned = all(
            {o for o in by_origin if o != st[n]["origin"]} <= set(st[n]["cosigned_by"]) for n in ("us", "cn")
        )
        key = tuple(sizes.values())
        now = time.perf_counter()
        if mirrored and cosigned and key == last:
            if now - stable_since >= 1.5:
                return now - t0, st
        else:
            stable_since = now
        last = key if mirrored and cosigned else None
        if now - t0 > timeout:
            raise TimeoutError(f"nodes did not settle within {timeout:.0f} s: {json.dumps(st)[:2000]}")
        time.sleep(0.25)


def verify(parties: dict[str, Party], auditor: LocalNode, status: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every check of the end state; each failure is a line in ``problems``."""
    problems: list[str] = []
    nodes = [p.node for p in parties.values()] + [auditor]
    logs: dict[str, list[dict[str, Any]]] = {}
    figures: dict[str, Any] = {}
    for name, party in parties.items():
        me = party.node
        size = status[name]["size"]
        own = fetch_log(me, me.origin, size)
        logs[name] = own
        if [r["index"] for r in own] != list(range(size)):
            problems.append(f"{name}: own log indexes are not exactly 0..{size - 1}")
        hashes = [r["leaf_hash"] for r in own]
        if len(set(hashes)) != size:
            problems.append(f"{name}: {size - len(set(hashes))} records appear twice (same leaf hash)")
        for holder in (n for n in nodes if n is not me):
            mirror = fetch_log(holder, me.origin, size)
            if [(r["index"], r["leaf_hash"]) for r in mirror] != [(r["index"], r["leaf_hash"]) for r in own]:
                problems.append(f"{holder.name}'s mirror of {name} differs from {name}'s own log")
        at = {r["index"]: r["leaf_hash"] for r in own}
        lost = [a for a in party.appended if at.get(a.index) != a.leaf_hash]
        if lost:
            problems.append(f"{name}: {len(lost)} acknowledged appends lost or changed, e.g. {lost[:3]}")
        by_index = Counter(a.index for a in party.appended)
        twice = {i: c for i, c in by_index.items() if c > 1}
        if twice:
            problems.append(f"{name}: {len(twice)} indexes were returned to two appends, e.g. {list(twice)[:5]}")
        nonces = Counter(
            r["record"]["text"]["original"]["text"].split()[1].rstrip(":")
            for r in own
            if r["record"]["type"] in (STATEMENT, HOTLINE) and r["record"].get("text")
        )
        dup_nonces = {k: v for k, v in nonces.items() if v > 1}
        if dup_nonces:
            problems.append(f"{name}: {len(dup_nonces)} operator records logged more than once")
        sent = {a.nonce for a in party.appended if a.nonce}
        figures[name] = {
            "size": size,
            "distinct_leaves": len(set(hashes)),
            "operator_appends_acknowledged": len(party.appended),
            "unacknowledged_appends_found_in_log": len(set(nonces) - sent),
            "types": dict(Counter(r["record"]["type"].split("/")[1] for r in own)),
        }
    # receipts: one per record addressed to the other party, referencing its exact leaf
    for name, party in parties.items():
        other = next(n for n in parties if n != name)
        me, them = party.node, parties[other].node
        addressed = {
            r["index"]: r["leaf_hash"]
            for r in logs[name]
            if them.origin in r["record"].get("to", []) and r["record"]["type"] != RECEIPT
        }
        receipts: Counter[int] = Counter()
        wrong_leaf = 0
        acks: Counter[int] = Counter()
        for r in logs[other]:
            for ref in r["record"].get("refs", []):
                if ref["origin"] != me.origin:
                    continue
                if r["record"]["type"] == RECEIPT and ref["rel"] == "receipt-of":
                    receipts[ref["index"]] += 1
                    wrong_leaf += addressed.get(ref["index"]) != ref["leaf_hash"]
                elif r["record"]["type"] == ACK:
                    acks[ref["index"]] += 1
        missing = [i for i in addressed if receipts[i] == 0]
        duplicated = {i: c for i, c in receipts.items() if c > 1}
        if missing:
            problems.append(f"{other}: no receipt for {len(missing)} of {name}'s addressed records, e.g. {missing[:5]}")
        if duplicated:
            problems.append(
                f"{other}: {sum(c - 1 for c in duplicated.values())} duplicate receipts for {len(duplicated)} of "
                f"{name}'s records, e.g. {list(duplicated.items())[:5]}"
            )
        if wrong_leaf:
            problems.append(f"{other}: {wrong_leaf} receipts name a leaf hash that is not the record's")
        made = Counter(i for i, _, _ in parties[other].acked)
        if acks != made:
            problems.append(f"{other}: acknowledgements logged {sum(acks.values())} != made {sum(made.values())}")
        figures[name]["addressed_to_" + other] = len(addressed)
        figures[name]["receipts_from_" + other] = sum(receipts.values())
        figures[name]["duplicate_receipts"] = sum(c - 1 for c in duplicated.values())
        figures[name]["acks_by_" + other] = sum(acks.values())
    alarms = {}
    for n in nodes:
        resp = n.api("GET", "/api/v1/alarms")
        resp.raise_for_status()
        alarms[n.name] = max(len(resp.json()), status[n.name]["alarms"])
        if alarms[n.name]:
            problems.append(f"{n.name}: {alarms[n.name]} alarms")
    us, cn = parties["us"].node, parties["cn"].node
    t0 = time.perf_counter()
    audit = run_audit(parse_policy(parties_policy(us, cn, auditor)), None)
    audit_s = time.perf_counter() - t0
    if not audit.clean:
        problems.append("audit not clean: " + "; ".join(audit.problems + [p for a in audit.logs for p in a.problems]))
    return {
        "logs": figures,
        "alarms": alarms,
        "audit": {"clean": audit.clean, "references": audit.references, "seconds": round(audit_s, 2)},
        "problems": problems,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the load runs")
    ap.add_argument("--operators", type=int, default=16, help="operator threads, split between us and cn")
    ap.add_argument("--settle-timeout", type=float, default=300.0, help="longest wait for the mirrors to catch up")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--pg", metavar="URL", help="run the nodes on PostgreSQL (schemas dropped afterwards)")
    ap.add_argument("--keep", action="store_true", help="keep the nodes' folders")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="detente-load-bench-"))
    tag = uuid.uuid4().hex[:8]
    schemas = [f"load_{tag}_{name}" for name in ("us", "cn", "audit")]

    def store(i: int) -> str:
        return f"{args.pg}#{schemas[i]}" if args.pg else "detente.db"

    us = LocalNode("us", "us.detente.example/log", work / "us", store=store(0))
    cn = LocalNode("cn", "cn.detente.example/log", work / "cn", store=store(1))
    auditor = LocalNode("audit", "audit.detente.example/log", work / "audit", store=store(2))
    nodes = [us, cn, auditor]
    parties = {"us": Party(us), "cn": Party(cn)}
    driver = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} at start, "
        f"Python {platform.python_version()}; store: {driver}"
    )
    rc = 1
    memory: Memory | None = None
    try:
        for n in nodes:
            n.init()
        us.pin(cn)
        cn.pin(us)
        auditor.pin(us)
        auditor.pin(cn)
        us.pin(auditor)
        cn.pin(auditor)
        for n in nodes:
            n.start()
        for name, party in parties.items():
            for i in range(4):  # something for the incident searches to find
                resp = party.node.api("POST", "/api/v1/incidents", json={"report": _incident(name, i)})
                if resp.status_code != 201:
                    raise RuntimeError(f"{name} refused a seed incident: {resp.text[:500]}")
                out = resp.json()
                party.appended.append(Appended("incident", out["index"], out["leaf_hash"]))
        memory = Memory(nodes)
        tally = Tally()
        deadline = time.monotonic() + args.seconds
        threads = []
        for i in range(args.operators):
            me, other = (parties["us"], parties["cn"]) if i % 2 == 0 else (parties["cn"], parties["us"])
            t = threading.Thread(target=operator, args=(i, me, other, deadline, tally, args.seed), daemon=True)
            threads.append(t)
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        load_after = os.getloadavg()[0]
        settle_s, status = settle(nodes, args.settle_timeout)
        memory.close()
        result = verify(parties, auditor, status)

        total_ops = sum(len(v) for v in tally.latency.values())
        print(
            f"\n{args.operators} operators for {elapsed:.1f} s ({driver}); "
            f"{total_ops:,} operations, {total_ops / elapsed:,.1f} ops/s"
        )
        print(f"{'operation':<12}{'count':>8}{'per s':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
        ops: dict[str, Any] = {}
        for kind in MIX:
            lat = sorted(tally.latency.get(kind, []))
            ops[kind] = {
                "count": len(lat),
                "per_s": round(len(lat) / elapsed, 2),
                "p50_ms": round(pct(lat, 0.5) * 1000, 1),
                "p99_ms": round(pct(lat, 0.99) * 1000, 1),
                "max_ms": round((lat[-1] if lat else 0) * 1000, 1),
            }
            o = ops[kind]
            print(
                f"{kind:<12}{o['count']:>8,}{o['per_s']:>9.1f}{o['p50_ms']:>10.1f}{o['p99_ms']:>10.1f}{o['max_ms']:>10.1f}"
            )
        if tally.deferred:
            print(f"acks deferred (record not mirrored yet, 404, retried later): {tally.deferred}")
        for err, count in tally.errors.most_common():
            print(f"ERROR x{count}: {err}")
        print(f"mirrors caught up and cosigned {settle_s:.1f} s after the load stopped")
        mem = {
            n.name: {
                "peak_rss_mb": round(memory.peak_rss[n.name] / 2**20, 1),
                "vmhwm_mb": round(memory.hwm[n.name] / 2**20, 1),
            }
            for n in nodes
        }
        print("node memory: " + ", ".join(f"{k} peak RSS {v['vmhwm_mb']} MB" for k, v in mem.items()))
        for name, fig in result["logs"].items():
            other = "cn" if name == "us" else "us"
            print(
                f"{name}: log size {fig['size']:,} (distinct leaves {fig['distinct_leaves']:,}), "
                f"{fig['operator_appends_acknowledged']:,} appends acknowledged, all at their index in {name} and in "
                f"both mirrors; {fig[f'addressed_to_{other}']:,} addressed to {other}, "
                f"{fig[f'receipts_from_{other}']:,} receipts from {other} "
                f"({fig['duplicate_receipts']} duplicates), {fig[f'acks_by_{other}']:,} acks by {other}"
            )
        print(
            f"alarms: {result['alarms']}; audit clean: {result['audit']['clean']} "
            f"({result['audit']['references']:,} cross-log references, {result['audit']['seconds']} s)"
        )
        problems = result["problems"] + [f"operation error x{c}: {e}" for e, c in tally.errors.items()]
        for p in problems:
            print(f"PROBLEM: {p}")
        print("RESULT: " + ("ok, nothing lost or duplicated" if not problems else f"FAILED ({len(problems)} problems)"))
        print(
            json.dumps(
                {
                    "bench": "load",
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "store": driver,
                    "cpus": os.cpu_count(),
                    "load_average_after": round(load_after, 2),
                    "operators": args.operators,
                    "seconds": round(elapsed, 1),
                    "ops_per_s": round(total_ops / elapsed, 1),
                    "ops": ops,
                    "acks_deferred": tally.deferred,
                    "errors": dict(tally.errors),
                    "settle_s": round(settle_s, 1),
                    "memory": mem,
                    **result,
                    "problems": problems,
                    "ok": not problems,
                },
                ensure_ascii=False,
            )
        )
        rc = 0 if not problems else 1
    finally:
        if memory is not None:
            memory.close()
        for n in nodes:
            n.stop()
        if args.pg:
            import psycopg

            with psycopg.connect(args.pg, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"nodes kept in {work}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
