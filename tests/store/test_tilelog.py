"""TileLog over every store driver: durable batches, proofs, entries, CAS between writers."""

from __future__ import annotations

import threading

import pytest

from detente.crypto.keys import Ed25519Identity
from detente.crypto.note_verifiers import verifier_for
from detente.errors import InclusionError, LogNotFound, StorageError, UnknownKey
from detente.node.audit import audit_log
from detente.node.tilelog import TileLog
from detente.tlog.checkpoint import open_checkpoint
from detente.tlog.compact import CompactRange
from detente.tlog.hashing import leaf_hash
from detente.tlog.proofs import verify_consistency, verify_inclusion
from detente.tlog.tiles import decode_entry_bundle

IDENT = Ed25519Identity.from_seed("party.example/log", bytes(range(32)))


def _entries(start: int, n: int) -> list[bytes]:
    return [b"entry %d " % i + b"x" * (i % 97) for i in range(start, start + n)]


def _root(entries: list[bytes]) -> bytes:
    cr = CompactRange()
    for e in entries:
        cr.append(leaf_hash(e))
    return cr.root()


def test_append_publishes_a_verifiable_checkpoint_and_proofs(store) -> None:
    log = TileLog.create(store, IDENT)
    assert log.size == 0
    written: list[bytes] = []
    sizes = [1, 255, 1, 300, 700, 3]
    checkpoints = []
    for n in sizes:
        batch = _entries(len(written), n)
        res = log.append(batch)
        assert res.first_index == len(written)
        written += batch
        cp = open_checkpoint(log.signed_checkpoint(), [verifier_for(IDENT.vkey())], origin=IDENT.name)
        assert cp.checkpoint.size == len(written)
        assert cp.checkpoint.root == _root(written)
        checkpoints.append(cp.checkpoint)
    assert log.entries(0, len(written)) == written
    for i in (0, 1, 255, 256, 511, 1000, len(written) - 1):
        verify_inclusion(leaf_hash(written[i]), i, log.size, log.inclusion_proof(i), log.checkpoint.root)
    for old in checkpoints:
        verify_consistency(old.size, log.size, old.root, log.checkpoint.root, log.consistency_proof(old.size))
        # proofs at an older size use tiles that have since grown
        verify_inclusion(leaf_hash(written[0]), 0, old.size, log.inclusion_proof(0, old.size), old.root)


def test_audit_verifies_every_record_and_the_root(store) -> None:
    from datetime import UTC, datetime

    from detente.records.entry import seal_record
    from detente.records.record import Record

    log = TileLog.create(store, IDENT)
    now = datetime(2026, 11, 26, tzinfo=UTC)
    records = [Record(type="detente.dev/statement/v1", party=IDENT.name, issued=now, body={"n": i}) for i in range(300)]
    log.append([seal_record(r, IDENT) for r in records])
    log.append([b"not a record"])
    report = audit_log(log)
    assert report.records == 300
    assert report.size == 301
    assert report.failures == ["entry 300: DSSE envelope is not valid JSON: Expecting value: line 1 column 1 (char 0)"]
    assert not report.ok


def test_serves_c2sp_tiles_for_current_and_older_sizes(store) -> None:
    log = TileLog.create(store, IDENT)
    first = _entries(0, 100)
    log.append(first)
    log.append(_entries(100, 200))
    assert len(log.tile(0, 0)) == 256 * 32
    assert log.tile(0, 0, 100) == b"".join(leaf_hash(e) for e in first)
    assert decode_entry_bundle(log.tile(-1, 0, 100)) == first
    assert decode_entry_bundle(log.tile(-1, 1, 44)) == _entries(256, 44)
    with pytest.raises(LogNotFound):
        log.tile(0, 1, 45)  # beyond the checkpointed size
    with pytest.raises(LogNotFound):
        log.tile(1, 0, 2)


def test_proofs_beyond_the_checkpoint_are_refused(store) -> None:
    log = TileLog.create(store, IDENT)
    log.append(_entries(0, 10))
    with pytest.raises(InclusionError):
        log.inclusion_proof(3, 11)
    with pytest.raises(InclusionError):
        log.inclusion_proof(10)


def test_read_only_log_cannot_append(store) -> None:
    TileLog.create(store, IDENT).append(_entries(0, 3))
    reader = TileLog(store, IDENT.name, [IDENT.vkey()])
    assert reader.size == 3
    with pytest.raises(LogNotFound):
        reader.append([b"x"])


def test_a_checkpoint_signed_by_another_key_is_refused(store) -> None:
    TileLog.create(store, IDENT).append(_entries(0, 3))
    other = Ed25519Identity.from_seed(IDENT.name, bytes(32))
    with pytest.raises(UnknownKey):
        TileLog(store, IDENT.name, [other.vkey()])


def test_two_writers_never_fork_the_log(store_factory) -> None:
    a = TileLog.create(store_factory(), IDENT)
    b = TileLog.create(store_factory(), IDENT)
    seen = []
    errors: list[BaseException] = []

    def writer(log: TileLog, tag: bytes) -> None:
        try:
            for i in range(15):
                res = log.append([tag + b"%d-%d" % (i, j) for j in range(17)])
                seen.append(res.checkpoint)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(a, b"a")),
        threading.Thread(target=writer, args=(b, b"b")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = a.refresh()
    assert final.size == 2 * 15 * 17
    entries = a.entries(0, final.size)
    assert len(set(entries)) == len(entries)  # nothing lost, nothing duplicated
    assert _root(entries) == final.root
    by_size = {}
    for cp in seen:
        assert by_size.setdefault(cp.size, cp.root) == cp.root  # no two roots for one size
        verify_consistency(cp.size, final.size, cp.root, final.root, a.consistency_proof(cp.size))


def test_audit_detects_an_entry_altered_in_the_store(tmp_path) -> None:
    import sqlite3

    from detente.errors import VerificationError
    from detente.store.sqlite import SQLiteStore

    path = tmp_path / "log.db"
    log = TileLog.create(SQLiteStore(path, create=True), IDENT)
    log.append(_entries(0, 10))
    with sqlite3.connect(path) as conn:
        blob = conn.execute("SELECT data FROM tiles WHERE level = -1").fetchone()[0]
        conn.execute("UPDATE tiles SET data = ? WHERE level = -1", (blob.replace(b"entry 3", b"entry 4"),))
    with pytest.raises(VerificationError):
        audit_log(log)


def test_store_out_of_step_with_its_checkpoint_fails_closed(tmp_path) -> None:
    import sqlite3

    from detente.store.sqlite import SQLiteStore

    path = tmp_path / "log.db"
    log = TileLog.create(SQLiteStore(path, create=True), IDENT)
    log.append(_entries(0, 10))
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM tiles WHERE level = 0")
    with pytest.raises(StorageError):
        log.append(_entries(10, 1))


def test_sequencer_groups_concurrent_appends_into_durable_batches(store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from detente.node.sequencer import Sequencer

    log = TileLog.create(store, IDENT)
    seq = Sequencer(log, max_batch=64, max_wait=0.02)
    entries = _entries(0, 400)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(seq.add, entries))
    seq.close()
    assert sorted(r.index for r in results) == list(range(400))
    assert seq.batches < 400  # grouped, not one commit per entry
    final = log.refresh()
    stored = log.entries(0, final.size)
    for entry, r in zip(entries, results, strict=True):
        assert stored[r.index] == entry
        assert r.leaf_hash == leaf_hash(entry)
        assert r.checkpoint.size > r.index
        verify_inclusion(r.leaf_hash, r.index, final.size, log.inclusion_proof(r.index), final.root)


def test_sequencer_refuses_an_oversized_entry_alone(store) -> None:
    from detente.errors import EntryTooLarge
    from detente.node.sequencer import Sequencer

    log = TileLog.create(store, IDENT)
    seq = Sequencer(log, max_batch=10, max_wait=0.05)
    good = seq.submit(b"fine")
    with pytest.raises(EntryTooLarge):
        seq.submit(b"x" * 70_000)
    assert good.result(10).index == 0
    seq.close()
    assert log.refresh().size == 1
    assert log.entry(0) == b"fine"


def test_sequencer_reports_a_failed_batch_to_every_waiter(tmp_path) -> None:
    import sqlite3

    from detente.node.sequencer import Sequencer
    from detente.store.sqlite import SQLiteStore

    path = tmp_path / "log.db"
    log = TileLog.create(SQLiteStore(path, create=True), IDENT)
    log.append(_entries(0, 5))
    with sqlite3.connect(path) as conn:  # break the store under the log
        conn.execute("DELETE FROM tiles WHERE level = 0")
    seq = Sequencer(log, max_batch=10, max_wait=0.05)
    futures = [seq.submit(e) for e in _entries(5, 3)]
    for fut in futures:
        with pytest.raises(StorageError):
            fut.result(10)
    seq.close()
    assert log.refresh().size == 5


def test_an_entry_at_or_past_the_size_is_an_inclusion_error_not_an_index_error(store) -> None:
    log = TileLog.create(store, IDENT)
    with pytest.raises(InclusionError, match=r"entry 0 is not in .* \(size 0\)") as empty:
        log.entry(0)
    assert empty.value.hint == "the log is empty"
    log.append(_entries(0, 3))
    assert log.entry(2) == _entries(2, 1)[0]
    for index in (3, -1):
        with pytest.raises(InclusionError, match=rf"entry {index} is not in .* \(size 3\)") as past:
            log.entry(index)
        assert past.value.hint == "entries are numbered from 0 to 2"
