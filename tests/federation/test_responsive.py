"""No request can freeze the node (issue #21): the heaviest upload a node takes, a label check of
16 MiB of text full of notices, runs off the event loop, so /healthz keeps being answered while
it runs (before the fix it ran on the event loop and nothing else was answered until it ended)."""

from __future__ import annotations

import contextlib
import threading

import httpx


def test_healthz_is_answered_while_a_large_label_check_runs(make_node) -> None:
    node = make_node("us").start()
    text = ("x" * 100 + "非AI生成 " * (16 * 1024 * 1024 // 8)).encode()  # every notice negated: the whole text is read
    done = threading.Event()
    answer: list[httpx.Response] = []

    def check() -> None:
        try:
            answer.append(  # seconds on an idle machine, minutes on a loaded one: no deadline but the suite's
                node.api(
                    "POST", "/api/v1/labels/check", content=text, headers={"Content-Type": "text/plain"}, timeout=900
                )
            )
        finally:
            done.set()

    worker = threading.Thread(target=check)
    worker.start()
    answered_meanwhile = 0
    with httpx.Client(timeout=60) as client:
        while not done.is_set():
            if client.get(f"{node.url}/healthz").status_code == 200 and not done.is_set():
                answered_meanwhile += 1
    worker.join()
    assert answer and answer[0].status_code == 200, answer[0].text[:300] if answer else "no answer"
    assert answer[0].json()["regimes"], answer[0].text[:300]
    assert answered_meanwhile >= 1, "no health check was answered during the check (it ran on the event loop)"


def test_sigterm_stops_the_node_cleanly_even_mid_request(make_node) -> None:
    """SIGTERM mid-request: the server shuts down, the node's own stop runs (exit status 0, not
    killed by the signal), within a bounded time."""
    import time

    node = make_node("us").start()
    assert node.process is not None
    text = ("x" * 100 + "非AI生成 " * (8 * 1024 * 1024 // 8)).encode()
    worker = threading.Thread(
        target=lambda: _quietly(
            lambda: node.api("POST", "/api/v1/labels/check", content=text, headers={"Content-Type": "text/plain"})
        )
    )
    worker.start()
    time.sleep(0.5)  # let the upload start; the check takes seconds (how long does not matter here)
    node.process.terminate()
    status = node.process.wait(timeout=60)  # bounded: a hung node fails here instead of hanging the suite
    worker.join()
    assert status == 0, f"the node exited with {status} (negative: killed by the signal without stopping)"


def _quietly(call) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(httpx.HTTPError):  # the node went away mid-request: expected
        call()
