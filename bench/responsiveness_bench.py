"""Latency of ``/healthz`` and ``/api/v1/inbox`` on a real node process (SQLite) while the
heaviest requests run (issue #21): label checks of a large text, the quarterly PDF and the STIX
export, each in a loop on its own client thread. The same probes are first measured on the idle
node; the figures printed are p50, p95 and p99 of each, and the ratio of busy to idle p99, and
the node process's CPU time per idle answer (from /proc: unlike latency, other work on the
machine barely moves it). The heavy requests' answers are counted by status and problem code:
the loops share one token, so most are refused 429 by the rate limits and sent again at once (a
flood of refusals), unless ``--polite``, where a refused client waits its ``Retry-After``.

    .venv/bin/python bench/responsiveness_bench.py --samples 300 --text-mib 8 [--polite]

``--in-process N`` measures one inbox answer on its own instead: once the threads are in, the node
is stopped and opened in this process, and ``N`` answers of the whole inbox are timed (CPU time of
this process, and wall time) with no HTTP, no other load, and the node's background loops off.

    .venv/bin/python bench/responsiveness_bench.py --in-process 400 [--profile]

``--refusals N`` measures what a refusal costs the node instead: ``N`` requests from one address
past its rate limit (no token: the few its bucket lets through are answered 401), without a body
and with a ``--text-mib`` upload, against ``N`` ``/healthz``; the node's CPU time per request.

    .venv/bin/python bench/responsiveness_bench.py --refusals 2000 --text-mib 8
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from detente.node.localnet import LocalNode

HOTLINE = "detente.dev/hotline-message/v1"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe(client: httpx.Client, url: str, headers: dict[str, str], samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        start = time.perf_counter()
        client.get(url, headers=headers).raise_for_status()
        out.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    return out


def load(node: LocalNode, stop: threading.Event, text: bytes, polite: bool = False) -> list[Callable[[], None]]:
    """The heavy requests, each looped on its own thread until ``stop``; their answers counted.
    ``polite``: a refused request (429, 503) waits its ``Retry-After`` before the next, as a client
    that honours it would; by default the next is sent at once (a flood of refusals)."""
    counts: dict[str, int] = {}
    lock = threading.Lock()

    def loop(name: str, call: Callable[[httpx.Client], httpx.Response]) -> Callable[[], None]:
        def run() -> None:
            with httpx.Client(timeout=900, headers={"Authorization": f"Bearer {node.token}"}) as client:
                while not stop.is_set():
                    try:
                        answer = call(client)
                        outcome = str(answer.status_code)
                        if answer.status_code >= 400:
                            outcome += " " + str(answer.json().get("code"))
                            if polite:
                                stop.wait(float(answer.headers.get("retry-after") or 1))
                    except httpx.HTTPError as exc:  # a refusal whose connection closed mid-upload
                        outcome = type(exc).__name__
                    with lock:
                        counts[f"{name} {outcome}"] = counts.get(f"{name} {outcome}", 0) + 1

        return run

    base = node.url
    runs = [
        loop(
            "label checks",
            lambda c: c.post(f"{base}/api/v1/labels/check", content=text, headers={"Content-Type": "text/plain"}),
        ),
        loop("pdf reports", lambda c: c.get(f"{base}/api/v1/reports/quarterly/2026Q4.pdf")),
        loop("stix exports", lambda c: c.get(f"{base}/api/v1/incidents/stix")),
    ]
    load.counts = counts  # type: ignore[attr-defined]
    return runs


def in_process(node: LocalNode, answers: int, profile: bool) -> None:
    """``answers`` inbox answers of the stopped ``node``, opened here, each timed: its CPU time and
    wall time, as the route makes it (the page, the sealed-record notes, and the JSON)."""
    from pydantic import TypeAdapter

    from detente.node.config import load_config
    from detente.node.node import Node

    node.stop()
    config, base = load_config(node.directory)
    opened = Node(config, base)
    route = TypeAdapter(list[dict[str, object]])  # the route's answer: validated, then dumped as FastAPI does
    try:

        def answer() -> int:
            page = opened.sealing.annotate(opened.protocol.inbox_page()[1])
            route.dump_json(route.validate_python(page))
            return len(page)

        threads = answer()  # the first answer parses every record: not what an idle inbox pays
        gc.freeze()  # as `detente serve` does after startup
        cpu, wall = [], []
        profiler = cProfile.Profile() if profile else None
        for _ in range(answers):
            start, start_cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            answer()
            if profiler is not None:
                profiler.disable()
            cpu.append((time.process_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)
        print(f"in process: {answers} inbox answers of {threads} threads; load average {os.getloadavg()[0]:.1f}")
        print(f"{'':<6}{'mean ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
        for name, values in (("cpu", cpu), ("wall", wall)):
            print(
                f"{name:<6}{statistics.fmean(values):>9.2f}{statistics.median(values):>9.2f}"
                f"{percentile(values, 0.95):>9.2f}{percentile(values, 0.99):>9.2f}"
            )
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    finally:
        opened.stop()


def refusals(node: LocalNode, count: int, text: bytes) -> None:
    """The node's CPU time per request: ``/healthz``, a refused request without a body (the STIX
    export) and a refused upload (a label check), ``count`` of each, one after another."""
    assert node.process is not None
    cases: list[tuple[str, Callable[[httpx.Client], httpx.Response]]] = [
        ("/healthz", lambda c: c.get(f"{node.url}/healthz")),
        ("refused, no body", lambda c: c.get(f"{node.url}/api/v1/incidents/stix")),
        (
            f"refused, {len(text) / 2**20:.1f} MiB upload",
            lambda c: c.post(f"{node.url}/api/v1/labels/check", content=text, headers={"Content-Type": "text/plain"}),
        ),
    ]
    with httpx.Client(timeout=120) as client:
        while client.get(f"{node.url}/api/v1/incidents/stix").status_code != 429:
            pass  # the address's bucket emptied (each request let through is refused 401: no token)
        print(f"node CPU per request, {count} of each, one client; load average {os.getloadavg()[0]:.1f}")
        for name, call in cases:
            statuses: dict[int, int] = {}
            before, start = cpu_seconds(node.process.pid), time.perf_counter()
            for _ in range(count):
                status = call(client).status_code
                statuses[status] = statuses.get(status, 0) + 1
            cpu = (cpu_seconds(node.process.pid) - before) * 1e6 / count
            wall = (time.perf_counter() - start) * 1e6 / count
            answered = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items()))
            print(f"  {name:<28} {cpu:>8.0f} us CPU {wall:>8.0f} us wall  ({answered})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400, help="probes of each endpoint, idle and busy")
    parser.add_argument("--text-mib", type=int, default=8, help="size of each label check's text")
    parser.add_argument("--threads", type=int, default=200, help="inbox threads to serve (records from a peer)")
    parser.add_argument("--polite", action="store_true", help="the heavy clients wait Retry-After when refused")
    parser.add_argument("--in-process", type=int, default=0, metavar="N", help="time N inbox answers in process only")
    parser.add_argument("--profile", action="store_true", help="with --in-process: cProfile the answers")
    parser.add_argument("--refusals", type=int, default=0, metavar="N", help="time N refused requests only")
    args = parser.parse_args()
    text = ("x" * 100 + "非AI生成 " * (args.text_mib * 1024 * 1024 // 8)).encode()
    with tempfile.TemporaryDirectory() as folder:
        us = LocalNode("us", "us.bench.example/log", Path(folder) / "us").init()
        cn = LocalNode("cn", "cn.bench.example/log", Path(folder) / "cn").init()
        try:
            us.pin(cn)
            cn.pin(us)
            us.start()
            cn.start()
            if args.refusals:
                refusals(us, args.refusals, text)
                return
            for i in range(args.threads):
                cn.send(
                    HOTLINE,
                    f"routine contact check {i}",
                    body={"priority": "routine", "topic": "crisis"},
                    to=[us.origin],
                )
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and len(us.api("GET", "/api/v1/inbox").json()) < args.threads:
                time.sleep(0.5)
            if args.in_process:
                in_process(us, args.in_process, args.profile)
                return
            headers = {"Authorization": f"Bearer {us.token}"}
            figures = {}
            cpu = {}
            assert us.process is not None
            with httpx.Client(timeout=120) as client:
                for name, path in (("healthz", "/healthz"), ("inbox", "/api/v1/inbox")):
                    before = cpu_seconds(us.process.pid)
                    figures[(name, "idle")] = probe(client, f"{us.url}{path}", headers, args.samples)
                    cpu[name] = (cpu_seconds(us.process.pid) - before) * 1000 / args.samples
                stop = threading.Event()
                workers = [threading.Thread(target=run) for run in load(us, stop, text, args.polite)]
                for worker in workers:
                    worker.start()
                time.sleep(2)  # let every heavy request start
                for name, path in (("healthz", "/healthz"), ("inbox", "/api/v1/inbox")):
                    figures[(name, "busy")] = probe(client, f"{us.url}{path}", headers, args.samples)
                stop.set()
                for worker in workers:
                    worker.join()
            print(
                f"node: SQLite, {args.threads} inbox threads; heavy load: {args.text_mib} MiB label checks, "
                f"quarterly PDF, STIX export, each looped on its own client"
                f"{' (waiting Retry-After when refused)' if args.polite else ''}; load average {os.getloadavg()[0]:.1f}"
            )
            print("heavy requests answered while probing (by status and problem code):")
            for key, count in sorted(load.counts.items()):  # type: ignore[attr-defined]
                print(f"  {key}: {count:,}")
            print(f"{'endpoint':<10}{'state':<7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
            for (name, state), values in figures.items():
                print(
                    f"{name:<10}{state:<7}{statistics.median(values):>9.1f}{percentile(values, 0.95):>9.1f}"
                    f"{percentile(values, 0.99):>9.1f}{max(values):>9.1f}"
                )
            print(
                "node CPU per idle answer (its background loops included): "
                + ", ".join(f"{name} {ms:.1f} ms" for name, ms in cpu.items())
            )
            for name in ("healthz", "inbox"):
                ratio = percentile(figures[(name, "busy")], 0.99) / percentile(figures[(name, "idle")], 0.99)
                print(f"{name}: p99 busy / idle = {ratio:.1f}x")
        finally:
            us.stop(kill=True)
            cn.stop(kill=True)


if __name__ == "__main__":
    main()
