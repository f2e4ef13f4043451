"""Writes per second through ``POST /api/v1/records`` on a real node process (SQLite), with
``--threads`` clients writing ``--each`` records at once (issue #21: what the operator journal
costs a write). Run it on a tree with the journal and on one without it to compare.

    .venv/bin/python bench/journal_bench.py --threads 8 --each 100
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import httpx

from detente.node.localnet import LocalNode

STATEMENT = {"type": "detente.dev/statement/v1", "body": {"text": "bench"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--each", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        node = LocalNode("us", "us.bench.example/log", Path(folder) / "us").init().start()
        try:
            headers = {"Authorization": f"Bearer {node.token}"}
            url = f"{node.url}/api/v1/records"
            with httpx.Client(timeout=60) as client:  # warm up
                for _ in range(20):
                    client.post(url, json=STATEMENT, headers=headers).raise_for_status()

            def write() -> None:
                with httpx.Client(timeout=60) as client:
                    for _ in range(args.each):
                        client.post(url, json=STATEMENT, headers=headers).raise_for_status()

            threads = [threading.Thread(target=write) for _ in range(args.threads)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            took = time.perf_counter() - started
            total = args.threads * args.each
            print(f"{total} writes by {args.threads} clients in {took:.2f} s: {total / took:.0f} writes/s")
        finally:
            node.stop()


if __name__ == "__main__":
    main()
