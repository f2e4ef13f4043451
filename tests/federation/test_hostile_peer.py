"""A rival peer cannot blind, break or impersonate a node (issue #17).

A real node process (the victim, ``us``) pins a hostile peer (``cn``): a small HTTP server that
serves a real detente log signed with its own key, and then whatever it likes. An outsider posts
to the victim's public witness endpoint. Each test fails on the code before #17.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from hostile_peer import HostilePeer, forged_checkpoint, padded

from detente.crypto.note import parse_note
from detente.node.auditor import run_audit
from detente.node.localnet import LocalNode, _run_cli
from detente.store.node_protocol import PeerRow
from detente.store.open import open_node_store
from detente.tlog.policy import parse_policy
from detente.tlog.witness import format_add_checkpoint

HOTLINE = "detente.dev/hotline-message/v1"
STATEMENT = "detente.dev/statement/v1"
WAIT = 90.0  # generous: the checks poll, they do not sleep; a loaded machine only takes longer


def _configure(node: LocalNode, **settings: str) -> None:
    path = node.directory / "detente.toml"
    text = path.read_text()
    for key, value in settings.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        if not n:
            text += f"{key} = {value}\n"
    path.write_text(text)


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostilePeer]:
    peer = HostilePeer(tmp_path / "hostile")
    yield peer
    peer.close()


@pytest.fixture
def victim(make_node: Callable[..., LocalNode], hostile: HostilePeer) -> LocalNode:
    """``us``, pinning the hostile ``cn`` (log key only), pulling it every half second."""
    us = make_node("us")
    _configure(us, sync_interval="0.5", peer_timeout="3.0")
    _run_cli(["peer", "add", "cn", hostile.url, "--vkey", hostile.vkey(), "-n", str(us.directory)])
    return us


def _peer(node: LocalNode) -> dict:
    return next(p for p in node.status()["peers"] if p["name"] == "cn")


def _alarms(node: LocalNode) -> list[dict]:
    return node.api("GET", "/api/v1/alarms").json()


def _add_checkpoint(node: LocalNode, old: int, note: bytes, proof: list[bytes] | None = None) -> httpx.Response:
    body = format_add_checkpoint(old, proof or [], note)
    return httpx.post(f"{node.url}/witness/add-checkpoint", content=body, timeout=30)


def test_a_padded_checkpoint_cannot_suppress_a_fork_alarm_and_one_fork_is_one_alarm(victim, hostile, wait) -> None:
    hostile.append(STATEMENT, {"text": "hello"}, n=3)
    real = hostile.signed_checkpoint()
    victim.start()
    wait("us mirrors cn", lambda: _peer(victim)["mirrored_size"] == 3, WAIT)
    # An outsider pre-positions a padded copy of cn's real checkpoint (over 50 KiB of signature
    # lines from keys nobody knows): accepted, but kept without the padding.
    big = padded(real)
    assert len(big) > 50_000
    assert _add_checkpoint(victim, 0, big).status_code == 200
    # cn then shows a second, padded root for the same size: equivocation, proven by two notes.
    fork = padded(forged_checkpoint(hostile.identity, 3, b"\x07" * 32))
    first = _add_checkpoint(victim, 3, fork)
    assert first.status_code == 422
    wait("the fork alarm", lambda: len(_alarms(victim)) == 1, WAIT)
    alarm = _alarms(victim)[0]
    assert alarm["kind"] == "equivocation" and alarm["index"] is not None  # sealed into us's own log
    record = victim.api("GET", "/api/v1/records", params={"start": alarm["index"], "limit": 1}).json()[0]
    evidence = record["record"]["body"]["evidence"]
    assert all(len(e) < 5_000 for e in evidence)  # canonical: text plus cn's own signature only
    assert {parse_note(e).text for e in evidence} == {parse_note(real).text, parse_note(fork).text}
    # The same fork replayed, padded differently, and reached again by pulling: still one alarm.
    for lines in (100, 50, 2):
        assert (
            _add_checkpoint(victim, 3, padded(forged_checkpoint(hostile.identity, 3, b"\x07" * 32), lines)).status_code
            == 422
        )
    hostile.checkpoint = fork
    assert victim.api("POST", "/api/v1/peers/cn/sync").status_code == 200
    assert len(_alarms(victim)) == 1
    assert victim.status()["alarms_not_logged"] == []


def test_a_padded_fork_served_by_the_peer_raises_an_alarm_by_pulling(victim, hostile, wait) -> None:
    hostile.append(STATEMENT, {"text": "hello"}, n=2)
    hostile.checkpoint = padded(hostile.signed_checkpoint())  # a padded legitimate checkpoint, mirrored first
    victim.start()
    wait("us mirrors cn", lambda: _peer(victim)["mirrored_size"] == 2, WAIT)
    hostile.checkpoint = padded(forged_checkpoint(hostile.identity, 2, b"\x09" * 32))
    wait("the fork alarm", lambda: len(_alarms(victim)) == 1, WAIT)
    assert _alarms(victim)[0]["index"] is not None
    wait("more pulls", lambda: victim.status()["loops"]["sync:cn"]["runs"] >= 5, WAIT)
    assert len(_alarms(victim)) == 1  # every later pull shows the same fork: no second alarm


def test_huge_numbers_are_typed_errors_and_the_sync_thread_survives(victim, hostile, wait) -> None:
    hostile.append(STATEMENT, {"text": "one"})
    real = parse_note(hostile.signed_checkpoint()).text
    origin, _, root = real.rstrip("\n").split("\n")
    hostile.checkpoint = forged_checkpoint_text(hostile, f"{origin}\n{'9' * 5000}\n{root}\n")
    victim.start()
    wait("the sync error in status", lambda: "checkpoint" in (_peer(victim)["last_error"] or ""), WAIT)
    # Public inputs with huge numbers: 400, never 500.
    assert (
        httpx.post(
            f"{victim.url}/witness/add-checkpoint",
            content=f"old {'1' * 5000}\n\n".encode() + hostile.signed_checkpoint(),
            timeout=30,
        ).status_code
        == 400
    )
    stix = b'{"type": "bundle", "id": "bundle--0", "objects": [], "n": ' + b"1" * 5000 + b"}"
    resp = victim.api("POST", "/api/v1/incidents/stix", content=stix, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["code"] == "malformed-json"
    # The peer heals: the same background thread pulls again, mirrors, and clears the error.
    hostile.append(STATEMENT, {"text": "two"})
    hostile.checkpoint = None
    wait("us mirrors cn after the error", lambda: _peer(victim)["mirrored_size"] == 2, WAIT)
    assert _peer(victim)["last_error"] is None
    assert victim.status()["loops"]["sync:cn"]["failures"] >= 1


def forged_checkpoint_text(hostile: HostilePeer, text: str) -> bytes:
    """A note over any text, validly signed by the hostile peer's key."""
    from detente.crypto.note import Ed25519NoteSigner, sign_note

    return sign_note(text, [Ed25519NoteSigner(hostile.identity)]).to_bytes()


def _hwm_mb(node: LocalNode) -> float:
    assert node.process is not None
    status = Path(f"/proc/{node.process.pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_junk_is_refused_before_it_is_buffered(victim, hostile, wait) -> None:
    junk = b"\xff\xff" + b"\x00" * 65_535
    hostile.bundle = lambda path: junk * 256  # every bundle: 256 entries of 64 KiB junk (16.8 MB)
    # 1. A junk signature line in the pinned key's name: refused before any entry is fetched.
    note = parse_note(forged_checkpoint(hostile.identity, 10_000_000, b"\x01" * 32))
    sig = note.signatures[0]
    bad = type(note)(note.text, (type(sig)(sig.name, sig.key_id, bytes(64)),)).to_bytes()
    hostile.checkpoint = bad
    victim.start()
    wait("the refusal", lambda: _peer(victim)["failures"] >= 3, WAIT)
    assert hostile.bundles_served == 0
    # 2. A validly signed claim of ten million entries over junk bundles: one bundle, then refused.
    hostile.checkpoint = forged_checkpoint(hostile.identity, 10_000_000, b"\x01" * 32)
    served = hostile.bundles_served
    wait("more refusals", lambda: hostile.bundles_served >= served + 3, WAIT)
    assert _peer(victim)["mirrored_size"] == 0
    assert "does not verify" in (_peer(victim)["last_error"] or "")
    assert _hwm_mb(victim) < 200, f"peak RSS {_hwm_mb(victim):.0f} MB"


def test_a_backlog_over_the_byte_budget_is_refused_whole(make_node, hostile, wait) -> None:
    us = make_node("us")
    _configure(us, sync_interval="0.5", sync_max_bytes="65536")
    _run_cli(["peer", "add", "cn", hostile.url, "--vkey", hostile.vkey(), "-n", str(us.directory)])
    hostile.append(STATEMENT, {"text": "x" * 2000}, n=100)  # validly signed, ~200 KB in all
    us.start()
    wait("the budget refusal", lambda: "bytes of new entries" in (_peer(us)["last_error"] or ""), WAIT)
    assert _peer(us)["mirrored_size"] == 0  # all or nothing
    assert hostile.bundles_served <= 3 * max(1, _peer(us)["failures"])


def test_malformed_records_are_quarantined_and_reads_stay_2xx(victim, hostile, wait) -> None:
    hostile.append(STATEMENT, {"text": "fine"})
    hostile.append(HOTLINE, {}, to=("us.detente.example/log",))  # validly signed, schema-invalid
    for record_type in (
        "detente.dev/eval-result/v1",
        "detente.dev/glossary-definition/v1",
        "detente.dev/export-rule-pack/v1",
        "detente.dev/trusted-supplier/v1",
        "detente.dev/label-guideline/v1",
        "detente.dev/incident-report/v1",
    ):
        hostile.append(record_type, {})
    victim.start()
    wait("us mirrors cn", lambda: _peer(victim)["mirrored_size"] == 8, WAIT)
    status = victim.status()
    assert status["quarantined"] >= 2
    assert {q["index"] for q in status["quarantine"] if q["origin"] == hostile.origin} >= {1}
    inbox = victim.api("GET", "/api/v1/inbox").json()
    assert not any(t["origin"] == hostile.origin and t["index"] == 1 for t in inbox)  # never fed to the protocol
    for path in ("/api/v1/inbox", "/api/v1/status", "/api/v1/records?origin=cn.detente.example/log"):
        assert victim.api("GET", path).status_code == 200, path
    # no receipt for a record that is not a valid record of its type
    own = victim.api("GET", "/api/v1/records", params={"limit": 100}).json()
    assert not any(r["record"]["type"] == "detente.dev/receipt/v1" for r in own)
    mirrored = victim.api("GET", "/api/v1/records", params={"origin": hostile.origin}).json()
    assert "quarantined" in mirrored[1] and "quarantined" not in mirrored[0]
    # an outside audit calls that log what it is: validly signed, but not valid records
    audit = run_audit(parse_policy(f"log {hostile.vkey()} {hostile.url}\nquorum none\n"))
    problems = next(a.problems for a in audit.logs if a.origin == hostile.origin)
    assert any("entry 1: detente.dev/hotline-message/v1 does not match its catalogue schema" in p for p in problems)
    assert not audit.clean


def test_pins_that_could_hurt_are_refused_and_never_stored(make_node, hostile) -> None:
    us = make_node("us").start()
    me = us.status()
    own_log_key = me["vkey"]
    cases = [
        {"name": "self", "url": us.url, "vkey": own_log_key},  # the node itself
        {"name": "cn", "url": hostile.url, "vkey": hostile.cosigner_vkey()},  # a cosigner key as log key
        {"name": "cn", "url": hostile.url, "vkey": hostile.vkey(), "cosigner_vkey": hostile.vkey()},  # swapped types
        {"name": "cn", "url": "cn.example:8441", "vkey": hostile.vkey()},  # no scheme
    ]
    for body in cases:
        resp = us.api("POST", "/api/v1/peers", json=body)
        assert resp.status_code in (400, 422), (body, resp.text)
        assert resp.json().get("hint"), resp.text
    assert us.api("GET", "/api/v1/peers").json() == []
    assert (
        us.api("POST", "/api/v1/peers", json={"name": "cn", "url": hostile.url, "vkey": hostile.vkey()}).status_code
        == 201
    )
    again = us.api("POST", "/api/v1/peers", json={"name": "cn2", "url": hostile.url, "vkey": hostile.vkey()})
    assert again.status_code == 422 and "already pinned" in again.json()["detail"]
    assert [p["name"] for p in us.api("GET", "/api/v1/peers").json()] == ["cn"]
    # the CLI refuses the same way, with a hint, and stores nothing
    us.stop()
    with pytest.raises(Exception, match="this node itself"):
        _run_cli(["peer", "add", "me", us.url, "--vkey", own_log_key, "-n", str(us.directory)])


def test_a_bad_peer_row_never_stops_the_node(make_node, hostile) -> None:
    us = make_node("us")
    config = (us.directory / "detente.toml").read_text()
    store = re.search(r'(?m)^store = "(.*)"$', config).group(1)  # type: ignore[union-attr]
    url = store if "://" in store else str(us.directory / store)
    state = open_node_store(url)
    state.add_peer(PeerRow("me", us.url, us.vkey, None, 0))  # written behind the checks' back
    state.add_peer(PeerRow("cn", hostile.url, hostile.vkey(), None, 0))
    state.close()
    us.start()
    status = us.status()
    assert [p["name"] for p in status["peers"]] == ["cn"]
    assert status["peers_not_followed"][0]["name"] == "me"
