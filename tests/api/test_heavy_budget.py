"""Heavy work in bounded slots and within a time budget (issue #21): a heavy read not answered in
``heavy_budget_seconds`` is answered 503 ``budget-exceeded`` while its work runs on in its slot;
a request that finds every slot taken is answered 503 ``heavy-work-busy`` with ``Retry-After``;
a heavy write (it signs records) is never abandoned. Ordering, not wall-clock: the work is held
on an event until the test lets it go, so a loaded machine cannot change the outcome."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from starlette.testclient import TestClient

from detente.api.contract import PROBLEM_SCHEMA
from detente.api.heavy import SWITCH_INTERVAL, HeavyWork
from detente.errors import BudgetExceeded, HeavyWorkBusy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "incidents" / "report-initial.json"


def test_a_read_past_its_budget_is_answered_and_its_slot_stays_taken_until_the_work_ends() -> None:
    release = threading.Event()
    ran: list[str] = []

    def held(name: str) -> str:
        release.wait(60)
        ran.append(name)
        return name

    async def scenario() -> None:
        heavy = HeavyWork(slots=1, budget_seconds=0.05)
        with pytest.raises(BudgetExceeded) as over:
            await heavy.read(held, "first")
        assert "0.05 s" in over.value.message and over.value.http_status == 503
        stats = heavy.stats()
        assert (stats.running, stats.abandoned_running, stats.over_budget) == (1, 1, 1)
        with pytest.raises(HeavyWorkBusy) as busy:  # the abandoned work still holds the only slot
            await heavy.read(held, "second")
        assert busy.value.retry_after == "1" and heavy.stats().refused_busy == 1
        release.set()
        for _ in range(600):  # the abandoned work ends on its own and gives its slot back
            if heavy.stats().running == 0:
                break
            await asyncio.sleep(0.05)
        assert ran == ["first"] and heavy.stats().abandoned_running == 0
        assert await heavy.read(held, "third") == "third"
        assert heavy.stats().finished == 1
        heavy.close()

    asyncio.run(scenario())


def test_a_write_runs_to_its_end_however_long_it_takes() -> None:
    release = threading.Event()

    def signing() -> str:
        release.wait(60)
        return "signed"

    async def scenario() -> None:
        heavy = HeavyWork(slots=2, budget_seconds=0.01)
        task = asyncio.ensure_future(heavy.write(signing))
        await asyncio.sleep(0.2)  # well past the budget: a read would have been answered 503 by now
        assert not task.done()
        release.set()
        assert await task == "signed"
        assert heavy.stats().over_budget == 0
        heavy.close()

    asyncio.run(scenario())


def test_the_switch_interval_is_lowered_while_heavy_work_runs_and_given_back_after() -> None:
    """A heavy thread holds the GIL for at most SWITCH_INTERVAL while the event loop waits for it;
    the interpreter's own interval comes back when the last heavy work in the process ends."""
    release = {"a": threading.Event(), "b": threading.Event()}
    seen: dict[str, float] = {}

    def held(name: str) -> str:
        seen[name] = sys.getswitchinterval()  # as the worker thread runs under it
        release[name].wait(60)
        return name

    for _ in range(1200):  # heavy work an earlier test abandoned (a read past its budget runs on) ends first
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            break
        time.sleep(0.05)

    async def scenario() -> None:
        before = sys.getswitchinterval()
        assert before > SWITCH_INTERVAL
        first, second = HeavyWork(slots=1, budget_seconds=30), HeavyWork(slots=1, budget_seconds=30)
        a = asyncio.ensure_future(first.read(held, "a"))
        b = asyncio.ensure_future(second.write(held, "b"))  # two nodes' slots in one process count together
        for _ in range(600):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.05)
        assert seen == {"a": SWITCH_INTERVAL, "b": SWITCH_INTERVAL}
        release["a"].set()
        assert await a == "a"
        assert sys.getswitchinterval() == SWITCH_INTERVAL  # b still runs
        release["b"].set()
        assert await b == "b"
        assert sys.getswitchinterval() == before
        first.close()
        second.close()

    asyncio.run(scenario())


def test_failures_are_counted_and_raised_as_they_are() -> None:
    def broken() -> None:
        raise ValueError("boom")

    async def scenario() -> None:
        heavy = HeavyWork(slots=1, budget_seconds=30)
        with pytest.raises(ValueError, match="boom"):
            await heavy.read(broken)
        assert heavy.stats().failed == 1 and heavy.stats().running == 0
        assert await heavy.read(lambda: 7) == 7  # the slot came back
        heavy.close()

    asyncio.run(scenario())


def test_over_budget_on_a_node_is_a_problem_body_and_a_write_is_not_abandoned(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(heavy_budget_seconds=0.001, heavy_slots=2)
    text = ("人工智能生成 " * 200_000).encode()  # ~4 MB: no label scan answers within a millisecond
    answer = client.post("/api/v1/labels/check", content=text, headers={"Content-Type": "text/plain"})
    assert answer.status_code == 503, answer.text[:300]
    problem = answer.json()
    jsonschema.validate(problem, PROBLEM_SCHEMA)
    assert problem["code"] == "budget-exceeded" and "heavy_budget_seconds" in problem["hint"]
    report = json.loads(EXAMPLE.read_text())
    imported = client.post("/api/v1/incidents/import", json={"reports": [report]})
    assert imported.status_code == 200, imported.text[:300]  # a write: run to its end, not abandoned
    heavy = client.get("/api/v1/status").json()["heavy"]
    assert heavy["over_budget"] >= 1 and heavy["slots"] == 2 and heavy["budget_seconds"] == 0.001
