"""Behaviour that crosses the network, between real node processes on loopback."""

from __future__ import annotations

import shutil
import sqlite3

import httpx
import psycopg

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note import Ed25519NoteSigner
from detente.crypto.note_verifiers import verifier_for
from detente.node.auditor import run_audit
from detente.tlog.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from detente.tlog.hashing import EMPTY_ROOT
from detente.tlog.policy import parse_policy
from detente.tlog.witness import format_add_checkpoint


def _pair(make_node):  # type: ignore[no-untyped-def]
    us, cn = make_node("us"), make_node("cn")
    us.pin(cn)
    cn.pin(us)
    return us, cn


def _peer(node, name):  # type: ignore[no-untyped-def]
    return next(p for p in node.status()["peers"] if p["name"] == name)


def _policy(*nodes):  # type: ignore[no-untyped-def]
    lines = [f"log {n.vkey} {n.url}" for n in nodes]
    lines += [f"witness {n.name} {n.cosigner_vkey}" for n in nodes]
    lines += [f"group q any {' '.join(n.name for n in nodes)}", "quorum q"]
    return parse_policy("\n".join(lines) + "\n")


def test_exchange_witness_and_audit(make_node, wait, tmp_path) -> None:
    us, cn = _pair(make_node)
    us.start()
    cn.start()
    a = us.send("detente.dev/statement/v1", "Test window 2026-12-01", translations={"zh-Hans": "测试窗口"})
    b = cn.send(
        "detente.dev/statement/v1",
        "已收到",
        lang="zh-Hans",
        refs=[{"origin": us.origin, "index": a["index"], "leaf_hash": a["leaf_hash"], "rel": "reply-to"}],
    )
    wait("cn to mirror us", lambda: _peer(cn, "us")["mirrored_size"] == 1)
    wait("us to mirror cn", lambda: _peer(us, "cn")["mirrored_size"] == 1)
    wait(
        "mutual cosignatures",
        lambda: cn.origin in us.status()["cosigned_by"] and us.origin in cn.status()["cosigned_by"],
    )
    mirrored = cn.api("GET", "/api/v1/records", params={"origin": us.origin}).json()
    assert mirrored[0]["record"]["text"]["translations"] == {"zh-Hans": "测试窗口"}
    assert mirrored[0]["leaf_hash"] == a["leaf_hash"]
    result = run_audit(_policy(us, cn), tmp_path / "state.json", records=[(us.origin, 0), (cn.origin, 0)])
    assert result.clean, result.as_dict()
    assert result.references == 1
    assert result.inclusions == 2
    assert [log.size for log in result.logs] == [1, 1]
    assert b["by_token"] == cn.token.split("_")[1]


def test_restart_and_catch_up_with_nothing_lost_or_duplicated(make_node, wait) -> None:
    us, cn = _pair(make_node)
    us.start()
    cn.start()
    us.send("detente.dev/statement/v1", "before")
    wait("first mirror", lambda: _peer(cn, "us")["mirrored_size"] == 1)
    cn.stop(kill=True)  # the peer goes down hard
    sent = [us.send("detente.dev/statement/v1", f"while cn was down {i}")["leaf_hash"] for i in range(30)]
    cn.start()
    wait("catch-up after restart", lambda: _peer(cn, "us")["mirrored_size"] == 31)
    wait(
        "cn to cosign us's latest checkpoint",
        lambda: cn.origin in us.status()["cosigned_by"] and us.status()["size"] == 31,
    )
    us.stop()  # and now the other side is down while cn keeps asking
    cn.send("detente.dev/statement/v1", "cn alone")
    us.start()
    assert cn.origin in us.status()["cosigned_by"]  # cosignatures survive a restart
    wait("us catches up", lambda: _peer(us, "cn")["mirrored_size"] == 1)
    records = cn.api("GET", "/api/v1/records", params={"origin": us.origin, "limit": 100}).json()
    assert [r["index"] for r in records] == list(range(31))
    assert [r["leaf_hash"] for r in records[1:]] == sent


def test_a_forked_log_raises_an_alarm_with_both_checkpoints(make_node, wait, tmp_path) -> None:
    us, cn = _pair(make_node)
    us.start()
    for i in range(3):
        us.send("detente.dev/statement/v1", f"shared {i}")
    us.stop()
    fork_dir = tmp_path / "us-fork"
    shutil.copytree(us.directory, fork_dir)  # the key holder keeps a second copy at size 3
    if "://" in us.store:  # ... of its PostgreSQL schema too
        url, _, schema = us.store.partition("#")
        fork_schema = schema + "_fork"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {fork_schema}")
            for table in ("meta", "logs", "tiles", "tokens", "peers", "witness", "alarms", "cosigned", "cursors"):
                conn.execute(f"CREATE TABLE {fork_schema}.{table} (LIKE {schema}.{table} INCLUDING ALL)")
                conn.execute(f"INSERT INTO {fork_schema}.{table} SELECT * FROM {schema}.{table}")
        config = fork_dir / "detente.toml"
        config.write_text(config.read_text().replace(f"#{schema}", f"#{fork_schema}"))
    us.start()
    cn.start()
    us.send("detente.dev/statement/v1", "honest 3")
    us.send("detente.dev/statement/v1", "honest 4")
    wait("cn to mirror 5", lambda: _peer(cn, "us")["mirrored_size"] == 5)
    us.stop()
    fork = type(us)(us.name, us.origin, fork_dir, port=us.port, info=us.info).start()
    for i in range(4):
        fork.send("detente.dev/statement/v1", f"rewritten {i}")
    wait("the alarm", lambda: len(cn.api("GET", "/api/v1/alarms").json()) >= 1)
    alarm = cn.api("GET", "/api/v1/alarms").json()[0]
    assert alarm["origin"] == us.origin
    assert alarm["kind"] in {"inconsistent", "equivocation"}
    own = cn.api("GET", "/api/v1/records", params={"start": alarm["index"], "limit": 1}).json()[0]["record"]
    assert own["type"] == "detente.dev/log-alarm/v1"
    seen, shown = (
        open_checkpoint(note, [verifier_for(us.vkey)], origin=us.origin).checkpoint for note in own["body"]["evidence"]
    )  # both views are validly signed by the us key: that is the proof
    assert seen.size == 5
    assert shown.size >= 5 and seen != shown
    if shown.size == 5:
        assert alarm["kind"] == "equivocation"
    assert _peer(cn, "us")["mirrored_size"] == 5  # the fork was not mirrored
    fork.stop()


def test_a_tampered_entry_is_rejected_and_nothing_is_mirrored(make_node, wait) -> None:
    us, cn = _pair(make_node)
    us.start()
    for i in range(3):
        us.send("detente.dev/statement/v1", f"entry {i}")
    us.stop()

    def tamper(blob: bytes) -> bytes:
        pos = blob.index(b'"payload":"') + 20
        return blob[:pos] + bytes([blob[pos] ^ 0x01]) + blob[pos + 1 :]

    if "://" in us.store:
        url, _, schema = us.store.partition("#")
        with psycopg.connect(url, autocommit=True) as pg:
            (blob,) = pg.execute(
                f"SELECT data FROM {schema}.tiles WHERE origin = %s AND level = -1", (us.origin,)
            ).fetchone()
            pg.execute(
                f"UPDATE {schema}.tiles SET data = %s WHERE origin = %s AND level = -1",
                (tamper(bytes(blob)), us.origin),
            )
    else:
        with sqlite3.connect(us.directory / "detente.db") as conn:
            blob = conn.execute("SELECT data FROM tiles WHERE origin = ? AND level = -1", (us.origin,)).fetchone()[0]
            conn.execute("UPDATE tiles SET data = ? WHERE origin = ? AND level = -1", (tamper(blob), us.origin))
    us.start()
    cn.start()
    wait("cn to try and refuse", lambda: (_peer(cn, "us")["last_error"] or "") != "")
    assert _peer(cn, "us")["mirrored_size"] == 0
    assert "does not" in _peer(cn, "us")["last_error"]


def _rewrite_tiles(node, level: int, change) -> None:  # type: ignore[no-untyped-def]
    if "://" in node.store:
        url, _, schema = node.store.partition("#")
        with psycopg.connect(url, autocommit=True) as pg:
            q = f"SELECT data FROM {schema}.tiles WHERE origin = %s AND level = %s"
            (blob,) = pg.execute(q, (node.origin, level)).fetchone()
            pg.execute(
                f"UPDATE {schema}.tiles SET data = %s WHERE origin = %s AND level = %s",
                (change(bytes(blob)), node.origin, level),
            )
    else:
        with sqlite3.connect(node.directory / "detente.db") as conn:
            blob = conn.execute(
                "SELECT data FROM tiles WHERE origin = ? AND level = ?", (node.origin, level)
            ).fetchone()[0]
            conn.execute("UPDATE tiles SET data = ? WHERE origin = ? AND level = ?", (change(blob), node.origin, level))


def test_a_tampered_hash_tile_fails_the_auditors_inclusion_proof(make_node, wait, tmp_path) -> None:
    node = make_node("us")
    node.start()
    for i in range(5):
        node.send("detente.dev/statement/v1", f"r{i}")
    policy = parse_policy(f"log {node.vkey} {node.url}\nquorum none\n")
    assert run_audit(policy, records=[(node.origin, 2)]).clean
    node.stop()
    _rewrite_tiles(node, 0, lambda blob: blob[:64] + bytes([blob[64] ^ 1]) + blob[65:])  # leaf 2's hash
    node.start()
    result = run_audit(policy, records=[(node.origin, 2)])
    assert not result.clean
    assert any("inclusion of us.detente.example/log#2" in p for p in result.problems)


def test_witness_refuses_unknown_logs_and_wrong_keys(make_node, wait) -> None:
    us, cn = _pair(make_node)
    cn.start()
    stranger = Ed25519Identity.generate("stranger.example/log")
    impostor = Ed25519Identity.generate(us.origin)  # claims to be us, with another key
    for ident, expected in ((stranger, 404), (impostor, 403)):
        note = sign_checkpoint(Checkpoint(ident.name, 0, EMPTY_ROOT), [Ed25519NoteSigner(ident)]).to_bytes()
        resp = httpx.post(f"{cn.url}/witness/add-checkpoint", content=format_add_checkpoint(0, [], note))
        assert resp.status_code == expected
        assert resp.headers["content-type"] == "application/problem+json"
    bad = httpx.post(f"{cn.url}/witness/add-checkpoint", content=b"old x\n\nnot a checkpoint")
    assert bad.status_code == 400
    huge = httpx.post(f"{cn.url}/witness/add-checkpoint", content=b"x" * 100_000)
    assert huge.status_code == 413


def test_witness_answers_409_to_a_wrong_old_size_and_422_to_a_bad_proof(make_node) -> None:
    """Over HTTP, the two refusals a publisher acts on (tlog-witness): 409 with the witness's size
    as text/x.tlog.size, and 422 for a proof that does not link the checkpoints."""
    from detente.node.keyfile import read_identity
    from detente.tlog.hashing import leaf_hash, node_hash
    from detente.tlog.proofs import consistency_proof, tree_root

    us, cn = _pair(make_node)
    cn.start()
    signer = [Ed25519NoteSigner(read_identity(us.directory / "party.key"))]
    leaves = [leaf_hash(f"e{i}".encode()) for i in range(7)]

    def fetch(nodes):  # type: ignore[no-untyped-def]
        out = []
        for level, index in nodes:
            row = leaves[index << level : (index + 1) << level]
            while len(row) > 1:
                row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
            out.append(row[0])
        return out

    def add(old: int, proof: list[bytes], size: int) -> httpx.Response:
        note = sign_checkpoint(Checkpoint(us.origin, size, tree_root(size, fetch)), signer).to_bytes()
        return httpx.post(f"{cn.url}/witness/add-checkpoint", content=format_add_checkpoint(old, proof, note))

    stale = add(2, consistency_proof(2, 3, fetch), 3)
    assert (stale.status_code, stale.text) == (409, "0\n")
    assert stale.headers["content-type"].startswith("text/x.tlog.size")
    assert add(0, [], 3).status_code == 200
    again = add(0, [], 7)
    assert (again.status_code, again.text) == (409, "3\n")
    proof = consistency_proof(3, 7, fetch)
    bad = add(3, [proof[0], bytes(32), *proof[2:]], 7)
    assert bad.status_code == 422, bad.text
    assert add(3, proof, 7).status_code == 200


def test_tokens_roles_expiry_and_revocation(make_node, wait) -> None:
    import time

    (node,) = (make_node("us"),)
    node.start()
    url = "/api/v1/records"
    payload = {"type": "detente.dev/statement/v1", "body": {}}
    assert node.api("POST", url, json=payload, token="dtk_nope_nope").status_code == 401
    assert httpx.post(f"{node.url}{url}", json=payload).status_code == 401
    viewer = node.api("POST", "/api/v1/tokens", json={"role": "viewer"}).json()["token"]
    refused = node.api("POST", url, json=payload, token=viewer)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert node.api("GET", "/api/v1/status", token=viewer).status_code == 200
    short = node.api("POST", "/api/v1/tokens", json={"role": "officer", "ttl_seconds": 2}).json()[
        "token"
    ]  # whole seconds: 2 leaves >= 1 s of validity
    assert node.api("POST", url, json=payload, token=short).status_code == 201
    time.sleep(2.1)
    expired = node.api("POST", url, json=payload, token=short)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    officer = node.api("POST", "/api/v1/tokens", json={"role": "officer"}).json()["token"]
    assert node.api("DELETE", f"/api/v1/tokens/{officer.split('_')[1]}").status_code == 200
    revoked = node.api("POST", url, json=payload, token=officer)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_public_endpoints_openapi_and_problem_bodies(make_node, wait) -> None:
    node = make_node("us")
    node.start()
    for i in range(300):  # crosses a full tile
        node.send("detente.dev/statement/v1", f"r{i}")
    cp = httpx.get(f"{node.url}/log/checkpoint")
    assert cp.headers["cache-control"] == "no-store"
    assert cp.text.startswith(f"{node.origin}\n300\n")
    full = httpx.get(f"{node.url}/log/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert len(full.content) == 8192
    partial = httpx.get(f"{node.url}/log/tile/0/001.p/44")
    assert len(partial.content) == 44 * 32
    assert httpx.get(f"{node.url}/log/tile/entries/001.p/44").status_code == 200
    for bad in ("0/001.p/45", "0/../001", "0/x000/001", "9/000"):
        resp = httpx.get(f"{node.url}/log/tile/{bad}")
        assert resp.status_code in (400, 404), bad
        assert resp.headers["content-type"] == "application/problem+json"
    spec = httpx.get(f"{node.url}/openapi.json").json()
    for path in (
        "/log/checkpoint",
        "/log/tile/{path}",
        "/witness/add-checkpoint",
        "/api/v1/records",
        "/api/v1/status",
        "/api/v1/peers",
        "/api/v1/alarms",
        "/api/v1/tokens",
    ):
        assert path in spec["paths"], path
    bad_record = node.api("POST", "/api/v1/records", json={"type": "Not A Type"})
    assert bad_record.status_code in (400, 422)
    assert bad_record.json()["code"] in {"malformed-record", "invalid-request"}


def test_a_partitioned_peer_rejoins_and_catches_up(make_node, wait, fault_proxy) -> None:
    from detente.node.localnet import LocalNode

    us, cn = make_node("us"), make_node("cn")
    proxy = fault_proxy(us.port)
    us.pin(cn)  # us -> cn goes direct: the witness request (and push hint) gets through
    cn.pin(LocalNode(us.name, us.origin, us.directory, port=proxy.port, info=us.info))  # cn pulls via the proxy
    us.start()
    cn.start()
    us.send("detente.dev/statement/v1", "before the partition")
    wait("first mirror", lambda: _peer(cn, "us")["mirrored_size"] == 1)
    proxy.partition()
    sent = [us.send("detente.dev/statement/v1", f"during the partition {i}")["leaf_hash"] for i in range(10)]
    wait("cn to notice the partition", lambda: (_peer(cn, "us")["last_error"] or "") != "")
    assert _peer(cn, "us")["mirrored_size"] == 1
    assert proxy.refused >= 1
    proxy.heal()
    wait("catch-up after the partition heals", lambda: _peer(cn, "us")["mirrored_size"] == 11, timeout=40)
    records = cn.api("GET", "/api/v1/records", params={"origin": us.origin}).json()
    assert [r["index"] for r in records] == list(range(11))
    assert [r["leaf_hash"] for r in records[1:]] == sent


def test_a_peer_pinned_with_the_wrong_key_is_never_mirrored(make_node, wait) -> None:
    us, cn = make_node("us"), make_node("cn")
    wrong = Ed25519Identity.generate(us.origin)  # right name, wrong key
    from detente.node.localnet import LocalNode

    cn.pin(
        LocalNode(
            us.name,
            us.origin,
            us.directory,
            port=us.port,
            info={**us.info, "vkey": str(wrong.vkey()), "cosigner_vkey": str(wrong.cosigner_vkey())},
        )
    )
    us.start()
    cn.start()
    us.send("detente.dev/statement/v1", "signed by the real key")
    cn.api("POST", "/api/v1/peers/us/sync")
    wait("cn to refuse", lambda: "trusted key" in (_peer(cn, "us")["last_error"] or ""))
    assert _peer(cn, "us")["mirrored_size"] == 0
