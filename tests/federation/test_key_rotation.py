"""Rotation of a party's log key and revocation of a compromised key, between real node processes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from detente.crypto.keys import Ed25519Identity, VerifierKey
from detente.node.auditor import run_audit
from detente.node.keyfile import read_identity
from detente.node.tilelog import TileLog
from detente.records.entry import seal_record
from detente.records.record import Record
from detente.store.open import open_store
from detente.tlog.policy import parse_policy


def _pair(make_node):  # type: ignore[no-untyped-def]
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    return us, cn


def _peer(node, name):  # type: ignore[no-untyped-def]
    return next(p for p in node.status()["peers"] if p["name"] == name)


def _policy(*nodes):  # type: ignore[no-untyped-def]
    """The keys each party handed out at init: the auditor follows rotations from them."""
    lines = [f"log {n.vkey} {n.url}" for n in nodes]
    lines += [f"witness {n.name} {n.cosigner_vkey}" for n in nodes]
    lines += [f"group q any {' '.join(n.name for n in nodes)}", "quorum q"]
    return parse_policy("\n".join(lines) + "\n")


def _sync(node, peer: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    resp = node.api("POST", f"/api/v1/peers/{peer}/sync")
    return {"status": resp.status_code, **resp.json()}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "detente", *args], capture_output=True, text=True, timeout=60)


def _append_behind_the_nodes_back(node, records_by: list[tuple[Ed25519Identity, str]], signer: Ed25519Identity):  # type: ignore[no-untyped-def]
    """Write entries straight into a stopped node's store (as a thief with a key file would),
    with a checkpoint signed by ``signer``."""
    url = node.store if "://" in node.store else str(node.directory / node.store)
    store = open_store(url)
    current = read_identity(node.directory / "party.key")
    try:
        log = TileLog(store, node.origin, [current.vkey()], identity=signer)
        now = datetime.now(UTC)
        entries = [
            seal_record(
                Record(type="detente.dev/statement/v1", party=node.origin, issued=now, body={"text": text}), ident
            )
            for ident, text in records_by
        ]
        return log.append(entries)
    finally:
        store.close()


def test_rotation_is_followed_by_peers_across_restarts_and_by_the_auditor(make_node, wait, tmp_path) -> None:
    us, cn = _pair(make_node)
    us.start()
    cn.start()
    before = [us.send("detente.dev/statement/v1", f"old key {i}")["leaf_hash"] for i in range(2)]
    wait("cn to mirror 2", lambda: _peer(cn, "us")["mirrored_size"] == 2)

    resp = us.api("POST", "/api/v1/keys/rotate", json={"reason": "scheduled"})
    assert resp.status_code == 201, resp.text
    rotated = resp.json()
    assert rotated["index"] == 2 and rotated["old_vkey"] == us.vkey
    new = VerifierKey.parse(rotated["vkey"])
    assert new.name == us.origin and new != VerifierKey.parse(us.vkey)  # same origin, another key ID
    assert str(read_identity(us.directory / "party.key").vkey()) == rotated["vkey"]
    assert str(read_identity(rotated["old_key_file"]).vkey()) == us.vkey  # the old key is kept
    assert f"— {us.origin} " in us.api("GET", "/log/checkpoint").text
    after = [us.send("detente.dev/statement/v1", f"new key {i}")["leaf_hash"] for i in range(2)]

    assert _sync(cn, "us")["status"] == 200
    wait("cn to mirror across the rotation", lambda: _peer(cn, "us")["mirrored_size"] == 5)
    pinned = next(p for p in cn.api("GET", "/api/v1/peers").json() if p["name"] == "us")
    assert pinned["vkey"] == rotated["vkey"]  # moved by the verified record only
    assert pinned["cosigner_vkey"] == rotated["cosigner_vkey"]
    records = cn.api("GET", "/api/v1/records", params={"origin": us.origin}).json()
    assert [r["leaf_hash"] for r in records] == [*before, rotated["leaf_hash"], *after]
    assert records[2]["record"]["type"] == "detente.dev/key-rotation/v1"

    cn.stop(kill=True)  # the history is in cn's store: a restart keeps it
    cn.start()
    us.send("detente.dev/statement/v1", "new key after cn restarted")
    wait("cn to mirror 6 after its restart", lambda: _peer(cn, "us")["mirrored_size"] == 6)
    assert _peer(cn, "us")["last_error"] is None
    us.stop()
    us.start()  # us itself restarts on the new key, its old records still verify
    listed = us.api("GET", "/api/v1/records", params={"origin": us.origin}).json()
    assert len(listed) == 6
    cn.send("detente.dev/statement/v1", "cn writes; us cosigns with its new key")
    wait(
        "witnessing both ways with the new key",
        lambda: us.origin in cn.status()["cosigned_by"] and cn.origin in us.status()["cosigned_by"],
        timeout=40,
    )

    state = tmp_path / "audit.json"
    result = run_audit(_policy(us, cn), state, records=[(us.origin, 1), (us.origin, 4)])
    assert result.clean, result.as_dict()
    assert result.logs[0].size >= 6 and result.logs[0].records == result.logs[0].size
    assert json.loads(state.read_text())[us.origin]["keys"]["events"][0]["vkey"] == rotated["vkey"]
    us.send("detente.dev/statement/v1", "after the first audit")
    again = run_audit(_policy(us, cn), state)  # the next run starts from the kept history
    assert again.clean, again.as_dict()


def test_keys_never_announced_are_refused(make_node, wait) -> None:
    us, cn = _pair(make_node)
    us.start()
    us.send("detente.dev/statement/v1", "genuine")
    us.stop()
    stranger = Ed25519Identity.generate(us.origin)  # the right name, a key no rotation announced
    current = read_identity(us.directory / "party.key")
    _append_behind_the_nodes_back(us, [(stranger, "forged")], current)
    us.start()
    cn.start()
    assert _sync(cn, "us")["status"] >= 400
    assert "does not verify" in _peer(cn, "us")["last_error"]
    assert _peer(cn, "us")["mirrored_size"] == 0
    result = run_audit(_policy(us, cn))
    assert not result.clean
    assert any("entry 1" in p for p in result.logs[0].problems)


def test_revocation_refuses_and_flags_later_signatures_by_the_revoked_key(make_node, wait, tmp_path) -> None:
    us, cn = _pair(make_node)
    us.start()
    cn.start()
    for i in range(3):
        us.send("detente.dev/statement/v1", f"before the compromise {i}")
    wait("cn to mirror 3", lambda: _peer(cn, "us")["mirrored_size"] == 3)
    rotated = us.api("POST", "/api/v1/keys/rotate", json={"reason": "key file stolen"}).json()
    effective = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (
        us.api(
            "POST", "/api/v1/keys/revoke", json={"vkey": rotated["vkey"], "effective": effective, "reason": "x"}
        ).status_code
        == 422
    )  # not the key in force
    out = _cli(
        "key",
        "revoke",
        us.vkey,
        "--effective",
        "2000-01-01T00:00:00Z",
        "--reason",
        "stolen",
        "--last-index",
        "3",
        "-n",
        str(us.directory),
        "--token",
        us.token,
    )
    assert out.returncode == 0, out.stderr
    revoked = json.loads(out.stdout)
    assert revoked == {**revoked, "index": 4, "last_index": 3, "vkey": us.vkey}
    assert _sync(cn, "us")["status"] == 200
    wait("cn to mirror the revocation", lambda: _peer(cn, "us")["mirrored_size"] == 5)
    assert cn.api("GET", "/api/v1/alarms").json() == []  # nothing the old key signed is disowned
    us.stop()
    thief = read_identity(rotated["old_key_file"])
    current = read_identity(us.directory / "party.key")
    _append_behind_the_nodes_back(us, [(thief, "signed with the revoked key")], current)
    us.start()
    assert _sync(cn, "us")["status"] == 200
    wait("the revoked-key alarm", lambda: len(cn.api("GET", "/api/v1/alarms").json()) == 1)
    alarm = cn.api("GET", "/api/v1/alarms").json()[0]
    assert alarm["origin"] == us.origin and alarm["kind"] == "revoked-key"
    assert "entry 5" in alarm["detail"]
    own = cn.api("GET", "/api/v1/records", params={"start": alarm["index"], "limit": 1}).json()[0]["record"]
    assert own["type"] == "detente.dev/log-alarm/v1"
    assert _peer(cn, "us")["mirrored_size"] == 5  # not mirrored
    _sync(cn, "us")
    assert len(cn.api("GET", "/api/v1/alarms").json()) == 1  # one alarm, not one per pull

    result = run_audit(_policy(us, cn))
    problems = result.logs[0].problems
    assert problems == [f"entry 5: signed by the revoked key {us.vkey}"], result.as_dict()
    assert result.logs[0].records == 5  # entries 0..4, signed before the effective point, still verify


def test_revocation_disowns_what_the_key_signed_after_the_effective_point(make_node, wait) -> None:
    us, cn = _pair(make_node)
    us.start()
    cn.start()
    us.send("detente.dev/statement/v1", "vouched for")
    us.send("detente.dev/statement/v1", "logged by whoever held the stolen key")
    rotated = us.api("POST", "/api/v1/keys/rotate", json={}).json()
    resp = us.api(
        "POST",
        "/api/v1/keys/revoke",
        json={"vkey": us.vkey, "effective": "2026-01-01T00:00:00Z", "reason": "stolen", "last_index": 0},
    )
    assert resp.status_code == 201, resp.text
    assert _sync(cn, "us")["status"] == 200
    wait("cn to mirror 4", lambda: _peer(cn, "us")["mirrored_size"] == 4)
    alarms = cn.api("GET", "/api/v1/alarms").json()
    assert [a["kind"] for a in alarms] == ["revoked-key"]
    assert "entries 1..1" in alarms[0]["detail"] and "disowns" in alarms[0]["detail"]
    # cn cosigns the checkpoint the new key signed once it has pulled the rotation (a retry of the
    # publisher's, moments later): the audit's quorum needs that cosignature.
    wait("cn's cosignature on size 4", lambda: us.status()["size"] == 4 and cn.origin in us.status()["cosigned_by"])
    result = run_audit(_policy(us, cn))
    assert result.clean, [(x.origin, x.problems) for x in result.logs]
    assert result.logs[0].flagged == [f"entries 1..1: signed by {us.vkey}, disowned by #3"]
    assert rotated["index"] == 2


def test_a_witness_asked_to_cosign_with_a_rotated_key_learns_it_at_once(make_node, wait) -> None:
    us, cn = _pair(make_node)  # periodic pulls every 30 s: only the push path can be fast
    us.start()
    cn.start()
    us.send("detente.dev/statement/v1", "before the rotation")
    wait("cn to cosign us's first checkpoint", lambda: cn.origin in us.status()["cosigned_by"])
    resp = us.api("POST", "/api/v1/keys/rotate", json={"reason": "scheduled"})
    assert resp.status_code == 201, resp.text
    new = resp.json()["vkey"]
    # us asks cn to cosign a checkpoint signed by the new key; cn does not pin that key yet, so it
    # refuses (403) and pulls us right away, where the rotation record names the key
    wait(
        "cn to learn the rotated key without a manual sync",
        lambda: next(p for p in cn.api("GET", "/api/v1/peers").json() if p["name"] == "us")["vkey"] == new,
        timeout=15,
    )
    us.send("detente.dev/statement/v1", "after the rotation")
    wait("cn to mirror the record signed after the rotation", lambda: _peer(cn, "us")["mirrored_size"] == 3)
    assert _peer(cn, "us")["last_error"] is None
