"""PostgreSQL append against SQLite append on the same machine, in one run (issue #26).

    .venv/bin/python bench/pg_append_bench.py --entries 200000 --pg postgresql://127.0.0.1:5432/test

The same 1,000 pre-signed ~500-byte records (DSSE envelopes of hotline messages, the entries of
``bench/log_bench.py``; ``--random`` for 500 random bytes each, which no store can compress)
appended in batches of 1,000 (tiles, bundles and a signed checkpoint per batch, each batch durable)
to a fresh SQLite file and a fresh PostgreSQL schema, alternating for ``--rounds`` rounds; prints
each round, the medians and the ratio PostgreSQL / SQLite. ``--api`` names the ways to append, each
measured on both stores in every round: ``append`` (one ``TileLog.append`` after another) and
``pipelined`` (``TileLog.append_pipelined``: batch k+1 integrated and signed while batch k
commits). Schemas are dropped afterwards.

    .venv/bin/python bench/pg_append_bench.py --entries 50000 --rounds 5 --api append,pipelined
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg

from detente.crypto.keys import Ed25519Identity
from detente.node.tilelog import TileLog
from detente.store.postgres import PostgresStore
from detente.store.protocol import LogStore
from detente.store.sqlite import SQLiteStore
from log_bench import make_entries


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--random", action="store_true", help="500 random bytes per entry instead of records")
    ap.add_argument("--api", default="pipelined", help="append, pipelined, or append,pipelined")
    ap.add_argument("--pg", default=os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test"))
    args = ap.parse_args()
    ident = Ed25519Identity.from_seed("bench.detente.example/log", b"\x07" * 32)
    batch = [os.urandom(500) for _ in range(1000)] if args.random else make_entries()
    apis = args.api.split(",")
    if not set(apis) <= {"append", "pipelined"}:
        ap.error("--api takes append, pipelined or both (comma-separated)")
    rates: dict[tuple[str, str], list[float]] = {(api, db): [] for api in apis for db in ("sqlite", "postgres")}
    schemas: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for api, db in rates:
                store: LogStore
                if db == "sqlite":
                    store = SQLiteStore(Path(tmp) / f"r{r}-{api}.db", create=True)
                else:
                    schemas.append(f"bench_{uuid.uuid4().hex[:10]}")
                    store = PostgresStore(args.pg, schema=schemas[-1], create=True)
                log = TileLog.create(store, ident)
                batches = [batch] * (args.entries // 1000)
                start = time.perf_counter()
                if api == "append":
                    for entries in batches:
                        log.append(entries)
                else:
                    for _ in log.append_pipelined(batches):
                        pass
                rates[(api, db)].append(args.entries / (time.perf_counter() - start))
                store.close()
    with psycopg.connect(args.pg, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    med = {k: statistics.median(v) for k, v in rates.items()}
    for (api, db), values in rates.items():
        name = f"{db} {api}"
        print(f"{name:18} rounds {', '.join(f'{v:,.0f}' for v in values)} entries/s; median {med[(api, db)]:,.0f}/s")
    kind = "random 500-byte entries" if args.random else f"signed records of {len(batch[0])} bytes"
    for api in apis:
        print(f"{api}: postgres / sqlite {med[(api, 'postgres')] / med[(api, 'sqlite')]:.2f}x")
    if len(apis) == 2:
        for db in ("sqlite", "postgres"):
            print(f"{db}: pipelined / append {med[('pipelined', db)] / med[('append', db)]:.2f}x")
        print(f"postgres pipelined / sqlite append {med[('pipelined', 'postgres')] / med[('append', 'sqlite')]:.2f}x")
    print(f"({args.entries:,} {kind} a round, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
