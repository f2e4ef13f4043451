"""Witnessed time between real nodes (issue #19): a partition longer than the liveness window makes
the peer *silent* (status, alarm record, inbox reasons), and what it sent while unreachable is
judged on when it was witnessed, by both nodes; receipts quote when the record was first mirrored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

SHORT = {  # seconds, so that the windows pass during the test
    "receipt_within": 3,
    "response_within": {"detente.dev/link-test/v1": 3},
    "escalation": [],
    "liveness_window": 3,
}


def _peer(node, name: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return next(p for p in node.status()["peers"] if p["name"] == name)


def _records(node, rtype: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    rows = node.api("GET", "/api/v1/records", params={"limit": 1000, "origin": node.origin}).json()
    return [r["record"] for r in rows if r["record"]["type"] == rtype]


def test_a_partitioned_peer_is_silent_and_its_answers_are_judged_when_witnessed(make_node, wait, fault_proxy) -> None:
    from detente.node.localnet import LocalNode

    us, cn = make_node("us"), make_node("cn")
    for n in (us, cn):
        n.use_agreement(SHORT)
    to_cn, to_us = fault_proxy(cn.port), fault_proxy(us.port)
    us.pin(LocalNode(cn.name, cn.origin, cn.directory, port=to_cn.port, info=cn.info))
    cn.pin(LocalNode(us.name, us.origin, us.directory, port=to_us.port, info=us.info))
    us.start()
    cn.start()
    link = us.send("detente.dev/link-test/v1", "The quick brown fox 1234567890", to=[cn.origin])
    wait("the receipt", lambda: us.thread(us.origin, link["index"]).get("states") == {cn.origin: "received"}, timeout=60)
    receipt = next(r for r in _records(cn, "detente.dev/receipt/v1") if r["refs"][0]["index"] == link["index"])
    mirrored = datetime.fromisoformat(receipt["body"]["received_at"])
    assert mirrored <= datetime.fromisoformat(receipt["issued"])  # the first-mirrored observation, not later

    # The link test's window starts when cn cosigned a checkpoint holding it: wait for that first,
    # so that the window is fixed before the partition (a later witnessing would move it later).
    wait("the link test witnessed", lambda: us.thread(us.origin, link["index"])["witnessed"]["hi"] is not None,
         timeout=60)  # fmt: skip
    to_cn.partition()
    to_us.partition()
    ack = cn.api("POST", f"/api/v1/threads/{us.origin}/{link['index']}/ack", json={"note": "read / 已阅"})
    assert ack.status_code == 201, ack.text
    unreached = us.send("detente.dev/link-test/v1", "The quick brown fox 0987654321", to=[cn.origin])

    wait("cn silent at us", lambda: _peer(us, "cn")["silent_since"] is not None, timeout=60)
    assert _peer(us, "cn")["last_heard"] is not None
    wait("the silence alarm", lambda: any(a["kind"] == "silent" for a in us.api("GET", "/api/v1/alarms").json()),
         timeout=60)  # fmt: skip
    assert any(r["body"].get("kind") == "silent" for r in _records(us, "detente.dev/log-alarm/v1"))
    wait("the unreachable link test",
         lambda: us.thread(us.origin, unreached["index"]).get("unanswered") == {cn.origin: "unreachable"},
         timeout=60)  # fmt: skip
    wait("the link test read but not answered (as us sees it)",
         lambda: us.thread(us.origin, link["index"]).get("unanswered") == {cn.origin: "received-not-answered"},
         timeout=60)  # fmt: skip

    due = next(o["due"] for o in us.thread(us.origin, link["index"])["obligations"] if o["kind"] == "response")
    # Cosignature times are whole seconds: heal more than a second after the deadline.
    wait("the deadline well past", lambda: datetime.now(UTC) > datetime.fromisoformat(due) + timedelta(seconds=1.5))
    to_cn.heal()
    to_us.heal()
    wait("cn heard again", lambda: _peer(us, "cn")["silent_since"] is None, timeout=60)

    def answered(node) -> dict[str, Any] | None:  # type: ignore[no-untyped-def]
        thread = node.thread(us.origin, link["index"])
        ob = next((o for o in thread.get("obligations", []) if o["kind"] == "response"), None)
        return ob if ob and ob["met_at"] and ob["met_witnessed"] else None

    for node in (us, cn):
        wait(f"the answer witnessed, at {node.name}", lambda node=node: answered(node) is not None, timeout=60)
        ob = answered(node)
        assert ob is not None and ob["missed"], ob  # sent in time by its claim, witnessed only after the heal
        assert ob["met_by"] == f"{cn.origin}#{ack.json()['index']}"
    sent = next(r for r in _records(cn, "detente.dev/acknowledgement/v1") if r["refs"][0]["index"] == link["index"])
    assert datetime.fromisoformat(sent["issued"]) < datetime.fromisoformat(due)  # its claim: in time
    assert datetime.fromisoformat(answered(us)["met_at"]) > datetime.fromisoformat(due)  # type: ignore[index]
    for node in (us, cn):  # each side records the late answer as missed in its own log
        wait(f"the miss in {node.name}'s log",
             lambda node=node: any(r["body"]["party"] == cn.origin and r["body"]["deadline"] == "response"
                                   and r["refs"][0]["index"] == link["index"]
                                   for r in _records(node, "detente.dev/deadline-missed/v1")),
             timeout=60)  # fmt: skip
