"""The CLI against a real node process (issue #20): a misspelt type, a recipient that is not a
pinned peer and a body with schema errors each end with ``detente: error:`` and a hint, and the
node's log is the same size afterwards; a peer's short name is resolved to its origin."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from detente.node.localnet import LocalNode


def _cli(node: LocalNode, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "detente", *args, "-n", str(node.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DETENTE_TOKEN": node.token, "COLUMNS": "200"},
    )


def _size(node: LocalNode) -> int:
    return int(node.api("GET", "/healthz").json()["size"])


def test_cli_refusals_leave_the_log_unchanged_and_short_names_resolve(make_node) -> None:  # type: ignore[no-untyped-def]
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)  # cn need not run: nothing here waits for it
    us.start()
    fields = ["-f", "priority=flash", "-f", "topic=urgent-concern"]
    before = _size(us)

    typo = _cli(us, "notice", "send", "hotline-mesage", "--text", "call us", "--to", "cn", *fields)
    assert typo.returncode == 2, typo.stderr
    assert "detente: error: detente.dev/hotline-mesage/v1 is not a record type" in typo.stderr
    assert "detente: hint: did you mean detente.dev/hotline-message/v1?" in typo.stderr

    for wrong in ("cn.example/log", "uk"):
        refused = _cli(us, "notice", "send", "hotline-message", "--text", "call us", "--to", wrong, *fields)
        assert refused.returncode == 2, refused.stderr
        assert f"detente: error: {wrong}: not the log origin of a peer this node follows" in refused.stderr
        assert (
            f"detente: hint: name each recipient by a pinned peer's name or log origin; pinned peers: cn ({cn.origin})"
            in refused.stderr
        )

    schema = _cli(us, "notice", "send", "hotline-message", "--text", "call us", "--to", "cn", "-f", "priority=urgent")
    assert schema.returncode == 2, schema.stderr
    assert "body (2 errors)" in schema.stderr
    assert "priority: " in schema.stderr and "one of flash, immediate, priority, routine" in schema.stderr
    assert "topic: Field required" in schema.stderr
    assert "detente: hint: see every field of the type with: detente catalogue hotline-message" in schema.stderr
    assert _size(us) == before  # nothing signed, nothing logged

    sent = _cli(us, "notice", "send", "hotline-message", "--text", "call us", "--to", "cn", *fields)
    assert sent.returncode == 0, sent.stderr
    index = json.loads(sent.stdout)["index"]
    record = us.api("GET", "/api/v1/records", params={"start": index, "limit": 1}).json()[0]["record"]
    assert record["to"] == [cn.origin]
    assert _size(us) == before + 1
