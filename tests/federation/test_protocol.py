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

    # The inbox pages and filters: the answered notice is closed, the missed link test still open.
    every = us.api("GET", "/api/v1/inbox")
    total = int(every.headers["X-Total-Count"])
    assert total == len(every.json()) >= 2
    keys = [(t["origin"], t["index"]) for t in every.json()]
    opened = us.api("GET", "/api/v1/inbox", params={"open": "true"}).json()
    open_keys = {(t["origin"], t["index"]) for t in opened}
    assert (us.origin, test["index"]) in open_keys and (us.origin, notice["index"]) not in open_keys
    assert all(any(o["met_at"] is None for o in t["obligations"]) for t in opened)
    page = us.api("GET", "/api/v1/inbox", params={"limit": 1, "offset": 1})
    assert page.headers["X-Total-Count"] == str(total)
    assert [(t["origin"], t["index"]) for t in page.json()] == keys[1:2]
    bad = us.api("GET", "/api/v1/inbox", params={"limit": 0})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


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
        {"type": "detente.dev/hotline-message/v1", "to": ["cn"], "body": {"priority": "flash", "topic": "crisis"}},
        {"type": "detente.dev/hotline-mesage/v1", "body": {}},  # not in the catalogue
        {
            "type": "detente.dev/statement/v1",
            "text": {"original": {"lang": "en", "text": "x" * 70_000}},
        },
    ]
    for payload in cases:
        resp = us.api("POST", "/api/v1/records", json=payload)
        assert resp.status_code in (400, 413, 422), (payload, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"]
    # A TLP:RED record is sealed to its recipients (docs/sealed.md): one that names none is refused.
    red = us.api("POST", "/api/v1/records", json={"type": "detente.dev/statement/v1", "tlp": "TLP:RED"})
    assert red.status_code == 422 and "TLP:RED" in red.json()["detail"] and red.json()["hint"]
    raw = us.api(
        "POST", "/api/v1/records", content=b'{"type": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert raw.status_code in (400, 422)
    assert us.api("POST", f"/api/v1/threads/{us.origin}/0/ack", json={}).status_code == 404
    assert us.status()["size"] == size


def test_withheld_quota_is_enforced_at_send_and_code_words_are_expanded(make_node) -> None:
    us = make_node("us")
    us.use_agreement({"withheld_per_year": 1, "codes": {"BLUEFIN": "link test, no action needed / 链路测试，无需行动"}})
    us.pin(make_node("cn"))  # a recipient must be a pinned peer; cn need not run
    us.start()
    withheld = {
        "category": "frontier-model-evaluation",
        "reason_class": "national-security",
        "occurred": "2026-11-01T00:00:00Z",
    }
    payload = {"type": "detente.dev/withheld-notification/v1", "body": withheld}
    assert us.api("POST", "/api/v1/records", json=payload).status_code == 201
    size = us.status()["size"]
    refused = us.api("POST", "/api/v1/records", json=payload)
    assert refused.status_code == 409 and refused.json()["code"] == "quota-exceeded", refused.text
    assert "allows 1 a year" in refused.json()["detail"] and "over_quota" in refused.json()["hint"]
    assert us.status()["size"] == size  # nothing written
    over = {**payload, "body": {**withheld, "over_quota": True}}
    assert us.api("POST", "/api/v1/records", json=over).status_code == 201
    year = datetime.now(UTC).year
    assert us.status()["quota_findings"] == [{"party": us.origin, "year": year, "withheld": 2, "limit": 1}]

    msg = us.send(
        "detente.dev/hotline-message/v1",
        "BLUEFIN-1",
        to=["cn.detente.example/log"],
        body={"priority": "routine", "topic": "urgent-concern", "code": "BLUEFIN-1"},
    )
    thread = us.thread(us.origin, msg["index"])
    assert thread["code"] == "BLUEFIN-1" and thread["code_meaning"].startswith("link test")


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


def test_cli_withheld_notice_needs_no_recipients_and_every_inbox_shows_the_quota_excess(make_node, wait) -> None:
    import os
    import subprocess
    import sys

    us, cn = make_node("us"), make_node("cn")
    agreement = {"withheld_per_year": 1, "codes": {"AMBER": "stand by / 待命", "AMBER-7": "drill over / 演习结束"}}
    for n in (us, cn):
        n.use_agreement(agreement)
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
            env={**os.environ, "DETENTE_TOKEN": node.token, "COLUMNS": "1000"},
        )

    withheld = ["notice", "send", "withheld-notification", "--text", "A test was not notified"]
    withheld += ["-f", "category=frontier-model-evaluation", "-f", "reason_class=national-security"]
    withheld += ["-f", "occurred=2026-11-01T00:00:00Z"]
    first = cli(us, *withheld)  # no --to: the catalogue does not address this type
    assert first.returncode == 0, first.stderr
    refused = cli(us, *withheld)
    assert refused.returncode != 0 and "allows 1 a year" in refused.stderr and "over_quota" in refused.stderr
    over = cli(us, *withheld, "-f", "over_quota=true")
    assert over.returncode == 0, over.stderr
    first_index, over_index = json.loads(first.stdout)["index"], json.loads(over.stdout)["index"]
    coded = cli(us, "notice", "send", "hotline-message", "--text", "AMBER-3", "--to", cn.origin,
                "-f", "priority=routine", "-f", "topic=urgent-concern", "-f", "code=AMBER-3")  # fmt: skip
    assert coded.returncode == 0, coded.stderr
    coded_index = json.loads(coded.stdout)["index"]

    def row(node, index: int) -> dict:  # type: ignore[no-untyped-def,type-arg]
        rows = json.loads(cli(node, "inbox", "--json").stdout)
        return next((t for t in rows if t["origin"] == us.origin and t["index"] == index), {})

    wait("cn to mirror us's notices", lambda: bool(row(cn, over_index)) and bool(row(cn, coded_index)))
    for node in (us, cn):  # the sender sees its excess, and so does every other party
        excess = row(node, over_index)
        assert excess["to"] == [] and excess["obligations"] == [] and excess["findings"] == ["over-quota"]
        assert excess["quota"] | {"year": 0} == {
            "party": us.origin, "year": 0, "number": 2, "limit": 1, "over_quota": True,
        }  # fmt: skip
        assert row(node, first_index)["quota"]["over_quota"] is False
        year = excess["quota"]["year"]
        table = cli(node, "inbox")
        assert table.returncode == 0, table.stderr
        line = next(x for x in table.stdout.splitlines() if f"{us.origin}#{over_index} " in x)
        assert f"OVER QUOTA: us.detente.example's withheld notice 2 of {year}, the agreement allows 1 a year" in line
        assert "us.detente.example → every party" in line
        first_line = next(x for x in table.stdout.splitlines() if f"{us.origin}#{first_index} " in x)
        assert "OVER QUOTA" not in first_line
    hotline = row(cn, coded_index)
    assert (hotline["code_matched"], hotline["code_meaning"]) == ("AMBER", "stand by / 待命")
    line = next(x for x in cli(cn, "inbox").stdout.splitlines() if f"{us.origin}#{coded_index} " in x)
    assert "AMBER-3 → AMBER: stand by / 待命" in line


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


def test_email_alerts_through_a_real_smtp_server(make_node, wait, mail_server) -> None:
    us, cn = make_node("us"), make_node("cn")
    mail_server.use_for(cn, alert_to="watch@cn.example")
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

    def arrivals() -> list:  # type: ignore[type-arg]
        return [m for m in mail_server.messages if str(m["Subject"]).startswith("[detente] arrival / 收到")]

    wait("the e-mail alert", lambda: bool(arrivals()), timeout=30)
    mail = arrivals()[0]
    assert mail["To"] == "watch@cn.example"
    text = mail.get_content()
    assert f"index: {msg['index']}" in text
    assert '"payloadType":"application/vnd.detente.alert+json"' in text


def test_the_escalation_ladder_is_carried_out(make_node, wait, mail_server) -> None:
    """Resend, a second channel (e-mail to the contact the agreement names), then a
    clarification request and a consultation request that cn must answer in their own right."""
    from detente.crypto.dsse import Envelope
    from detente.crypto.keys import VerifierKey
    from detente.records.entry import open_entry

    us, cn = make_node("us"), make_node("cn")
    ladder = {
        **SHORT,
        "escalation": [
            {"action": "resend", "after": 0},
            {"action": "second-channel", "after": 0.5},
            {"action": "clarification-request", "after": 1},
            {"action": "consultation-meeting-request", "after": 1.5},
        ],
        "contacts": {cn.origin: {"email": "duty@cn.example"}},
    }
    us.use_agreement(ladder)
    cn.use_agreement(ladder)
    mail_server.use_for(us)
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    test = us.send("detente.dev/link-test/v1", "The quick brown fox 1234567890", to=[cn.origin])

    def escalations() -> dict[int, dict]:  # type: ignore[type-arg]
        rows = us.api("GET", "/api/v1/records", params={"limit": 1000}).json()
        return {
            r["record"]["body"]["step"]: r["record"] for r in rows if r["record"]["type"] == "detente.dev/escalation/v1"
        }

    wait("all four escalation steps", lambda: len(escalations()) == 4, timeout=40)
    steps = escalations()
    assert all(s["refs"][0]["leaf_hash"] == test["leaf_hash"] for s in steps.values())
    assert (
        steps[1]["body"]["outcome"].startswith("resent: pushed checkpoint")
        and "HTTP 200" in steps[1]["body"]["outcome"]
    )
    assert steps[2]["body"]["outcome"] == f"second channel: e-mailed duty@cn.example via {mail_server.url}"
    assert steps[3]["body"]["outcome"].startswith("sent detente.dev/clarification-request/v1 as ")
    assert steps[4]["body"]["outcome"].startswith("sent detente.dev/consultation-meeting-request/v1 as ")

    # The second channel carried the record itself, signed by us: cn's duty officers can check it.
    mail = next(m for m in mail_server.messages if m["To"] == "duty@cn.example")
    assert "未答复" in str(mail["Subject"])
    envelope = mail.get_content().replace("\r\n", "\n").split("signed by the sender's log key):\n", 1)[1].strip()
    opened = open_entry(envelope.encode(), [VerifierKey.parse(us.vkey)])
    assert opened.leaf_hash.hex() == test["leaf_hash"]
    assert Envelope.from_json(envelope.encode()).payload_type

    # The requests the ladder sent reach cn as threads of their own, with deadlines, in both languages.
    def requests() -> list[dict]:  # type: ignore[type-arg]
        inbox = cn.api("GET", "/api/v1/inbox").json()
        return [t for t in inbox if t["incoming"] and t["type"].split("/")[1].endswith("request")]

    wait("the requests in cn's inbox", lambda: len(requests()) == 2)
    for thread in requests():
        assert thread["text"]["translations"]["zh"].startswith("请确认收到并答复")
        assert any(o["kind"] == "response" for o in thread["obligations"])
