"""Takedowns and evaluations on sealed bodies between real nodes (issue #24): what the media and
eval desks read from a record's body is read through the SealDesk when the record is sealed to the
node (TLP:AMBER), and is a clear, non-fatal finding otherwise (TLP:RED through a view any role
reads; a body this node cannot open) — never a 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from detente.node.localnet import LocalNode

WAIT = 90.0
TAKEDOWN = "detente.dev/takedown-request/v1"
EVAL_RESULT = "detente.dev/eval-result/v1"
URL = "https://video.example/watch?v=secret-clip-7781"


def _send(node: LocalNode, record_type: str, to: str, tlp: str, body: dict[str, Any]) -> int:
    resp = node.api("POST", "/api/v1/records", json={"type": record_type, "to": [to], "tlp": tlp, "body": body})
    assert resp.status_code == 201, resp.text
    return int(resp.json()["index"])


def _takedown(url: str) -> dict[str, Any]:
    return {"content_sha256": "ab" * 32, "url": url, "platform": "video.example", "category": "deepfake-impersonation",
            "legal_basis": "Measures for Labeling AI-Generated Content, art. 4"}  # fmt: skip


def test_takedowns_and_eval_results_sealed_to_a_node_are_read_there(
    make_node: Callable[..., LocalNode], wait: Callable[..., None]
) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    through_api = {"to": "cn", "tlp": "TLP:AMBER", "request": _takedown(URL + "-api"),
                   "text": {"original": {"lang": "en", "text": "An unlabeled clip of a minister"}}}  # fmt: skip
    size = us.status()["size"]
    keyless = us.api("POST", "/api/v1/takedowns", json=through_api)  # refused before signing: cn has no key
    assert keyless.status_code == 422 and "published no encryption key" in keyless.json()["detail"], keyless.text
    assert "detente key encryption" in keyless.json()["hint"] and us.status()["size"] == size
    clip = Path(us.directory) / "clip.txt"
    clip.write_text("an unlabeled clip")
    by_cli = subprocess.run(  # the CLI's --tlp reaches the node: refused alike, nothing signed
        [sys.executable, "-m", "detente", "takedown", "request", "cn", "--file", str(clip), "--url", URL + "-cli",
         "--platform", "video.example", "--category", "deepfake-impersonation", "--legal-basis", "art. 4",
         "--text", "An unlabeled clip", "--tlp", "TLP:AMBER", "-n", str(us.directory)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "DETENTE_TOKEN": us.token},
    )  # fmt: skip
    assert by_cli.returncode != 0 and "published no encryption key" in by_cli.stderr, by_cli.stderr
    assert us.status()["size"] == size
    key = cn.api("POST", "/api/v1/keys/encryption").json()["key_id"]
    wait("cn's key at us", lambda: us.api("GET", "/api/v1/keys/encryption").json()["published"].get(cn.origin)
         == key, timeout=WAIT)  # fmt: skip
    api_sent = us.api("POST", "/api/v1/takedowns", json=through_api)
    assert api_sent.status_code == 201 and api_sent.json()["tlp"] == "TLP:AMBER", api_sent.text
    api_index = api_sent.json()["index"]
    logged = us.api("GET", "/api/v1/records", params={"start": api_index, "limit": 1}).json()[0]["record"]
    assert logged["tlp"] == "TLP:AMBER" and "sealed" in logged and URL.encode() not in json.dumps(logged).encode()
    mine = {t["index"]: t for t in us.api("GET", "/api/v1/takedowns").json() if t["origin"] == us.origin}
    assert mine[api_index]["url"] == URL + "-api"  # us sealed it to its own key too, and reads it back
    amber = _send(us, TAKEDOWN, cn.origin, "TLP:AMBER", _takedown(URL))
    red = _send(us, TAKEDOWN, cn.origin, "TLP:RED", _takedown(URL + "-red"))
    result = _send(us, EVAL_RESULT, cn.origin, "TLP:AMBER", {"envelope": {"payload": "e30="}, "sample_count": 1})
    size = us.status()["size"]
    wait("cn mirrors us", lambda: next(p for p in cn.status()["peers"] if p["name"] == "us")["mirrored_size"]
         >= size, timeout=WAIT)  # fmt: skip

    listed = cn.api("GET", "/api/v1/takedowns")
    assert listed.status_code == 200, listed.text
    by_index = {t["index"]: t for t in listed.json() if t["origin"] == us.origin}
    assert by_index[amber]["url"] == URL and by_index[amber]["tlp"] == "TLP:AMBER"  # opened through the SealDesk
    assert "sealed_problem" not in by_index[amber]
    assert by_index[api_index]["url"] == URL + "-api" and by_index[api_index]["tlp"] == "TLP:AMBER"
    assert by_index[red]["tlp"] == "TLP:RED" and "url" not in by_index[red]  # a view every role reads: not RED
    assert "TLP:RED" in by_index[red]["sealed_problem"] and by_index[red]["states"] == {cn.origin: "received"}
    respond = cn.api("POST", "/api/v1/takedowns/response", json={"origin": us.origin, "index": amber,
                     "response": {"action": "acted", "measures": ["removed"]}})  # fmt: skip
    assert respond.status_code == 201, respond.text

    evals = cn.api("GET", "/api/v1/evals")
    assert evals.status_code == 200, evals.text  # a sealed body once made this a KeyError
    entry = next(e for e in evals.json() if e["origin"] == us.origin and e["index"] == result)
    assert entry["verified"] is False and "sealed" not in entry["problem"], entry  # opened, then judged
    shown = cn.api("GET", "/api/v1/evals/result", params={"origin": us.origin, "index": result})
    assert shown.status_code in (400, 422) and shown.headers["content-type"] == "application/problem+json"
