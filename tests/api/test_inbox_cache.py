"""The inbox keeps its evaluated threads between answers (issue #21) and never shows stale state:
an answer made after the clock moves, after a new record refers to a thread (a miss, an
escalation, an acknowledgement), or after a cosignature is kept, shows it. Each test first warms
the cache with an answer, then changes one thing, then asks again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from detente.api.app import create_app
from detente.node.config import load_config
from detente.node.localnet import LocalNode
from detente.node.node import Node
from detente.node.timebook import TimeBook
from detente.node.tokens import issue_token

HOTLINE = "detente.dev/hotline-message/v1"
START = 1_796_126_400.0  # 2026-12-01 12:00 UTC
EU = "eu.detente.example/witness"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[[], tuple[TestClient, Node, LocalNode, Clock]]]:
    """``served()``: our node (``us``) in process on a clock the test moves, behind a TestClient
    with an admin token, and ``cn`` initialised and pinned (started only by the test that needs it)."""
    made: list[tuple[TestClient, Node, LocalNode]] = []

    def make() -> tuple[TestClient, Node, LocalNode, Clock]:
        us = LocalNode("us", "us.detente.example/log", tmp_path / "us").init()
        cn = LocalNode("cn", "cn.detente.example/log", tmp_path / "cn").init()
        us.pin(cn)
        cn.pin(us)
        clock = Clock()
        config, base = load_config(us.directory)
        node = Node(config, base, clock=clock)
        token = issue_token(node.state, "admin", "inbox cache tests", int(START))
        client = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
        client.__enter__()
        made.append((client, node, cn))
        return client, node, cn, clock

    yield make
    for client, node, cn in made:
        client.__exit__(None, None, None)
        node.stop()
        cn.stop(kill=True)


def _thread(client: TestClient, origin: str, index: int) -> dict[str, Any]:
    answer = client.get("/api/v1/inbox")
    assert answer.status_code == 200, answer.text[:300]
    return next(t for t in answer.json() if t["origin"] == origin and t["index"] == index)


def _send(client: TestClient, to: str) -> int:
    sent = client.post(
        "/api/v1/records",
        json={
            "type": HOTLINE,
            "to": [to],
            "body": {"priority": "flash", "topic": "crisis"},
            "text": {"original": {"lang": "en", "text": "routine contact check"}},
        },
    )
    assert sent.status_code == 201, sent.text[:300]
    return int(sent.json()["index"])


def test_the_clock_a_miss_an_escalation_and_a_cosignature_show_at_once(
    served: Callable[[], tuple[TestClient, Node, LocalNode, Clock]],
) -> None:
    client, node, cn, clock = served()
    us = node.log.origin
    index = _send(client, cn.origin)
    first = _thread(client, us, index)
    receipt = first["obligations"][0]
    assert (receipt["kind"], receipt["seconds_left"], receipt["missed"]) == ("receipt", 900.0, False)
    page = node.protocol.inbox_page()[1]
    again = node.protocol.inbox_page()[1]
    assert again[0]["text"] is page[0]["text"]  # nothing changed: the evaluated page was kept
    assert again[0] is not page[0]  # each answer a row of its own

    clock.now += 60  # the clock moves, the records do not: the deadlines' fields move with it
    later = _thread(client, us, index)
    assert [o["seconds_left"] for o in later["obligations"]] == [840.0, 3540.0]
    clock.now += 900
    late = _thread(client, us, index)
    assert [o["missed"] for o in late["obligations"]] == [True, False]
    assert late["escalations"] == []

    clock.now += 3600  # both missed: the protocol records the misses and escalates, in our log
    node.protocol.run_protocol()
    escalated = _thread(client, us, index)
    assert [o["missed"] for o in escalated["obligations"]] == [True, True]
    assert escalated["escalations"] == [1]
    assert escalated["unanswered"] == {cn.origin: "unreachable"}  # never heard from

    assert escalated["witnessed"] == {"lo": None, "hi": None, "lo_by": [], "hi_by": []}
    # a witness's cosignature of our checkpoint, kept through another time book of the same store
    # (as the publisher keeps them): the thread's witnessed time and its deadlines move at once
    TimeBook(node.state).made(us, node.log.size, EU, int(START) + 30, f"— {EU} AAAA")
    witnessed = _thread(client, us, index)
    assert witnessed["witnessed"]["hi"] == "2026-12-01T12:00:30+00:00"
    assert witnessed["witnessed"]["hi_by"] == [EU]
    assert witnessed["obligations"][0]["due"] == "2026-12-01T12:15:30+00:00"


def test_an_acknowledgement_shows_at_once(served: Callable[[], tuple[TestClient, Node, LocalNode, Clock]]) -> None:
    client, node, cn, _ = served()
    cn.start()
    sent = cn.send(
        HOTLINE, "routine contact check", body={"priority": "flash", "topic": "crisis"}, to=[node.log.origin]
    )
    synced = client.post("/api/v1/peers/cn/sync")
    assert synced.status_code == 200, synced.text[:300]
    before = _thread(client, cn.origin, sent["index"])
    assert before["incoming"] is True
    assert before["replies"] == []
    assert before["states"] != {node.log.origin: "answered"}

    acked = client.post(f"/api/v1/threads/{cn.origin}/{sent['index']}/ack", json={"note": "noted"})
    assert acked.status_code == 201, acked.text[:300]
    after = _thread(client, cn.origin, sent["index"])
    assert after["states"] == {node.log.origin: "answered"}
    assert [(r["kind"], r["note"]) for r in after["replies"]] == [("acknowledgement", "noted")]
