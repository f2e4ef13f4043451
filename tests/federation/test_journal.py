"""The operator journal and ``Idempotency-Key``, against a real node on each driver: every write,
token and peer change, key rotation and failed sign-in is one row with the token's id and role;
an edit made in the database shows in ``GET /api/v1/journal`` and ``detente journal``; a retried
write is answered once."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import psycopg

from detente.node.localnet import LocalNode

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
STATEMENT = {"type": "detente.dev/statement/v1", "body": {"text": "journal test"}}


def _cli(node: LocalNode, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "detente", *args, "-n", str(node.directory)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DETENTE_TOKEN": node.token, "COLUMNS": "200"},
    )


def _token(node: LocalNode, role: str) -> tuple[str, str]:
    made = node.api("POST", "/api/v1/tokens", json={"role": role, "label": f"journal {role}"})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    return token, token.split("_")[1]


def _journal(node: LocalNode, **params: Any) -> dict[str, Any]:
    got = node.api("GET", "/api/v1/journal", params=params)
    assert got.status_code == 200, got.text
    return dict(got.json())


def _tamper(node: LocalNode, statement: str) -> None:
    """Change the journal behind the node's back, in its own database."""
    if node.store.startswith("postgresql"):
        with psycopg.connect(node.store.split("#")[0], autocommit=True) as conn:
            conn.execute(f"SET search_path TO {node.store.split('#')[1]}")
            conn.execute(statement.encode())
    else:
        with sqlite3.connect(node.directory / node.store) as conn:
            conn.execute(statement)


def test_every_write_token_peer_and_key_change_and_failed_sign_in_is_journaled(
    make_node: Callable[[str], LocalNode],
) -> None:
    us, cn = make_node("us").start(), make_node("cn")
    admin_id = us.token.split("_")[1]
    officer, officer_id = _token(us, "officer")
    viewer, _ = _token(us, "viewer")
    appended = us.api("POST", "/api/v1/records", token=officer, json=STATEMENT)
    assert appended.status_code == 201
    refused = us.api("POST", "/api/v1/records", token=viewer, json=STATEMENT)
    assert refused.status_code == 403
    assert us.api("GET", "/api/v1/status", token="dtk_0badc0ffee00_nope").status_code == 401
    assert us.api("POST", "/api/v1/records", token="not a token", json=STATEMENT).status_code == 401
    pin = {"name": "cn", "url": cn.url, "vkey": cn.vkey, "cosigner_vkey": cn.cosigner_vkey}
    assert us.api("POST", "/api/v1/peers", json=pin).status_code == 201
    assert us.api("POST", "/api/v1/keys/rotate", json={"reason": "journal test"}).status_code == 201
    assert us.api("DELETE", f"/api/v1/tokens/{officer_id}").status_code == 200

    journal = _journal(us)
    assert journal["verified"] is True and journal["problem"] is None
    rows = journal["entries"]
    assert journal["head"] == {"seq": rows[-1]["seq"], "hash": rows[-1]["hash"]}
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    seen = [(r["actor"], r["role"], r["action"], r["target"], r["outcome"]) for r in rows]
    assert seen[0][2:] == ("detente init", us.origin, "ok")  # the first admin token, made by init
    assert rows[0]["detail"]["token_id"] == admin_id
    assert seen[1:] == [
        (admin_id, "admin", "write", "POST /api/v1/tokens", "ok"),
        (admin_id, "admin", "write", "POST /api/v1/tokens", "ok"),
        (officer_id, "officer", "write", "POST /api/v1/records", "ok"),
        (viewer.split("_")[1], "viewer", "write", "POST /api/v1/records", "403 forbidden"),
        ("0badc0ffee00", "-", "sign-in", "GET /api/v1/status", "401 unauthorized"),
        ("-", "-", "sign-in", "POST /api/v1/records", "401 unauthorized"),
        (admin_id, "admin", "write", "POST /api/v1/peers", "ok"),
        (admin_id, "admin", "write", "POST /api/v1/keys/rotate", "ok"),
        (admin_id, "admin", "write", f"DELETE /api/v1/tokens/{officer_id}", "ok"),
    ]
    assert rows[1]["detail"]["token_id"] == officer_id and rows[1]["detail"]["role"] == "officer"
    assert rows[3]["detail"]["index"] == appended.json()["index"]  # where the record landed
    assert rows[8]["detail"]["vkey"]  # the new key
    # only admins read it
    assert us.api("GET", "/api/v1/journal", token=viewer).status_code == 403
    # the commands that change the node's files directly are journaled too, as local
    assert _cli(us, "peer", "remove", "cn").returncode == 0
    assert _cli(us, "token", "revoke", "ffffffffffff").returncode != 0  # refused, and journaled
    local = _journal(us, since=rows[-1]["at"])["entries"][-2:]
    assert [(r["role"], r["action"], r["target"], r["outcome"]) for r in local] == [
        ("local", "detente peer remove", "cn", "ok"),
        ("local", "detente token revoke", "ffffffffffff", "refused config-error"),
    ]
    assert all(r["actor"].startswith("local") for r in local)
    # exported by the CLI: the same rows, the chain checked
    exported = _cli(us, "journal", "--json")
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert document["verified"] is True and document["entries"][: len(rows)] == rows
    text = _cli(us, "journal", "--since", "1970-01-02")
    assert text.returncode == 0 and f"{officer_id} (officer)  write POST /api/v1/records  ok" in text.stdout
    assert officer.split("_")[2] not in exported.stdout and us.token.split("_")[2] not in exported.stdout  # no secret
    wrong = _cli(us, "journal", "--since", "last tuesday")
    assert wrong.returncode == 2 and "detente: error: --since 'last tuesday' is not a time" in wrong.stderr


def test_a_row_changed_in_the_database_is_reported_by_the_api_and_the_cli(
    make_node: Callable[[str], LocalNode],
) -> None:
    us = make_node("us").start()
    for _ in range(3):
        assert us.api("POST", "/api/v1/records", json=STATEMENT).status_code == 201
    assert _journal(us)["verified"] is True
    _tamper(us, "UPDATE journal SET outcome = '403 forbidden' WHERE seq = 3")  # hide a write
    journal = _journal(us)
    assert journal["verified"] is False and journal["head"] is None
    assert journal["problem"] == "journal row 3 was changed after it was written"
    shown = _cli(us, "journal", "--json")
    assert shown.returncode == 1 and json.loads(shown.stdout)["verified"] is False
    assert json.loads(shown.stderr)["error"]["code"] == "journal-tampered"
    text = _cli(us, "journal")
    assert text.returncode == 1 and "POST /api/v1/records  403 forbidden" in text.stdout  # the rows, as they are
    assert "detente: error: journal row 3 was changed after it was written" in text.stderr
    assert "hint:" in text.stderr and "Traceback" not in text.stderr


def test_a_retried_write_is_answered_once_and_appends_one_record(make_node: Callable[[str], LocalNode]) -> None:
    us = make_node("us").start()
    size = us.status()["size"]
    key = {"Idempotency-Key": '"c7a0d6f4-retry"'}
    first = us.api("POST", "/api/v1/records", json=STATEMENT, headers=key)
    again = us.api("POST", "/api/v1/records", json=STATEMENT, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert us.status()["size"] == size + 1  # one record
    writes = [r for r in _journal(us)["entries"] if r["action"] == "write"]
    assert len(writes) == 1 and writes[0]["detail"]["idempotency_key"] == "c7a0d6f4-retry"  # one row
    # the same key with another body: refused, nothing appended
    other = us.api("POST", "/api/v1/records", json={**STATEMENT, "body": {"text": "else"}}, headers=key)
    assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
    assert other.headers["content-type"].startswith("application/problem+json")
    assert us.status()["size"] == size + 1
    # another token's key of the same name is its own
    officer, _ = _token(us, "officer")
    theirs = us.api("POST", "/api/v1/records", token=officer, json=STATEMENT, headers=key)
    assert theirs.status_code == 201 and theirs.json()["index"] != first.json()["index"]
    # without a key, a second send is a second record
    assert us.api("POST", "/api/v1/records", json=STATEMENT).json()["index"] == theirs.json()["index"] + 1
    # a failed write keeps no key: its retry runs again (here, corrected)
    bad = {"Idempotency-Key": "bad-then-good"}
    failed = us.api("POST", "/api/v1/records", json={"type": "Not A Type"}, headers=bad)
    assert failed.status_code == 422 and failed.json()["code"] != "idempotency-key-reused"
    assert us.api("POST", "/api/v1/records", json=STATEMENT, headers=bad).status_code == 201
    # while the request that first sent a key is being answered (here: one that never finished), 409
    body = json.dumps(STATEMENT).encode()
    fingerprint = hashlib.sha256(b"\0".join([b"POST", b"/api/v1/records", b"", body])).hexdigest()
    admin_id = us.token.split("_")[1]
    empty = "''" if us.store.startswith("postgresql") else "X''"
    _tamper(
        us, f"INSERT INTO idempotency VALUES ('{admin_id}', 'in-flight', '{fingerprint}', {2**40}, NULL, '', {empty})"
    )
    busy = us.api("POST", "/api/v1/records", content=body, headers={"Idempotency-Key": "in-flight"})
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency-key-in-use"
    # a malformed key is refused before anything is done
    refused = us.api("POST", "/api/v1/records", json=STATEMENT, headers={"Idempotency-Key": '"a"b"'})
    assert refused.status_code == 400 and refused.json()["code"] == "malformed"


def test_the_cli_sends_an_idempotency_key_with_each_write(make_node: Callable[[str], LocalNode]) -> None:
    us = make_node("us").start()
    sent = _cli(us, "notice", "send", "statement", "--text", "sent by the CLI")
    assert sent.returncode == 0, sent.stderr
    [row] = [r for r in _journal(us)["entries"] if r["target"] == "POST /api/v1/records"]
    assert row["outcome"] == "ok" and row["detail"]["idempotency_key"].startswith("detente-cli-")
