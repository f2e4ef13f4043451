"""The backup procedure of docs/deploy.md, run for real (issue #25): pg_dump a node's schema,
restore it into a fresh database, `detente log audit` is clean there, and the node resumes on it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from detente.node.localnet import LocalNode

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
pytestmark = pytest.mark.postgres


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


def test_a_node_resumes_from_a_pg_dump_restored_into_a_fresh_database(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump / pg_restore are not installed")
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("DETENTE_REQUIRE_PG") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    schema, fresh = f"b_{uuid.uuid4().hex[:10]}", f"restore_{uuid.uuid4().hex[:10]}"
    host = PG_URL.split("://", 1)[1].split("/", 1)[0]
    node = LocalNode("us", "us.detente.example/log", tmp_path / "us", store=f"{PG_URL}#{schema}").init()
    try:
        node.start()
        sent = [node.send("detente.dev/statement/v1", f"before the backup {i}")["leaf_hash"] for i in range(3)]
        node.stop()
        dump = tmp_path / "node.dump"
        done = _run("pg_dump", "-h", host.split(":")[0], "-p", host.split(":")[1], "-d", PG_URL.rsplit("/", 1)[1],
                    "-n", schema, "-Fc", "-f", str(dump))  # fmt: skip
        assert done.returncode == 0, done.stderr
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {fresh}")
        restored_url = f"{PG_URL.rsplit('/', 1)[0]}/{fresh}"
        done = _run("pg_restore", "-h", host.split(":")[0], "-p", host.split(":")[1], "-d", fresh, str(dump))
        assert done.returncode == 0, done.stderr

        audit = _run(sys.executable, "-m", "detente", "log", "audit", "--store", f"{restored_url}#{schema}",
                     "--vkey", node.vkey)  # fmt: skip
        assert audit.returncode == 0, audit.stderr + audit.stdout

        config = node.directory / "detente.toml"
        config.write_text(config.read_text().replace(f"{PG_URL}#{schema}", f"{restored_url}#{schema}"))
        node.start()
        records = node.api("GET", "/api/v1/records", params={"origin": node.origin}).json()
        assert [r["leaf_hash"] for r in records] == sent
        after = node.send("detente.dev/statement/v1", "after the restore")
        assert after["index"] == 3
    finally:
        node.stop()
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"DROP DATABASE IF EXISTS {fresh} WITH (FORCE)")
