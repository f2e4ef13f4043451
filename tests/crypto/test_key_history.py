"""The pure rules of log-key rotation and revocation (``detente.records.keys``), and a sync that
follows them against a working in-process log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detente.crypto.keys import SIG_COSIGNATURE_V1, Ed25519Identity, VerifierKey
from detente.errors import MalformedRecord, UnknownKey, VerificationError
from detente.node.sync import Fork, sync_peer
from detente.node.tilelog import TileLog
from detente.records.catalogue import validate_record
from detente.records.entry import seal_record
from detente.records.keys import KEY_REVOCATION, KEY_ROTATION, KeyHistory, parse_time
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore

ORIGIN = "us.detente.example/log"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _rotation(vkey: VerifierKey, party: str = ORIGIN) -> Record:
    return Record(type=KEY_ROTATION, party=party, issued=NOW, body={"vkey": str(vkey)})


def _revocation(vkey: VerifierKey, last_index: int) -> Record:
    body = {"vkey": str(vkey), "effective": "2026-11-30T00:00:00Z", "last_index": last_index, "reason": "stolen"}
    return Record(type=KEY_REVOCATION, party=ORIGIN, issued=NOW, body=body)


def _statement(text: str) -> Record:
    return Record(type="detente.dev/statement/v1", party=ORIGIN, issued=NOW, body={"text": text})


def test_the_key_in_force_follows_rotation_records() -> None:
    k0, k1, k2 = (Ed25519Identity.generate(ORIGIN).vkey() for _ in range(3))
    history = KeyHistory(k0)
    assert history.apply(0, _statement("x")) is None
    history.apply(3, _rotation(k1))
    history.apply(7, _rotation(k2))
    assert [history.key_at(j) for j in (0, 3, 4, 7, 8, 100)] == [k0, k0, k1, k1, k2, k2]
    assert history.keys == (k0, k1, k2) and history.current == k2
    assert history.span(k1) == (4, 7)
    assert history.span(k2) == (8, None)
    again = KeyHistory(k0, history.events)  # what a node or auditor keeps rebuilds the same history
    assert [again.key_at(j) for j in range(10)] == [history.key_at(j) for j in range(10)]


def test_rotation_records_that_must_be_refused() -> None:
    k0, k1 = Ed25519Identity.generate(ORIGIN).vkey(), Ed25519Identity.generate(ORIGIN).vkey()
    other = Ed25519Identity.generate("cn.detente.example/log").vkey()
    history = KeyHistory(k0)
    with pytest.raises(VerificationError, match="names a key for"):
        history.apply(1, _rotation(other))
    with pytest.raises(VerificationError, match="used before"):
        history.apply(1, _rotation(k0))
    with pytest.raises(MalformedRecord):
        history.apply(1, _rotation(Ed25519Identity.generate(ORIGIN).cosigner_vkey()))  # a witness key
    with pytest.raises(MalformedRecord):
        history.apply(1, _rotation(k1, party="cn.detente.example/log"))
    with pytest.raises(MalformedRecord):
        history.apply(1, Record(type=KEY_ROTATION, party=ORIGIN, issued=NOW, body={"vkey": str(k1), "x": 1}))
    history.apply(5, _rotation(k1))
    with pytest.raises(VerificationError, match="is not after"):
        history.apply(3, _rotation(Ed25519Identity.generate(ORIGIN).vkey()))
    assert history.keys == (k0, k1)


def test_revocation_rules() -> None:
    k0, k1, k2 = (Ed25519Identity.generate(ORIGIN).vkey() for _ in range(3))
    history = KeyHistory(k0)
    with pytest.raises(VerificationError, match="rotate first"):
        history.apply(2, _revocation(k0, 1))  # not the key in force
    history.apply(4, _rotation(k1))
    with pytest.raises(VerificationError, match="never used"):
        history.apply(6, _revocation(k2, 1))
    with pytest.raises(VerificationError, match="not logged before it"):
        history.apply(6, _revocation(k0, 6))
    event, disowned = history.apply(6, _revocation(k0, 1)) or (None, None)
    assert event is not None and event.last_index == 1 and event.kind == "revocation"
    assert disowned is not None and (disowned.first, disowned.last, disowned.key) == (2, 3, k0)
    assert not history.revoked_at(k0, 4)  # the rotation record stays vouched for
    assert history.revoked_at(k0, 5)
    assert history.revoked_keys(5) == [k0] and history.revoked_keys(4) == []


def test_open_entry_at_a_position_and_telling_a_revoked_signer() -> None:
    i0, i1 = Ed25519Identity.generate(ORIGIN), Ed25519Identity.generate(ORIGIN)
    history = KeyHistory(i0.vkey())
    history.apply(1, _rotation(i1.vkey()))
    old = seal_record(_statement("old"), i0)
    new = seal_record(_statement("new"), i1)
    assert history.open_entry(old, 1).record.body == {"text": "old"}
    assert history.open_entry(new, 2).record.body == {"text": "new"}
    with pytest.raises(UnknownKey):
        history.open_entry(old, 2)  # the old key is not in force there
    with pytest.raises(UnknownKey):
        history.open_entry(new, 1)
    assert history.revoked_signer(old, 2) is None  # not revoked: a plain refusal
    history.apply(3, _revocation(i0.vkey(), 0))
    assert history.revoked_signer(old, 4) == i0.vkey()


def test_the_bodies_are_catalogued_and_strict() -> None:
    k = Ed25519Identity.generate(ORIGIN).vkey()
    validate_record(_rotation(k))
    validate_record(_revocation(k, -1))
    with pytest.raises(MalformedRecord):
        validate_record(_revocation(k, -2))
    with pytest.raises(MalformedRecord):
        validate_record(Record(type=KEY_ROTATION, party=ORIGIN, issued=NOW, body={"vkey": "not a key"}))
    assert parse_time("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(MalformedRecord):
        parse_time("2026-01-01T00:00:00")


def test_a_cosigner_key_follows_its_log_key() -> None:
    ident = Ed25519Identity.generate(ORIGIN)
    assert ident.vkey().as_cosigner() == ident.cosigner_vkey()
    assert ident.cosigner_vkey().sig_type == SIG_COSIGNATURE_V1


class _LogClient:
    """A peer's log served from a working TileLog (what PeerClient fetches over HTTP)."""

    def __init__(self, log: TileLog, note: bytes | None = None) -> None:
        self.log, self.note = log, note

    def checkpoint(self) -> bytes:
        return self.note or self.log.signed_checkpoint()

    def entries(self, start: int, end: int) -> list[bytes]:
        return self.log.entries(start, end)

    def iter_entries(self, start: int, end: int) -> Any:
        return enumerate(self.log.entries(start, end), start)

    def fetch_nodes(self, size: int) -> Any:
        return self.log._fetch


def _logs(tmp_path: Path, ident: Ed25519Identity) -> tuple[TileLog, TileLog]:
    source = TileLog.create(SQLiteStore(tmp_path / "us.db", create=True), ident)
    mirror = TileLog.mirror(SQLiteStore(tmp_path / "cn.db", create=True), ident.vkey())
    return source, mirror


def test_sync_follows_a_rotation_and_refuses_an_unannounced_key(tmp_path: Path) -> None:
    i0, i1 = Ed25519Identity.generate(ORIGIN), Ed25519Identity.generate(ORIGIN)
    source, mirror = _logs(tmp_path, i0)
    source.append([seal_record(_statement("a"), i0)])
    rotation = seal_record(_rotation(i1.vkey()), i0)
    source.schedule_rotation(rotation, i1)
    source.append([seal_record(_statement("b"), i0), rotation])
    assert source.keys == (i0.vkey(), i1.vkey())
    source.append([seal_record(_statement("c"), i1)])

    learned: list[Any] = []
    forks: list[Fork] = []
    result = sync_peer(mirror, i0.vkey(), _LogClient(source), forks.append, lambda h, e: learned.append(e))
    assert (result.size, forks) == (4, [])
    assert [e.vkey for e in learned[0]] == [str(i1.vkey())] and learned[0][0].index == 2
    assert mirror.keys == (i0.vkey(), i1.vkey())

    stranger = Ed25519Identity.generate(ORIGIN)  # same name, never announced
    forged = TileLog(source.store, ORIGIN, [i1.vkey()], identity=stranger)
    forged.append([seal_record(_statement("d"), i1)])
    history = KeyHistory(i0.vkey(), learned[0])
    with pytest.raises(UnknownKey, match="no signature on the note is from a trusted key"):
        sync_peer(mirror, history, _LogClient(forged), forks.append)
    assert mirror.refresh().size == 4 and forks == []


def test_a_checkpoint_signed_by_the_old_key_after_a_rotation_is_refused(tmp_path: Path) -> None:
    i0, i1 = Ed25519Identity.generate(ORIGIN), Ed25519Identity.generate(ORIGIN)
    source, mirror = _logs(tmp_path, i0)
    rotation = seal_record(_rotation(i1.vkey()), i0)
    # the holder of the old key alone cannot make the rotation take: its checkpoint must be signed by i1
    source.append([rotation])
    with pytest.raises(UnknownKey):
        sync_peer(mirror, i0.vkey(), _LogClient(source), lambda f: None)
    assert mirror.refresh().size == 0
