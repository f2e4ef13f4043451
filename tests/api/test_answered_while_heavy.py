"""/healthz and the inbox are answered while the heaviest work holds every heavy slot (issue #21).
Ordering, not wall-clock: each slot is taken by work that keeps the GIL busy (pure-Python
arithmetic, as a label scan or a PDF rendering is) until the test lets it go, so every answer
counted below came while heavy work was in flight, however loaded the machine. How fast they are
answered is measured by bench/responsiveness_bench.py (docs/performance.md), not asserted here;
that the real heavy handlers run on these slots: tests/api/test_heavy_handlers.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from starlette.testclient import TestClient

from detente.node.localnet import LocalNode

HOTLINE = "detente.dev/hotline-message/v1"


def test_healthz_and_the_inbox_are_answered_while_every_heavy_slot_computes(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = make_client(heavy_slots=2)
    cn = LocalNode("cn", "cn.detente.example/log", tmp_path / "cn").init()  # pinned, never started
    pinned = client.post(
        "/api/v1/peers", json={"name": "cn", "url": cn.url, "vkey": cn.vkey, "cosigner_vkey": cn.cosigner_vkey}
    )
    assert pinned.status_code == 201, pinned.text[:300]
    for i in range(3):
        sent = client.post(
            "/api/v1/records",
            json={
                "type": HOTLINE,
                "to": [cn.origin],
                "body": {"priority": "routine", "topic": "crisis"},
                "text": {"original": {"lang": "en", "text": f"routine contact check {i}"}},
            },
        )
        assert sent.status_code == 201, sent.text[:300]

    release = threading.Event()
    events: list[str] = []

    def compute(name: str) -> str:
        events.append(f"{name} started")
        while not release.is_set():  # the GIL held as a label scan holds it, until the test lets go
            sum(i * i for i in range(2000))
        events.append(f"{name} released")
        return name

    heavy = client.app.state.heavy  # type: ignore[attr-defined]
    # a backstop, generous: a node that answers nothing while heavy work runs is let go after it
    # (its answers then come after the work ends, and the ordering below fails instead of hanging)
    backstop = threading.Timer(120, release.set)
    backstop.start()
    # writes: no budget ends their wait, however slow the machine (a read past it would be answered)
    held = [client.portal.start_task_soon(heavy.write, compute, name) for name in ("a", "b")]  # type: ignore[union-attr]
    for _ in range(600):  # both slots computing before the probes start
        if heavy.stats().running == 2 and len(events) == 2:
            break
        time.sleep(0.05)
    running = heavy.stats().running
    health = client.get("/healthz")
    events.append(f"healthz {health.status_code}")
    inbox = client.get("/api/v1/inbox")
    events.append(f"inbox {inbox.status_code}")
    refused = client.post("/api/v1/labels/check", content=b"hello", headers={"Content-Type": "text/plain"})
    events.append(f"label check {refused.status_code} {refused.json().get('code')}")
    release.set()
    backstop.cancel()
    assert sorted(f.result(timeout=60) for f in held) == ["a", "b"]

    first_release = min(i for i, event in enumerate(events) if event.endswith("released"))
    assert events[2:first_release] == ["healthz 200", "inbox 200", "label check 503 heavy-work-busy"], events
    assert running == 2
    assert sorted(t["text"]["original"]["text"] for t in inbox.json()) == [
        f"routine contact check {i}" for i in range(3)
    ]
