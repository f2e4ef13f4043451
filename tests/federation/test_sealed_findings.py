"""A sealed record addressed to a node that the node cannot read is a finding, never a silence and
never a crash (issue #24): a hostile peer signs records sealed to ``us`` whose ciphertext it
altered, sealed to a key ``us`` never held, or whose content is not a record's body; ``us`` lists
each in ``/api/v1/status`` and marks it in the inbox, keeps serving, and still reads and indexes
what is sealed properly (a hotline message and an incident report)."""

from __future__ import annotations

import base64
import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hostile_peer import HostilePeer

from detente.crypto.canonical import canonical_json
from detente.crypto.sealing import EncryptionKey, seal_content
from detente.node.localnet import LocalNode, _run_cli
from detente.records.entry import seal_record
from detente.records.record import TLP, Record
from detente.records.seal import Sealed, SealedTo
from detente.records.sealing import ENCRYPTION_KEY, seal_record_content
from detente.records.text import BilingualText, LangText
from detente.store.node_protocol import SealedFindingRow

PG_URL = os.environ.get("DETENTE_TEST_PG", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("DETENTE_REQUIRE_PG") == "1"
HOTLINE = "detente.dev/hotline-message/v1"
INCIDENT = "detente.dev/incident-report/v1"
WAIT = 90.0  # generous: the checks poll, they do not sleep
SECRET = "turbine controller firmware implant at substation 9"
REPORT = {
    "incident_id": "cn-2026-0007",
    "category": "ai-incident",
    "title": {"original": {"lang": "en", "text": "Grid forecasting model poisoned"}},
    "description": {"original": {"lang": "en", "text": f"Found a {SECRET}."}},
    "ai_relation": "model output",
    "submitter": "duty officer",
    "supporting_materials": ["https://example.org/cn/7"],
    "severity": "high",
    "harm_types": ["critical-infrastructure"],
}


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[HostilePeer]:
    peer = HostilePeer(tmp_path / "hostile")
    yield peer
    peer.close()


@pytest.fixture
def victim(make_node: Callable[..., LocalNode], hostile: HostilePeer) -> LocalNode:
    us = make_node("us")
    path = us.directory / "detente.toml"
    path.write_text(re.sub(r"(?m)^sync_interval = .*$", "sync_interval = 0.5", path.read_text()))
    _run_cli(["peer", "add", "cn", hostile.url, "--vkey", hostile.vkey(), "-n", str(us.directory)])
    return us


def _flip(text: str, at: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _log(peer: HostilePeer, record: Record) -> int:
    index = peer.log.size
    peer.log.append([seal_record(record, peer.identity)])
    return index


def _record(peer: HostilePeer, to: str, record_type: str = HOTLINE, body: dict[str, Any] | None = None) -> Record:
    return Record(
        type=record_type,
        party=peer.origin,
        issued=datetime.now(UTC),
        to=(to,),
        tlp=TLP.AMBER,
        body=body if body is not None else {"priority": "flash", "topic": "urgent-concern", "sector": "grid"},
        text=BilingualText(original=LangText(lang="en", text=SECRET)),
    )


def test_sealed_records_that_do_not_open_are_findings_and_the_rest_is_read(victim, hostile, wait) -> None:
    victim.start()
    key_id = victim.api("POST", "/api/v1/keys/encryption").json()["key_id"]
    mine = next(
        r["record"]["body"]
        for r in victim.api("GET", "/api/v1/records", params={"limit": 100}).json()
        if r["record"]["type"] == ENCRYPTION_KEY
    )
    us = victim.origin
    keys = {us: (key_id, base64.b64decode(mine["public_key"]))}

    good = _log(hostile, seal_record_content(_record(hostile, us), keys))
    sealed = seal_record_content(_record(hostile, us), keys)
    assert sealed.sealed is not None
    flipped = sealed.model_copy(
        update={"sealed": sealed.sealed.model_copy(update={"ciphertext": _flip(sealed.sealed.ciphertext, 5)})}
    )
    altered = _log(hostile, flipped)
    stranger = EncryptionKey.generate()  # a key us never held
    unknown = _log(hostile, seal_record_content(_record(hostile, us), {us: (stranger.key_id, stranger.public_bytes())}))
    # A content that decrypts and matches its commitment but is not a record's body and text.
    frame = _record(hostile, us).model_copy(
        update={"body": {"priority": "flash", "topic": "urgent-concern"}, "text": None}
    )
    header = b"detente sealed header v1\n" + canonical_json(
        frame.model_dump(by_alias=True, mode="json", include={"type", "party", "issued", "to", "refs", "tlp"})
    )
    digest, nonce, ciphertext, wrapped = seal_content(b"[1, 2, 3]", [(us, keys[us][1])], header)
    junk = _log(
        hostile,
        frame.model_copy(
            update={
                "sealed": Sealed(
                    suite="hpke-base-x25519-sha256-chacha20poly1305",
                    commitment=digest,
                    nonce=base64.b64encode(nonce).decode(),
                    ciphertext=base64.b64encode(ciphertext).decode(),
                    to=(
                        SealedTo(
                            party=us, key_id=wrapped[0].key_id, wrapped=base64.b64encode(wrapped[0].wrapped).decode()
                        ),
                    ),
                )
            }
        ),
    )
    incident = _log(hostile, seal_record_content(_record(hostile, us, INCIDENT, REPORT), keys))
    bad_incident = seal_record_content(_record(hostile, us, INCIDENT, REPORT | {"incident_id": "cn-2026-0008"}), keys)
    assert bad_incident.sealed is not None
    broken_incident = _log(
        hostile,
        bad_incident.model_copy(update={"sealed": bad_incident.sealed.model_copy(update={"commitment": "0" * 64})}),
    )
    not_a_report = _log(hostile, seal_record_content(_record(hostile, us, INCIDENT, {"incident_id": "cn-9"}), keys))
    size = hostile.log.size
    wait(
        "us mirrors cn",
        lambda: next(p for p in victim.status()["peers"] if p["name"] == "cn")["mirrored_size"] == size,
        WAIT,
    )

    wait("the findings", lambda: len(victim.status()["sealed_findings"]) >= 4, WAIT)
    status = victim.status()
    found = {f["index"]: f for f in status["sealed_findings"] if f["origin"] == hostile.origin}
    assert set(found) - {not_a_report} == {altered, unknown, junk, broken_incident}, status["sealed_findings"]
    assert "does not decrypt" in found[altered]["reason"]
    assert "does not hold" in found[unknown]["reason"]
    assert "not a record's body" in found[junk]["reason"]
    assert "commitment" in found[broken_incident]["reason"]
    assert found[altered]["type"] == HOTLINE and found[altered]["from"] == hostile.origin
    assert all(loop["consecutive_failures"] == 0 for loop in status["loops"].values()), status["loops"]

    inbox = {t["index"]: t for t in victim.api("GET", "/api/v1/inbox").json() if t["origin"] == hostile.origin}
    assert "cannot-open-sealed" in inbox[altered]["findings"] and inbox[altered]["sealed_problem"]
    assert "cannot-open-sealed" not in inbox[good]["findings"] and "sealed_problem" not in inbox[good]

    opened = victim.api("GET", f"/api/v1/records/{hostile.origin}/{good}/open")
    assert opened.status_code == 200 and opened.json()["text"]["original"]["text"] == SECRET
    refused = victim.api("GET", f"/api/v1/records/{hostile.origin}/{altered}/open")
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"

    # The well-sealed incident is indexed at us (its recipient); the broken one is not.
    hits = victim.api("GET", "/api/v1/incidents", params={"q": "substation"}).json()
    assert [(h["incident_id"], h["tlp"]) for h in hits["hits"]] == [("cn-2026-0007", "TLP:AMBER")], hits
    shown = victim.api("GET", "/api/v1/incident", params={"origin": hostile.origin, "id": "cn-2026-0007"})
    assert shown.status_code == 200 and shown.json()["stages"][0]["index"] == incident
    assert (
        victim.api("GET", "/api/v1/incident", params={"origin": hostile.origin, "id": "cn-2026-0008"}).status_code
        == 404
    )
    late = {f["index"]: f["reason"] for f in victim.status()["sealed_findings"] if f["origin"] == hostile.origin}
    assert "does not match its schema" in late[not_a_report]  # found when the incident index opened it

    # The findings are kept in the node store: a restart lists them at once, this one too (only the
    # incident index found it, and that index does not read the record again).
    victim.stop()
    victim.start()
    kept = {f["index"]: f for f in victim.status()["sealed_findings"] if f["origin"] == hostile.origin}
    assert set(kept) == {altered, unknown, junk, broken_incident, not_a_report}, kept
    assert kept[not_a_report]["reason"] == late[not_a_report] and kept[altered]["type"] == HOTLINE
    inbox = {t["index"]: t for t in victim.api("GET", "/api/v1/inbox").json() if t["origin"] == hostile.origin}
    assert "cannot-open-sealed" in inbox[altered]["findings"]


def _node_store(kind: str, tmp_path: Path) -> Any:
    if kind == "sqlite":
        from detente.store.sqlite_node import SQLiteNodeStore

        return SQLiteNodeStore(tmp_path / "node.db", create=True)
    import psycopg

    from detente.store.postgres_node import PostgresNodeStore

    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        if REQUIRE_PG:
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    return PostgresNodeStore(PG_URL, schema=f"f_findings_{uuid.uuid4().hex[:10]}", create=True)


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_findings_kept_are_bounded_to_the_most_recently_noted(kind: str, tmp_path: Path) -> None:
    store = _node_store(kind, tmp_path)
    try:
        for i in range(7):
            store.note_sealed_finding(SealedFindingRow("cn", i, f"bad {i}", HOTLINE, "cn", "TLP:AMBER", 10 + i), keep=4)
        store.note_sealed_finding(SealedFindingRow("cn", 3, "worse", None, None, None, 100), keep=4)  # again: newest
        store.note_sealed_finding(SealedFindingRow("cn", 7, "bad 7", None, None, None, 101), keep=4)
        rows = store.sealed_findings()
        assert [(r.index, r.reason) for r in rows] == [(3, "worse"), (5, "bad 5"), (6, "bad 6"), (7, "bad 7")]
    finally:
        store.close()
        if kind == "postgres":
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {store.s} CASCADE")


def test_the_console_says_what_the_finding_means_in_both_languages() -> None:
    import json

    import detente.console

    strings = json.loads((Path(detente.console.__file__).parent / "static" / "i18n.json").read_text())
    for lang in ("en", "zh"):
        assert "sealed_findings" in strings[lang]["finding.cannot-open-sealed"]
