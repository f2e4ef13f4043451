"""Notices between real nodes: delivery, automatic receipt, acknowledgement, a missed deadline
recorded in both logs, escalation, restart in the middle of a thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

SHORT = {  # deadlines in seconds, so a miss happens during the test
    "receipt_within": 30,
    "response_within": {"detente.dev/link-test/v1": 2, "detente.dev/pre-test-notification/v1": 3600},
    "escalation": [{"action": "resend", "after": 0}, {"action": "second-channel", "after": 1}],
}


def _types(node, origin=None):  # type: ignore[no-untyped-def]
    params = {"limit": 1000} | ({"origin": origin} if origin else {})
    return [r["record"]["type"] for r in node.api("GET", "/api/v1/records", params=params).json()]


def test_notice_receipt_acknowledgement_and_a_missed_deadline_in_both_logs(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    for n in (us, cn):
        n.use_agreement(SHORT)
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    start = datetime.now(UTC) + timedelta(days=3)
    notice = us.send(
        "detente.dev/pre-test-notification/v1",
        "Frontier model evaluation, cluster 7",
        to=[cn.origin],
        translations={"zh-Hans": "前沿模型评估，第7集群"},
        body={
            "test_id": "T-1",
            "category": "frontier-model-evaluation",
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=6)).isoformat(),
            "location": "cluster-7",
            "human_control_mode": "not-applicable",
            "contact": "duty officer",
        },
    )
    wait(
        "the automatic receipt",
        lambda: (us.thread(us.origin, notice["index"]) or {}).get("states") == {cn.origin: "received"},
    )
    incoming = cn.thread(us.origin, notice["index"])
    assert incoming["incoming"] and incoming["states"] == {cn.origin: "received"}
    ack = cn.api("POST", f"/api/v1/threads/{us.origin}/{notice['index']}/ack", json={"note": "noted / 已阅"})
    assert ack.status_code == 201, ack.text
    wait("the acknowledgement", lambda: us.thread(us.origin, notice["index"])["states"] == {cn.origin: "answered"})

    # A link test nobody answers: both sides record the miss, the sender escalates.
    test = us.send("detente.dev/link-test/v1", "The quick brown fox 1234567890", to=[cn.origin])
    wait(
        "the miss in both logs",
        lambda: "detente.dev/deadline-missed/v1" in _types(us) and "detente.dev/deadline-missed/v1" in _types(cn),
        timeout=30,
    )
    wait("two escalation steps", lambda: _types(us).count("detente.dev/escalation/v1") >= 2, timeout=30)
    thread = us.thread(us.origin, test["index"])
    assert thread["states"] == {cn.origin: "received"}
    assert [o["missed"] for o in thread["obligations"] if o["kind"] == "response"] == [True]
    assert thread["escalations"][:2] == [1, 2]
    missed = [
        r["record"]
        for r in cn.api("GET", "/api/v1/records", params={"limit": 1000}).json()
        if r["record"]["type"] == "detente.dev/deadline-missed/v1"
    ]
    assert missed[0]["refs"][0]["leaf_hash"] == test["leaf_hash"]  # it names the exact leaf
    assert missed[0]["body"]["party"] == cn.origin


def test_restart_in_the_middle_of_a_thread(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    msg = us.send(
        "detente.dev/hotline-message/v1",
        "Early warning: anomalous traffic from a model API",
        to=[cn.origin],
        body={"priority": "flash", "topic": "critical-infrastructure-early-warning", "sector": "energy"},
    )
    cn.start()  # cn was down when the message was sent
    wait("receipt after cn comes up", lambda: us.thread(us.origin, msg["index"])["states"][cn.origin] == "received")
    cn.stop(kill=True)
    cn.start()
    receipts = [t for t in _types(cn) if t == "detente.dev/receipt/v1"]
    assert len(receipts) == 1  # the restart did not receipt it twice
    assert cn.api("POST", f"/api/v1/threads/{us.origin}/{msg['index']}/ack", json={}).status_code == 201
    wait("answered", lambda: us.thread(us.origin, msg["index"])["states"][cn.origin] == "answered")


def test_bad_notices_are_refused_and_nothing_is_written(make_node) -> None:
    us = make_node("us")
    us.start()
    size = us.status()["size"]
    cases = [
        {"type": "detente.dev/pre-test-notification/v1", "to": ["cn.detente.example/log"], "body": {"test_id": "T"}},
        {"type": "detente.dev/hotline-message/v1", "body": {"priority": "flash", "topic": "crisis"}},  # no recipient
        {"type": "detente.dev/hotline-message/v1", "to": [us.origin], "body": {"priority": "flash", "topic": "crisis"}},
        {"type": "Not A Type", "body": {}},
        {
            "type": "detente.dev/hotline-message/v1",
            "to": ["cn.detente.example/log"],
            "body": {"priority": "flash", "topic": "crisis"},
            "text": {"original": {"lang": "en", "text": "x" * 70_000}},
        },
    ]
    for payload in cases:
        resp = us.api("POST", "/api/v1/records", json=payload)
        assert resp.status_code in (400, 413, 422), (payload, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"]
    red = us.api("POST", "/api/v1/records", json={"type": "detente.dev/statement/v1", "tlp": "TLP:RED"})
    assert red.status_code == 403 and "TLP:RED" in red.json()["detail"] and red.json()["hint"]
    raw = us.api(
        "POST", "/api/v1/records", content=b'{"type": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert raw.status_code in (400, 422)
    assert us.api("POST", f"/api/v1/threads/{us.origin}/0/ack", json={}).status_code == 404
    assert us.status()["size"] == size


def test_cli_send_inbox_and_ack(make_node, wait) -> None:
    import os
    import subprocess
    import sys

    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()

    def cli(node, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
        return subprocess.run(
            [sys.executable, "-m", "detente", *args, "-n", str(node.directory)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "DETENTE_TOKEN": node.token, "COLUMNS": "200"},
        )

    sent = cli(
        us,
        "notice",
        "send",
        "hotline-message",
        "--text",
        "Urgent concern: model weights exfiltration attempt",
        "--to",
        cn.origin,
        "-t",
        "zh-Hans=紧急关切：模型权重外泄企图",
        "-f",
        "priority=flash",
        "-f",
        "topic=urgent-concern",
    )
    assert sent.returncode == 0, sent.stderr
    index = json.loads(sent.stdout)["index"]
    wait(
        "cn to receive it",
        lambda: any(t["index"] == index and t["incoming"] for t in json.loads(cli(cn, "inbox", "--json").stdout)),
    )
    table = cli(cn, "inbox")
    assert table.returncode == 0 and "hotline-message" in table.stdout
    bad = cli(cn, "ack", "not-a-record")
    assert bad.returncode == 2 and "detente: error:" in bad.stderr and "hint:" in bad.stderr
    assert cli(cn, "ack", f"{us.origin}#{index}", "--note", "on it").returncode == 0
    wait("answered", lambda: us.thread(us.origin, index)["states"] == {cn.origin: "answered"})
    denied = subprocess.run(
        [sys.executable, "-m", "detente", "inbox", "-n", str(us.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "DETENTE_TOKEN"},
    )
    assert denied.returncode != 0 and "DETENTE_TOKEN" in denied.stderr


def test_signed_webhook_alerts_on_arrival_and_miss(make_node, wait) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from detente.crypto.dsse import Ed25519DSSEVerifier, Envelope, verify_envelope
    from detente.crypto.keys import VerifierKey
    from detente.node.alerts import ALERT_PAYLOAD_TYPE

    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        us, cn = make_node("us"), make_node("cn")
        cn.use_agreement(SHORT)
        config = cn.directory / "detente.toml"
        config.write_text(
            config.read_text().replace(
                'webhook_url = ""', f'webhook_url = "http://127.0.0.1:{server.server_port}/alerts"'
            )
        )
        us.pin(cn)
        cn.pin(us)
        us.start()
        cn.start()
        us.send("detente.dev/link-test/v1", "The quick brown fox", to=[cn.origin])

        def events() -> list[dict]:  # type: ignore[type-arg]
            key = VerifierKey.parse(cn.vkey)
            out = []
            for body in list(received):
                payload = verify_envelope(
                    Envelope.from_json(body), [Ed25519DSSEVerifier(key)], payload_types=[ALERT_PAYLOAD_TYPE]
                ).payload
                out.append(json.loads(payload))
            return out

        wait("arrival and miss alerts", lambda: {"arrival", "miss"} <= {e["kind"] for e in events()}, timeout=30)
        arrival = next(e for e in events() if e["kind"] == "arrival")
        assert arrival["origin"] == us.origin and arrival["type"] == "detente.dev/link-test/v1"
        assert all(e["node"] == cn.origin for e in events())
    finally:
        server.shutdown()
        server.server_close()


def test_email_alerts_through_a_real_smtp_server(make_node, wait) -> None:
    from aiosmtpd.controller import Controller

    from detente.node.localnet import free_port

    messages: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            messages.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        us, cn = make_node("us"), make_node("cn")
        config = cn.directory / "detente.toml"
        config.write_text(
            config.read_text()
            .replace('smtp = ""', f'smtp = "smtp://127.0.0.1:{controller.port}"')
            .replace('alert_email_to = ""', 'alert_email_to = "watch@cn.example"')
        )
        us.pin(cn)
        cn.pin(us)
        us.start()
        cn.start()
        msg = us.send(
            "detente.dev/hotline-message/v1",
            "Urgent concern",
            to=[cn.origin],
            body={"priority": "flash", "topic": "urgent-concern"},
        )
        from email import message_from_string
        from email.policy import default

        def arrivals() -> list:  # type: ignore[type-arg]
            parsed = [message_from_string(m, policy=default) for m in messages]
            return [p for p in parsed if str(p["Subject"]).startswith("[detente] arrival / 收到")]

        wait("the e-mail alert", lambda: bool(arrivals()), timeout=30)
        mail = arrivals()[0]
        assert mail["To"] == "watch@cn.example"
        text = mail.get_content()
        assert f"index: {msg['index']}" in text
        assert '"payloadType":"application/vnd.detente.alert+json"' in text
    finally:
        controller.stop()
