"""The CLI against a real node process (issue #20): a misspelt type, a recipient that is not a
pinned peer and a body with schema errors each end with ``detente: error:`` and a hint, and the
node's log is the same size afterwards; a peer's short name is resolved to its origin."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import detente.console
from detente.node.localnet import LocalNode

RENDER = Path(__file__).parent.parent / "console" / "render_thread.js"
STATIC = Path(detente.console.__file__).parent / "static"
EXAMPLES = Path(__file__).parent.parent.parent / "examples"


def _cli(node: LocalNode, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "detente", *args, "-n", str(node.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DETENTE_TOKEN": node.token, "COLUMNS": "200"},
    )


def _console_rows(node: LocalNode) -> dict[str, list[str]]:
    """The text of each inbox row as the console's own ``threadItem`` renders it, in English and
    Chinese (Node.js runs console.js on a DOM stand-in; see tests/console/render_thread.js)."""
    runtime = shutil.which("node")
    assert runtime is not None, "Node.js runs console.js here (apt-get install nodejs)"
    payload: dict[str, Any] = {
        "source": (STATIC / "console.js").read_text(),
        "strings": json.loads((STATIC / "i18n.json").read_text()),
        "me": node.api("GET", "/api/v1/whoami").json(),
        "threads": node.api("GET", "/api/v1/inbox").json(),
    }
    done = subprocess.run(
        [runtime, str(RENDER)], input=json.dumps(payload), capture_output=True, text=True, timeout=60, check=True
    )
    rows: dict[str, list[str]] = json.loads(done.stdout)
    return rows


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


def test_a_text_in_another_script_than_its_language_is_refused_unless_forced(make_node) -> None:  # type: ignore[no-untyped-def]
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    us.start()
    fields = ["-f", "priority=routine", "-f", "topic=urgent-concern"]
    before = _size(us)

    han_as_en = _cli(us, "notice", "send", "hotline-message", "--text", "请回电", "--to", "cn", *fields)
    assert han_as_en.returncode == 2, han_as_en.stderr
    assert "detente: error: the original is marked en but written mostly in Han script" in han_as_en.stderr
    assert "detente: hint: set the right language with --lang" in han_as_en.stderr
    assert "--force-lang" in han_as_en.stderr and "Traceback" not in han_as_en.stderr
    latin_as_zh = _cli(
        us, "notice", "send", "hotline-message", "--text", "call us", "--lang", "zh", "--to", "cn", *fields
    )
    assert latin_as_zh.returncode == 2, latin_as_zh.stderr
    assert "marked zh but written in Latin script" in latin_as_zh.stderr
    bad_translation = _cli(
        us, "notice", "send", "hotline-message", "--text", "call us", "-t", "zh=call us", "--to", "cn", *fields
    )
    assert bad_translation.returncode == 2 and "the zh translation is marked zh" in bad_translation.stderr

    # the API refuses it alike (the console and scripts go through it), naming its own fields
    text = {"original": {"lang": "en", "text": "请回电"}, "translations": {}}
    body = {"priority": "routine", "topic": "urgent-concern"}
    payload = {"type": "detente.dev/hotline-message/v1", "to": ["cn"], "body": body, "text": text}
    api = us.api("POST", "/api/v1/records", json=payload)
    assert api.status_code == 422 and api.json()["code"] == "language-mismatch"
    assert '"force_lang": true' in api.json()["hint"] and "text.original.lang" in api.json()["hint"]
    assert _size(us) == before  # nothing signed

    # a Chinese text quoting a code, or an English one quoting a Chinese name, is fine
    fine = _cli(us, "notice", "send", "hotline-message", "--text", "AMBER-7：请回电", "--lang", "zh-Hans", "--to", "cn",
                *fields)  # fmt: skip
    assert fine.returncode == 0, fine.stderr
    forced = _cli(us, "notice", "send", "hotline-message", "--text", "请回电", "--force-lang", "--to", "cn", *fields)
    assert forced.returncode == 0, forced.stderr
    assert us.api("POST", "/api/v1/records", json=payload | {"force_lang": True}).status_code == 201
    assert _size(us) == before + 3


def test_replies_reach_the_sender_and_a_thread_is_answered_once(make_node, wait) -> None:  # type: ignore[no-untyped-def]
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    flash = us.send(
        "detente.dev/hotline-message/v1",
        "Urgent: call the duty officer.",
        translations={"zh-Hans": "紧急：请致电值班员。"},
        body={"priority": "flash", "topic": "urgent-concern"},
        to=[cn.origin],
    )
    question = us.send(
        "detente.dev/clarification-request/v1",
        "What was tested on cluster 7?",
        body={"question": "What was tested on cluster 7?"},
        to=[cn.origin],
    )
    wait("the records at cn", lambda: bool(cn.thread(us.origin, question["index"])))

    # the inbox piped (no colour, a narrow terminal): priority, urgency in words, text, whole IDs
    table = _cli(cn, "inbox")
    assert table.returncode == 0, table.stderr
    flash_id = f"{us.origin}#{flash['index']}"
    assert flash_id in table.stdout and "URGENT" in table.stdout and "FLASH" in table.stdout
    assert "call the duty officer" in table.stdout
    narrow = subprocess.run(
        [sys.executable, "-m", "detente", "inbox", "-n", str(cn.directory)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "DETENTE_TOKEN": cn.token, "COLUMNS": "60"},
    )  # fmt: skip
    assert narrow.returncode == 0 and flash_id in narrow.stdout and "URGENT" in narrow.stdout

    mistagged = {"original": {"lang": "en", "text": "已阅"}}  # an acknowledgement's text is checked too
    refused = cn.api("POST", f"/api/v1/threads/{us.origin}/{flash['index']}/ack", json={"text": mistagged})
    assert refused.status_code == 422 and refused.json()["code"] == "language-mismatch"

    short = f"{us.origin.split('/')[0]}#{flash['index']}"  # a key as incident search prints them
    acked = _cli(cn, "ack", short, "--note", "已阅 / noted")
    assert acked.returncode == 0, acked.stderr
    ack_id = f"{cn.origin}#{json.loads(acked.stdout)['index']}"
    answered = _cli(cn, "ack", f"{us.origin}#{question['index']}", "--answer", "A language model, 模型评估.")
    assert answered.returncode == 0, answered.stderr
    answer_id = f"{cn.origin}#{json.loads(answered.stdout)['index']}"
    before = _size(cn)

    again = _cli(cn, "ack", flash_id, "--note", "again")
    assert again.returncode == 2, again.stderr
    assert f"detente: error: {flash_id} is already acknowledged by {cn.origin} as {ack_id}" in again.stderr
    assert "detente: hint: see the reply with: detente inbox --json" in again.stderr
    twice = _cli(cn, "ack", f"{us.origin}#{question['index']}", "--answer", "again")
    assert twice.returncode == 2 and f"already answered by {cn.origin} as {answer_id}" in twice.stderr
    late = _cli(cn, "ack", f"{us.origin}#{question['index']}", "--note", "seen")  # an ack after the answer
    assert late.returncode == 2 and "already answered" in late.stderr
    api = cn.api("POST", f"/api/v1/threads/{us.origin}/{flash['index']}/ack", json={"note": "x"})
    assert api.status_code == 409 and api.json()["code"] == "already-answered"
    assert _size(cn) == before  # nothing signed

    def replies_at_us() -> list[dict[str, object]]:
        return list(us.thread(us.origin, question["index"]).get("replies", []))

    wait("the answer at us", lambda: bool(replies_at_us()))
    wait("the note at us", lambda: bool(us.thread(us.origin, flash["index"]).get("replies")))
    (note,) = us.thread(us.origin, flash["index"])["replies"]
    assert note["id"] == ack_id and note["kind"] == "acknowledgement" and note["note"] == "已阅 / noted"
    (answer,) = replies_at_us()
    assert answer["id"] == answer_id and answer["answer"] == "A language model, 模型评估."
    assert us.thread(us.origin, flash["index"])["id"] == flash_id
    as_json = json.loads(_cli(us, "inbox", "--json").stdout)
    assert {r["id"] for t in as_json for r in t["replies"]} == {ack_id, answer_id}
    shown = _cli(us, "inbox")
    assert "已阅 / noted" in shown.stdout and "模型评估" in shown.stdout
    assert ack_id in shown.stdout.replace("\n", "").replace("│", "").replace(" ", "") or ack_id in shown.stdout
    rows = _console_rows(us)
    en = next(r for r in rows["en"] if "call the duty officer" in r)
    zh = next(r for r in rows["zh"] if "请致电值班员" in r)
    assert f"Acknowledged by cn, record {ack_id}" in en and "已阅 / noted" in en and f"record {flash_id}" in en
    assert f"已确认收悉 cn，记录 {ack_id}" in zh and "已阅 / noted" in zh and f"记录 {flash_id}" in zh
    assert any(f"Answer by cn, record {answer_id}" in r and "模型评估" in r for r in rows["en"])
    assert any(f"答复 cn，记录 {answer_id}" in r for r in rows["zh"])


def _report(incident_id: str, words: str) -> dict[str, Any]:
    """The example initial report (examples/incidents), as ``incident_id``, in Chinese only (the
    lexical signal alone decides its suggestions), and not critical infrastructure."""
    report: dict[str, Any] = json.loads((EXAMPLES / "incidents" / "report-initial.json").read_text())
    text = {"original": {"lang": "zh-Hans", "text": words}}
    return report | {"incident_id": incident_id, "title": text, "description": text, "critical_infrastructure": False}


def test_printed_incident_keys_are_accepted_and_duplicate_suggestions_are_symmetric(make_node, tmp_path) -> None:  # type: ignore[no-untyped-def]
    us = make_node("us")
    us.start()
    # A's nearest is C; B's nearest is A (Jaccard: A–C 6/7, A–B 3/8, B–C 3/9)
    reports = {
        "us-2026-0001": "电网 调度 负荷 预测 故障 过载",  # A
        "us-2026-0002": "电网 调度 负荷 预测 故障 过载 变电",  # C
        "us-2026-0003": "电网 调度 负荷 火灾 洪水",  # B
    }
    filed = {}
    for ident, words in reports.items():
        path = tmp_path / f"{ident}.json"
        path.write_text(json.dumps(_report(ident, words), ensure_ascii=False))
        done = _cli(us, "incident", "file", str(path))
        assert done.returncode == 0, done.stderr
        filed[ident] = json.loads(done.stdout)
    assert filed["us-2026-0003"]["possible_duplicates"][0]["incident_id"] == "us-2026-0001"

    listed = _cli(us, "incident", "search", "电网")
    assert listed.returncode == 0, listed.stderr
    short = f"{us.origin.split('/')[0]}#us-2026-0001"  # the key as search prints it
    assert short in listed.stdout and f"{us.origin}#" not in listed.stdout
    shown = _cli(us, "incident", "show", short)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["origin"] == us.origin
    by_name = _cli(us, "incident", "show", "us#us-2026-0001")  # the party's short name
    assert by_name.returncode == 0, by_name.stderr

    similar = _cli(us, "incident", "similar", short, "--limit", "1")
    assert similar.returncode == 0, similar.stderr
    ids = [s["incident_id"] for s in json.loads(similar.stdout)]
    assert ids == ["us-2026-0002", "us-2026-0003"]  # its nearest, and B, whose filing suggested A

    linked = _cli(us, "incident", "link", short, "related-to", f"{us.origin.split('/')[0]}#us-2026-0003")
    assert linked.returncode == 0, linked.stderr
    index = json.loads(linked.stdout)["index"]
    record = us.api("GET", "/api/v1/records", params={"start": index, "limit": 1}).json()[0]["record"]
    assert record["body"]["source"]["origin"] == us.origin == record["body"]["target"]["origin"]
    unknown = _cli(us, "incident", "show", "nowhere.example#us-2026-0001")
    assert unknown.returncode != 0 and "detente: error: no incident nowhere.example#us-2026-0001" in unknown.stderr


def _serve(node: LocalNode) -> subprocess.CompletedProcess[str]:
    """``detente serve`` that is expected to end by itself (refused); a bounded wait, no sleep."""
    return subprocess.run(
        [sys.executable, "-m", "detente", "serve", "-n", str(node.directory)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_refuses_a_port_in_use_and_a_store_another_serve_holds(make_node, tmp_path) -> None:  # type: ignore[no-untyped-def]
    us = make_node("us")
    cn = make_node("cn")
    us.start()
    assert "detente: console " + us.url + "/console/" in (us.directory / "serve.log").read_text()
    before, rejected = _size(us), us.api("GET", "/api/v1/metrics").json()["rejections"]

    second = _serve(us)  # the same folder, so the same store
    assert second.returncode == 3, second.stderr
    assert "detente: error: the store (" in second.stderr and "is held by another detente serve" in second.stderr
    assert "detente: hint: one serve per store" in second.stderr and "Traceback" not in second.stderr

    # cn on us's port: refused before its node starts, so it pushes nothing to us (its peer)
    config = cn.directory / "detente.toml"
    config.write_text(config.read_text().replace(f"127.0.0.1:{cn.port}", f"127.0.0.1:{us.port}"))
    cn.pin(us)
    taken = _serve(cn)
    assert taken.returncode == 3, taken.stderr
    assert f"detente: error: 127.0.0.1:{us.port} is in use by another process; the node was not started" in (
        taken.stderr
    )
    assert (
        f"detente: hint: stop that process (another detente serve?), or choose a free port for listen in {config}"
        in (taken.stderr)
    )
    assert "detente: console" not in taken.stderr
    assert us.api("GET", "/api/v1/metrics").json()["rejections"] == rejected  # nothing reached us
    assert _size(us) == before and us.api("GET", "/healthz").json()["ok"]


def test_init_refuses_an_invalid_port_and_creates_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for listen in ("127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1", "127.0.0.1:http", ":8441"):
        folder = tmp_path / "node"
        done = subprocess.run(
            [sys.executable, "-m", "detente", "init", str(folder), "--name", "us", "--origin", "us.example/log",
             "--listen", listen],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, (listen, done.stderr)
        assert f"detente: error: --listen {listen!r} is not host:port with a port from 1 to 65535" in done.stderr
        assert "detente: hint: e.g. --listen 127.0.0.1:8441" in done.stderr
        assert not folder.exists()
