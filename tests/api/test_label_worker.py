"""A label check's pure part runs in a worker process, not on the node's GIL (issue #21): the
answer is the same as the check made in process, the work ran in another process, a worker
stopped at its budget or killed mid-job is answered with a typed problem, and the next job gets a
fresh worker. Ordering, not wall-clock: a job that blocks until it is killed is killed, however
slow the machine."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from starlette.testclient import TestClient

from detente.api.contract import PROBLEM_SCHEMA
from detente.api.heavy import HeavyWork
from detente.errors import BudgetExceeded, HeavyWorkerLost, MalformedMedia
from detente.media.guidelines import packaged_guidelines
from detente.node.cpu_pool import CpuPool
from detente.node.media import label_check_job

TEXT = ("这段文字由AI生成。 " * 2000).encode()


def _wait_forever(started: str) -> None:
    """A job that says it started, then never ends on its own (module level: it is pickled by name)."""
    Path(started).write_text(str(os.getpid()))
    while True:
        time.sleep(1)


def test_a_label_check_on_a_node_runs_in_a_worker_process_and_answers_as_in_process(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client()
    answer = client.post("/api/v1/labels/check", content=TEXT, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 200, answer.text[:300]
    expected = label_check_job(TEXT, "text/plain", packaged_guidelines(), "", {}, "unknown")["report"]
    assert answer.json() == expected
    assert answer.json()["explicit"]["checks"], answer.text[:300]
    workers = client.get("/api/v1/status").json()["heavy"]["workers"]
    assert (workers["jobs"], workers["started"], workers["alive"]) == (1, 1, 1)
    pids = client.app.state.heavy.pool.pids()  # type: ignore[attr-defined]
    assert len(pids) == 1 and pids[0] != os.getpid()
    again = client.post("/api/v1/labels/check", content=TEXT, headers={"Content-Type": "text/plain"})
    assert again.json() == expected
    workers = client.get("/api/v1/status").json()["heavy"]["workers"]
    assert (workers["jobs"], workers["started"]) == (2, 1)  # the worker is kept for the next check


def test_a_typed_error_in_the_worker_is_raised_again_with_its_hint() -> None:
    pool = CpuPool(1)
    try:
        with pytest.raises(MalformedMedia) as bad:
            pool.run(label_check_job, b"\xff\xfe not utf-8", "text/plain", packaged_guidelines(), "", {}, "unknown")
        assert bad.value.message == "text content is not UTF-8" and bad.value.hint == "convert the text to UTF-8 first"
        assert pool.stats().lost == 0 and pool.stats().started == 1
    finally:
        pool.close()


def test_a_worker_killed_mid_job_is_a_typed_error_and_the_next_job_gets_a_fresh_worker(tmp_path: Path) -> None:
    started = tmp_path / "started"

    async def scenario() -> None:
        heavy = HeavyWork(slots=1, budget_seconds=3600)
        slot = heavy.reserve()
        job = asyncio.ensure_future(slot.write(heavy.compute, _wait_forever, str(started)))
        for _ in range(1200):  # the worker has started the job
            if started.exists() and started.read_text():
                break
            await asyncio.sleep(0.05)
        pid = int(started.read_text())
        assert pid != os.getpid() and heavy.pool.pids() == [pid]
        os.kill(pid, signal.SIGKILL)  # as the kernel's OOM killer or a crashing parser would end it
        with pytest.raises(HeavyWorkerLost) as lost:
            await job
        assert lost.value.http_status == 503 and "nothing was written" in lost.value.message
        stats = heavy.stats()
        assert (stats.failed, stats.running, stats.workers["lost"]) == (1, 0, 1)
        assert await heavy.write(heavy.compute, pow, 2, 10) == 1024  # the slot and a fresh worker
        assert heavy.stats().workers["started"] == 2 and heavy.pool.pids() != [pid]
        heavy.close()

    asyncio.run(scenario())


def test_a_worker_past_its_budget_is_stopped_and_its_slot_is_free_at_once(tmp_path: Path) -> None:
    started = tmp_path / "started"

    async def scenario() -> None:
        heavy = HeavyWork(slots=1, budget_seconds=0.5)  # the job never ends: always past it
        with pytest.raises(BudgetExceeded) as over:
            await heavy.write(heavy.compute, _wait_forever, str(started))
        assert "worker process was stopped" in over.value.message
        stats = heavy.stats()
        # stopped, not abandoned: nothing runs on in the slot (a thread's work would)
        assert (stats.over_budget, stats.abandoned_running, stats.running) == (1, 0, 0)
        assert (stats.workers["killed_over_budget"], stats.workers["alive"]) == (1, 0)
        if started.exists() and started.read_text():  # the job had started: its process is gone
            with pytest.raises(ProcessLookupError):
                os.kill(int(started.read_text()), 0)
        assert await heavy.write(heavy.compute, pow, 3, 3, budget=False) == 27
        heavy.close()

    asyncio.run(scenario())


def test_over_budget_and_lost_workers_on_a_node_are_problem_bodies(make_client: Callable[..., TestClient]) -> None:
    client = make_client(heavy_budget_seconds=0.001)  # a worker process cannot even start within it
    over = client.post("/api/v1/labels/check", content=TEXT, headers={"Content-Type": "text/plain"})
    assert over.status_code == 503, over.text[:300]
    jsonschema.validate(over.json(), PROBLEM_SCHEMA)
    assert over.json()["code"] == "budget-exceeded"
    heavy = client.get("/api/v1/status").json()["heavy"]
    assert heavy["workers"]["killed_over_budget"] == 1 and heavy["running"] == 0
    client.app.state.heavy.budget_seconds = 3600  # type: ignore[attr-defined]
    again = client.post("/api/v1/labels/check", content=TEXT, headers={"Content-Type": "text/plain"})
    assert again.status_code == 200, again.text[:300]
    assert client.get("/api/v1/status").json()["heavy"]["workers"]["started"] == 2
    problem = HeavyWorkerLost("the worker process doing this request ended").problem()
    jsonschema.validate(problem, PROBLEM_SCHEMA)
    assert problem["code"] == "heavy-worker-lost" and problem["status"] == 503
