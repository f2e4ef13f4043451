"""Sealed records between real nodes (issue #24): a TLP:AMBER hotline message from us to cn that cn
reads, that neither us's node nor an outside auditor can read, whose deadlines still run; a
disclosure an auditor verifies and a forged one it refuses; key rotation; TLP:RED for officers
only; no API answer to a non-recipient holds a byte of the sealed content."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from detente.crypto.canonical import canonical_json
from detente.errors import VerificationError
from detente.node.auditor import check_disclosure, run_audit
from detente.node.client import PeerClient
from detente.tlog.policy import parse_policy

SECRET = "Weights of model K-7 copied off-site from facility 12 at 03:10 UTC"
SECRET_ZH = "K-7模型权重于03:10从12号设施被复制外传"
HOTLINE = "detente.dev/hotline-message/v1"


def _sealed(node, to: str, tlp: str, text: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    payload = {
        "type": HOTLINE,
        "to": [to],
        "tlp": tlp,
        "body": {"priority": "flash", "topic": "urgent-concern", "sector": "energy-grid-west"},
        "text": {"original": {"lang": "en", "text": text}, "translations": {"zh": SECRET_ZH}},
    }
    resp = node.api("POST", "/api/v1/records", json=payload)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _leaks(raw: bytes) -> bool:
    return any(s in raw for s in (SECRET.encode(), SECRET_ZH.encode(), b"energy-grid-west",
                                   canonical_json(SECRET_ZH)[1:-1]))  # fmt: skip


def test_a_sealed_hotline_message_is_read_by_its_recipient_only(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    us.start()
    cn.start()
    # No key published yet: refused before anything is signed.
    size = us.status()["size"]
    early = us.api("POST", "/api/v1/records", json={"type": HOTLINE, "to": [cn.origin], "tlp": "TLP:AMBER",
                   "body": {"priority": "flash", "topic": "urgent-concern"}, "text": {"original": {"lang": "en",
                   "text": SECRET}}})  # fmt: skip
    assert early.status_code == 422 and "published no encryption key" in early.json()["detail"], early.text
    assert early.json()["hint"] and us.status()["size"] == size

    first = cn.api("POST", "/api/v1/keys/encryption").json()
    wait("cn's key at us", lambda: us.api("GET", "/api/v1/keys/encryption").json()["published"].get(cn.origin)
         == first["key_id"], timeout=60)  # fmt: skip
    sent = _sealed(us, cn.origin, "TLP:AMBER", SECRET)
    wait("the receipt", lambda: us.thread(us.origin, sent["index"]).get("states") == {cn.origin: "received"},
         timeout=60)  # fmt: skip

    opened = cn.api("GET", f"/api/v1/records/{us.origin}/{sent['index']}/open")
    assert opened.status_code == 200, opened.text
    content = opened.json()
    assert content["text"]["original"]["text"] == SECRET and content["body"]["sector"] == "energy-grid-west"
    assert content["problems"] == [] and content["tlp"] == "TLP:AMBER"
    refused = us.api("GET", f"/api/v1/records/{us.origin}/{sent['index']}/open")  # us published no key: not even it
    assert refused.status_code in (403, 404, 422) and refused.headers["content-type"] == "application/problem+json"

    # Deadlines run on the public frame: flash priority, acknowledged by cn.
    thread = us.thread(us.origin, sent["index"])
    assert thread["priority"] == "flash" and thread["text"] is None
    assert cn.api("POST", f"/api/v1/threads/{us.origin}/{sent['index']}/ack", json={"note": "ok"}).status_code == 201
    wait("the acknowledgement", lambda: us.thread(us.origin, sent["index"])["states"] == {cn.origin: "answered"},
         timeout=60)  # fmt: skip

    # Nothing a non-recipient can read holds the content: us's own API, cn's listings, the auditor.
    for node, paths in (
        (us, ["/api/v1/records?limit=1000", "/api/v1/inbox", "/api/v1/status"]),
        (cn, ["/api/v1/records?limit=1000", f"/api/v1/records?origin={us.origin}&limit=1000"]),
    ):
        for path in paths:
            resp = node.api("GET", path)
            assert resp.status_code == 200, (path, resp.text)
            assert not _leaks(resp.content), (node.name, path)
    client = PeerClient(us.url)
    entry = client.entries(sent["index"], sent["index"] + 1)[0]  # the public log itself
    client.close()
    payload = base64.b64decode(json.loads(entry)["payload"])
    assert b'"sealed"' in payload and not _leaks(entry) and not _leaks(payload)
    policy = parse_policy(f"log {us.vkey} {us.url}\nlog {cn.vkey} {cn.url}\nquorum none\n")
    audit = run_audit(policy, None, records=[(us.origin, sent["index"])])
    assert audit.clean, audit.as_dict()
    assert not _leaks(json.dumps(audit.as_dict(), ensure_ascii=False).encode())

    # A disclosure by cn verifies against us's signed commitment; a forged one does not.
    shown = cn.api("GET", f"/api/v1/records/{us.origin}/{sent['index']}/disclosure").json()
    _, disclosed = check_disclosure(policy, shown)
    assert disclosed["text"]["original"]["text"] == SECRET
    forged = shown | {"content": base64.b64encode(canonical_json({"body": {}, "text": None})).decode()}
    with pytest.raises(VerificationError, match="not what the sender committed to"):
        check_disclosure(policy, forged)

    # Rotation: new records are sealed to the new key; the old one stays readable.
    second = cn.api("POST", "/api/v1/keys/encryption").json()
    assert second["key_id"] != first["key_id"]
    wait("cn's new key at us", lambda: us.api("GET", "/api/v1/keys/encryption").json()["published"].get(cn.origin)
         == second["key_id"], timeout=60)  # fmt: skip
    red = _sealed(us, cn.origin, "TLP:RED", SECRET)
    records = us.api("GET", "/api/v1/records", params={"origin": us.origin, "limit": 1000}).json()
    by_index = {r["index"]: r["record"] for r in records}
    assert by_index[red["index"]]["sealed"]["to"][0]["key_id"] == second["key_id"]
    assert by_index[sent["index"]]["sealed"]["to"][0]["key_id"] == first["key_id"]
    wait("the red message at cn", lambda: cn.thread(us.origin, red["index"]) != {}, timeout=60)
    assert cn.api("GET", f"/api/v1/records/{us.origin}/{sent['index']}/open").status_code == 200  # old key

    # TLP:RED: a viewer of cn's node may not read it; an officer may.
    viewer = cn.api("POST", "/api/v1/tokens", json={"role": "viewer", "label": "wall screen"}).json()["token"]
    officer = cn.api("POST", "/api/v1/tokens", json={"role": "officer", "label": "duty"}).json()["token"]
    denied = cn.api("GET", f"/api/v1/records/{us.origin}/{red['index']}/open", token=viewer)
    assert denied.status_code == 403 and "TLP:RED" in denied.json()["detail"]
    assert cn.api("GET", f"/api/v1/records/{us.origin}/{sent['index']}/open", token=viewer).status_code == 200
    allowed = cn.api("GET", f"/api/v1/records/{us.origin}/{red['index']}/open", token=officer)
    assert allowed.status_code == 200 and allowed.json()["text"]["original"]["text"] == SECRET

    # Revocation: once cn revokes its key, us seals nothing more to it (refused before signing).
    assert cn.api("POST", f"/api/v1/keys/encryption/{second['key_id']}/revoke").status_code == 201
    wait("the revocation at us", lambda: cn.origin not in us.api("GET", "/api/v1/keys/encryption").json()["published"],
         timeout=60)  # fmt: skip
    size = us.status()["size"]
    after = us.api("POST", "/api/v1/records", json={"type": HOTLINE, "to": [cn.origin], "tlp": "TLP:AMBER",
                   "body": {"priority": "routine", "topic": "urgent-concern"}, "text": {"original": {"lang": "en",
                   "text": SECRET}}})  # fmt: skip
    assert after.status_code == 422 and us.status()["size"] == size
    assert cn.api("GET", f"/api/v1/records/{us.origin}/{red['index']}/open", token=officer).status_code == 200
