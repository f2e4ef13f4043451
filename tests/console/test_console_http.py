"""The console over plain HTTP against a real node: static files with their content types and a
strict CSP, the event stream's token check, who-am-I, the audit's role, and the strings."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import detente.console
from detente.protocol.threads import TIME_CLAIM

STATIC = Path(detente.console.__file__).parent / "static"


def _next_event(lines: Iterator[str]) -> tuple[str, dict[str, Any]]:
    """The next Server-Sent Event with a name: (event, parsed data)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "event" in fields:
                return fields["event"], json.loads(fields["data"])
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
    raise AssertionError("the stream ended")


def test_static_files_are_served_with_a_strict_content_security_policy(make_node) -> None:
    us = make_node("us")
    us.start()
    expected = {
        "/console": "text/html",
        "/console/console.js": "text/javascript",
        "/console/console.css": "text/css",
        "/console/i18n.json": "application/json",
    }
    for path, media_type in expected.items():
        resp = httpx.get(us.url + path, timeout=10)  # no token: the page itself is public
        assert resp.status_code == 200, path
        assert resp.headers["content-type"].startswith(media_type), (path, resp.headers["content-type"])
        csp = resp.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.content == (STATIC / ("index.html" if path == "/console" else path.rsplit("/", 1)[1])).read_bytes()
    assert httpx.get(us.url + "/console/", timeout=10).status_code == 308
    for missing in ("/console/nope.js", "/console/..%2Fapp.py", "/console/__init__.py"):
        resp = httpx.get(us.url + missing, timeout=10)
        assert resp.status_code == 404 and resp.headers["content-type"] == "application/problem+json", missing

    html = (STATIC / "index.html").read_text()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/console/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in html and not re.search(r"\s(style|on[a-z]+)\s*=", html)
    for name in ("index.html", "console.js", "console.css"):  # nothing is fetched from elsewhere
        assert not re.search(r"https?://", (STATIC / name).read_text()), name


def test_every_string_the_console_uses_exists_in_english_and_chinese() -> None:
    strings = json.loads((STATIC / "i18n.json").read_text())
    assert set(strings) == {"en", "zh"}
    assert set(strings["en"]) == set(strings["zh"])
    assert all(v.strip() for lang in strings.values() for v in lang.values())
    html = (STATIC / "index.html").read_text()
    js = (STATIC / "console.js").read_text()
    used = set(re.findall(r'data-i18n="([^"]+)"', html)) | set(re.findall(r'\bt\("([a-z_.-]+)"', js))
    used |= {k for a, b in re.findall(r'\bt\(\w[^?()]*\? "([a-z_.]+)" : "([a-z_.]+)"', js) for k in (a, b)}
    assert len(used) > 150
    assert not used - set(strings["en"]), sorted(used - set(strings["en"]))
    for key in ("state.sent", "state.received", "state.answered", "priority.flash", "role.officer"):
        assert key in strings["en"]  # the ones the script builds from API values
    # every finding code the protocol reports, and every reason a recipient has not answered, is a
    # sentence in both languages (the console says what it means and what to do)
    codes = ["unknown-code", "late-notice", "human-control", "moratorium", "moratorium-review", TIME_CLAIM]
    reasons = ["unreachable", "not-received", "received-not-answered"]
    for key in [f"finding.{c}" for c in codes] + [f"unanswered.{r}" for r in reasons]:
        assert key in strings["en"] and key in strings["zh"], key
    assert "docs/time.md" in strings["en"][f"finding.{TIME_CLAIM}"]
    assert "docs/time.md" in strings["zh"][f"finding.{TIME_CLAIM}"]


def test_events_refuse_a_missing_or_bad_token_and_stream_the_inbox_digest(make_node) -> None:
    us = make_node("us")
    us.start()
    viewer = us.api("POST", "/api/v1/tokens", json={"role": "viewer", "label": "night desk"}).json()["token"]
    for params in ({}, {"token": "dtk_000000000000_wrong"}, {"token": "not-a-token"}):
        resp = httpx.get(us.url + "/api/v1/events", params=params, timeout=10)
        assert resp.status_code == 401 and resp.json()["code"] == "unauthorized", params
    revoked = us.api("POST", "/api/v1/tokens", json={"role": "viewer"}).json()["token"]
    assert us.api("DELETE", f"/api/v1/tokens/{revoked.split('_')[1]}").status_code == 200
    resp = httpx.get(us.url + "/api/v1/events", params={"token": revoked}, timeout=10)
    assert resp.status_code == 401 and "revoked" in resp.json()["detail"]

    with httpx.stream("GET", us.url + "/api/v1/events", params={"token": viewer}, timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        event, data = _next_event(lines)
        assert event == "inbox"
        assert data["sizes"] == {us.origin: us.status()["size"]}
        first = data["digest"]
        us.send("detente.dev/statement/v1", "A new record changes the digest")
        event, data = _next_event(lines)
        assert event == "inbox" and data["digest"] != first
        assert data["sizes"][us.origin] == us.status()["size"]

    # The header works too, and the rest of the API still refuses ?token=.
    with httpx.stream("GET", us.url + "/api/v1/events", headers={"Authorization": f"Bearer {viewer}"}) as stream:
        assert stream.status_code == 200
    assert httpx.get(us.url + "/api/v1/inbox", params={"token": viewer}).status_code == 401

    me = us.api("GET", "/api/v1/whoami", token=viewer).json()
    assert me["role"] == "viewer" and me["label"] == "night desk" and me["origin"] == us.origin
    assert viewer.startswith(f"dtk_{me['token_id']}_")
    refused = us.api("POST", "/api/v1/audit", token=viewer)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def _render(threads: list[dict[str, Any]], me: dict[str, Any]) -> dict[str, list[str]]:
    """The text of each inbox row as the console's own ``threadItem`` renders it, in English and
    Chinese (Node.js runs console.js on a minimal DOM stand-in: ``render_thread.js``)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no Node.js to run console.js (apt-get install nodejs)")
    source = (STATIC / "console.js").read_text()
    strings = json.loads((STATIC / "i18n.json").read_text())
    payload = json.dumps({"source": source, "strings": strings, "me": me, "threads": threads})
    done = subprocess.run(
        [node, str(Path(__file__).parent / "render_thread.js")],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rendered: dict[str, list[str]] = json.loads(done.stdout)
    return rendered


def test_inbox_rows_show_quota_excesses_and_which_code_matched_in_both_languages(make_node) -> None:
    us = make_node("us")
    us.use_agreement(
        {"withheld_per_year": 1, "codes": {"AMBER": "stand by / 待命", "AMBER-7": "drill over / 演习结束"}}
    )
    us.pin(make_node("cn"))  # a recipient must be a pinned peer; cn need not run
    us.start()
    withheld = {
        "category": "frontier-model-evaluation",
        "reason_class": "national-security",
        "occurred": "2026-11-01T00:00:00Z",
    }
    first = us.send("detente.dev/withheld-notification/v1", "withheld", body=withheld)
    over = us.send("detente.dev/withheld-notification/v1", "withheld", body={**withheld, "over_quota": True})
    cn = "cn.detente.example/log"
    hotline = {"priority": "routine", "topic": "urgent-concern"}
    word = us.send("detente.dev/hotline-message/v1", "AMBER-3", to=[cn], body={**hotline, "code": "AMBER-3"})
    full = us.send("detente.dev/hotline-message/v1", "AMBER-7", to=[cn], body={**hotline, "code": "AMBER-7"})

    rows = {t["index"]: t for t in us.api("GET", "/api/v1/inbox").json()}
    year = int(rows[over["index"]]["issued"][:4])
    assert rows[over["index"]]["quota"] == {
        "party": us.origin,
        "year": year,
        "number": 2,
        "limit": 1,
        "over_quota": True,
    }
    assert rows[over["index"]]["findings"] == ["over-quota"]
    assert rows[first["index"]]["quota"]["over_quota"] is False and rows[first["index"]]["findings"] == []
    assert (rows[word["index"]]["code_matched"], rows[word["index"]]["code_meaning"]) == ("AMBER", "stand by / 待命")
    assert (rows[full["index"]]["code_matched"], rows[full["index"]]["code_meaning"]) == (
        "AMBER-7",
        "drill over / 演习结束",
    )

    me = us.api("GET", "/api/v1/whoami").json()
    order = [over["index"], first["index"], word["index"], full["index"]]
    text = _render([rows[i] for i in order], me)
    en, zh = ({i: row for i, row in zip(order, text[lang], strict=True)} for lang in ("en", "zh"))
    assert f"over quota us's withheld notice no. 2 of {year}; the agreement allows 1 a year." in en[over["index"]]
    assert f"超出配额 us 在 {year} 年的第 2 份不予通报记录；协议每年允许 1 份。" in zh[over["index"]]
    assert "over quota" not in en[first["index"]] and "超出配额" not in zh[first["index"]]
    assert "to every party" in en[first["index"]] and "发往各方" in zh[first["index"]]
    assert "Code AMBER-3 — the agreement defines its code word AMBER: stand by / 待命" in en[word["index"]]
    assert "代码 AMBER-3 — 协议定义的是其代码词 AMBER：stand by / 待命" in zh[word["index"]]
    assert "Code AMBER-7: drill over / 演习结束" in en[full["index"]]
