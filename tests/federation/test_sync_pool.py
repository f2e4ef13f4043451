"""A sync that verifies a backlog on worker processes (``detente.node.verify_pool``) decides
exactly as one that opens every entry in process: the same records in the same order, the same
key events and alarms, and a bad entry anywhere fails the whole sync with nothing mirrored.

Real SQLite logs, real Ed25519 signatures, real worker processes (small chunks, so that a backlog
of a few hundred entries spans many chunks and a rotation falls inside the pool's window)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from detente.crypto.dsse import Ed25519DSSESigner, sign_envelope
from detente.crypto.keys import Ed25519Identity
from detente.errors import SyncBudgetExceeded, VerificationError
from detente.node.sync import Fork, SyncResult, sync_peer
from detente.node.tilelog import TileLog
from detente.node.verify_pool import VerifyPool
from detente.records.entry import RECORD_PAYLOAD_TYPE, seal_record
from detente.records.keys import KEY_REVOCATION, KEY_ROTATION, KeyHistory
from detente.records.record import Record
from detente.store.sqlite import SQLiteStore

ORIGIN = "us.detente.example/log"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pool() -> Iterator[VerifyPool]:
    verify = VerifyPool(2, min_entries=16, chunk=8, window=3)
    yield verify
    verify.close()


def _statement(n: int, party: str = ORIGIN) -> Record:
    return Record(type="detente.dev/statement/v1", party=party, issued=NOW, body={"text": f"statement {n}"})


class _LogClient:
    """A peer's log served from a working TileLog (what PeerClient fetches over HTTP)."""

    def __init__(self, log: TileLog) -> None:
        self.log = log

    def checkpoint(self) -> bytes:
        return self.log.signed_checkpoint()

    def iter_entries(self, start: int, end: int) -> Any:
        return enumerate(self.log.entries(start, end), start)

    def fetch_nodes(self, size: int) -> Any:
        return self.log._fetch


def _mirror(tmp_path: Path, name: str, ident: Ed25519Identity) -> TileLog:
    return TileLog.mirror(SQLiteStore(tmp_path / f"{name}.db", create=True), ident.vkey())


def _sync(mirror: TileLog, keys: Any, source: TileLog, pool: VerifyPool | None, **kw: Any) -> tuple[SyncResult, list]:
    forks: list[Fork] = []
    learned: list[Any] = []
    result = sync_peer(mirror, keys, _LogClient(source), forks.append, lambda h, e: learned.append(e), pool=pool, **kw)
    return result, [forks, learned]


def _rotated_log(tmp_path: Path) -> tuple[TileLog, Ed25519Identity, Ed25519Identity]:
    """0..99 signed by i0, a rotation at 100, 101..299 signed by i1, then a revocation of i0 at
    300 that disowns 90..99 (vouching for 0..89), and 301..349 signed by i1."""
    i0, i1 = Ed25519Identity.generate(ORIGIN), Ed25519Identity.generate(ORIGIN)
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    source.append([seal_record(_statement(n), i0) for n in range(100)])
    rotation = seal_record(Record(type=KEY_ROTATION, party=ORIGIN, issued=NOW, body={"vkey": str(i1.vkey())}), i0)
    source.schedule_rotation(rotation, i1)
    source.append([rotation])
    source.append([seal_record(_statement(n), i1) for n in range(101, 300)])
    body = {"vkey": str(i0.vkey()), "effective": "2026-11-30T00:00:00Z", "last_index": 89, "reason": "stolen"}
    source.append([seal_record(Record(type=KEY_REVOCATION, party=ORIGIN, issued=NOW, body=body), i1)])
    source.append([seal_record(_statement(n), i1) for n in range(301, 350)])
    return source, i0, i1


def test_a_backlog_with_a_rotation_and_a_revocation_verifies_and_mirrors_as_in_process(
    tmp_path: Path, pool: VerifyPool
) -> None:
    source, i0, _ = _rotated_log(tmp_path)
    mirror = _mirror(tmp_path, "pooled", i0)
    before = pool.by_workers
    pooled, [forks, learned] = _sync(mirror, i0.vkey(), source, pool)
    # the workers opened most entries; those sent before a key event was applied were opened again here
    assert 350 - 2 * 3 * 8 <= pool.by_workers - before < 350
    plain, [plain_forks, plain_learned] = _sync(_mirror(tmp_path, "plain", i0), i0.vkey(), source, None)

    assert (pooled.old_size, pooled.size, pooled.records) == (0, 350, 350)
    assert [o.record for o in pooled.opened] == [o.record for o in plain.opened]  # same records, log order
    assert [o.leaf_hash for o in pooled.opened] == [o.leaf_hash for o in plain.opened]
    assert [o.envelope for o in pooled.opened] == [o.envelope for o in plain.opened]
    assert [o.record.body.get("text") for o in pooled.opened[:3]] == ["statement 0", "statement 1", "statement 2"]
    assert pooled.key_events == plain.key_events and [e.index for e in pooled.key_events] == [100, 300]
    assert learned == plain_learned
    assert [(f.kind, f.detail) for f in forks] == [(f.kind, f.detail) for f in plain_forks]
    assert len(forks) == 1 and "entries 90..99" in forks[0].detail
    assert mirror.refresh().root == source.refresh().root and mirror.entries(0, 350) == source.entries(0, 350)


def test_a_later_sync_after_the_rotation_uses_the_new_key_on_the_workers(tmp_path: Path, pool: VerifyPool) -> None:
    source, i0, i1 = _rotated_log(tmp_path)
    mirror = _mirror(tmp_path, "m", i0)
    _, [_, learned] = _sync(mirror, i0.vkey(), source, pool)
    source.append([seal_record(_statement(n), i1) for n in range(350, 400)])
    before = pool.by_workers
    second, [forks, _] = _sync(mirror, KeyHistory(i0.vkey(), learned[0]), source, pool)
    assert pool.by_workers - before == 50  # every entry, with the key the earlier sync learned
    assert (second.old_size, second.size, forks) == (350, 400, [])
    assert [o.record.body["text"] for o in second.opened] == [f"statement {n}" for n in range(350, 400)]


def test_a_small_sync_onto_a_large_mirror_stays_in_process(tmp_path: Path, pool: VerifyPool) -> None:
    # the pool's threshold counts the new entries, not the mirror's size
    i0 = Ed25519Identity.generate(ORIGIN)
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    source.append([seal_record(_statement(n), i0) for n in range(300)])
    mirror = _mirror(tmp_path, "m", i0)
    _sync(mirror, i0.vkey(), source, pool)
    source.append([seal_record(_statement(n), i0) for n in range(300, 305)])  # 5 < min_entries (16)
    before = pool.by_workers
    result, _ = _sync(mirror, i0.vkey(), source, pool)
    assert (result.old_size, result.size, pool.by_workers - before) == (300, 305, 0)


@pytest.mark.parametrize("bad", [0, 5, 8, 99, 101, 250, 349])
def test_one_bad_signature_anywhere_fails_the_whole_sync(tmp_path: Path, pool: VerifyPool, bad: int) -> None:
    i0 = Ed25519Identity.generate(ORIGIN)
    stranger = Ed25519Identity.generate(ORIGIN)  # same name, never announced: its signatures do not verify
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    source.append([seal_record(_statement(n), stranger if n == bad else i0) for n in range(350)])
    mirror = _mirror(tmp_path, "m", i0)
    with pytest.raises(VerificationError, match=f"entry {bad} of "):
        _sync(mirror, i0.vkey(), source, pool)
    assert mirror.refresh().size == 0
    assert TileLog.mirror(SQLiteStore(tmp_path / "m.db"), i0.vkey()).refresh().size == 0


def test_a_record_of_another_party_fails_the_whole_sync(tmp_path: Path, pool: VerifyPool) -> None:
    i0 = Ed25519Identity.generate(ORIGIN)
    other = Ed25519Identity.generate("cn.detente.example/log")
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    entries = [seal_record(_statement(n), i0) for n in range(200)]
    entries[150] = seal_record(_statement(150, party=other.name), other)
    source.append(entries)
    mirror = _mirror(tmp_path, "m", i0)
    with pytest.raises(VerificationError, match="entry 150 of "):
        _sync(mirror, i0.vkey(), source, pool)
    assert mirror.refresh().size == 0


def _signed(payload: bytes, ident: Ed25519Identity, payload_type: str = RECORD_PAYLOAD_TYPE) -> bytes:
    """An entry signed by ``ident`` around any payload (``seal_record`` refuses what these tests need)."""
    return sign_envelope(payload_type, payload, [Ed25519DSSESigner(ident)]).to_json()


@pytest.mark.parametrize(
    ("payload", "payload_type", "error"),
    [
        (_statement(170, party="cn.detente.example/log").to_json(), RECORD_PAYLOAD_TYPE, "claims party 'cn.detente"),
        (b'{"type":"detente.dev/statement/v1"}', RECORD_PAYLOAD_TYPE, "record"),
        (_statement(170).to_json().replace(b'"party"', b'"party":"x","party"'), RECORD_PAYLOAD_TYPE, "duplicate key"),
        (_statement(170).to_json(), "application/json", "unexpected DSSE payload type"),
    ],
    ids=["another-party", "not-a-record", "duplicate-key", "another-payload-type"],
)
def test_an_entry_the_logs_own_key_signed_but_that_does_not_open_fails_the_whole_sync(
    tmp_path: Path, pool: VerifyPool, payload: bytes, payload_type: str, error: str
) -> None:
    # the signature verifies on the worker; the payload type (there), the record's parse and its
    # party (in the sync) refuse the entry
    i0 = Ed25519Identity.generate(ORIGIN)
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    entries = [seal_record(_statement(n), i0) for n in range(200)]
    entries[170] = _signed(payload, i0, payload_type)
    source.append(entries)
    mirror = _mirror(tmp_path, "m", i0)
    with pytest.raises(VerificationError, match=f"entry 170 of .*{error}"):
        _sync(mirror, i0.vkey(), source, pool)
    assert mirror.refresh().size == 0


def test_the_byte_budget_still_holds_with_workers(tmp_path: Path, pool: VerifyPool) -> None:
    i0 = Ed25519Identity.generate(ORIGIN)
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    source.append([seal_record(_statement(n), i0) for n in range(300)])
    mirror = _mirror(tmp_path, "m", i0)
    with pytest.raises(SyncBudgetExceeded):
        _sync(mirror, i0.vkey(), source, pool, max_bytes=100 * len(source.entries(0, 1)[0]))
    assert mirror.refresh().size == 0
    result, _ = _sync(mirror, i0.vkey(), source, pool)  # the pool is still usable after a failed sync
    assert result.size == 300


def test_a_closed_pool_verifies_in_process(tmp_path: Path) -> None:
    i0 = Ed25519Identity.generate(ORIGIN)
    source = TileLog.create(SQLiteStore(tmp_path / "source.db", create=True), i0)
    source.append([seal_record(_statement(n), i0) for n in range(40)])
    closed = VerifyPool(2, min_entries=1, chunk=8)
    closed.close()
    result, _ = _sync(_mirror(tmp_path, "m", i0), i0.vkey(), source, closed)
    assert (
        result.size == 40
        and closed.by_workers == 0
        and [o.record.body["text"] for o in result.opened][-1] == "statement 39"
    )


_ORPHAN = """
import os, sys
from detente.crypto.dsse import Ed25519DSSESigner, sign_envelope
from detente.crypto.keys import Ed25519Identity
from detente.node.verify_pool import VerifyPool
from detente.records.entry import RECORD_PAYLOAD_TYPE, seal_record
from detente.records.keys import KeyHistory
from detente.records.record import Record
from datetime import UTC, datetime

if __name__ == "__main__":
    ident = Ed25519Identity.generate("us.detente.example/log")
    issued = datetime(2026, 12, 1, tzinfo=UTC)
    records = [Record(type="detente.dev/statement/v1", party=ident.name, issued=issued, body={"text": str(n)}) for n in range(64)]
    entries = [seal_record(r, ident) for r in records]
    pool = VerifyPool(2, min_entries=1, chunk=8)
    opened = [pre for _, _, pre in pool.open_entries(KeyHistory(ident.vkey()), enumerate(entries), len(entries))]
    assert all(pre is not None for pre in opened[-8:])
    print(" ".join(str(pid) for pid in pool._executor._processes), flush=True)
    os._exit(0)  # as if killed: the pool is never closed
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_workers_exit_when_their_node_process_dies_without_closing_the_pool(tmp_path: Path) -> None:
    script = tmp_path / "orphan.py"
    script.write_text(_ORPHAN)
    out = tmp_path / "pids.txt"
    with out.open("w") as stdout:  # a file, not a pipe: orphaned workers would hold a pipe open
        subprocess.run([sys.executable, str(script)], stdout=stdout, check=True)
    pids = [int(p) for p in out.read_text().split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 120  # each worker checks its parent every second
    while any(_alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"verify workers {pids} outlived their process"
        time.sleep(0.2)
